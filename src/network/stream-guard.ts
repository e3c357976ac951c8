/**
 * A guard in front of libp2p's own protocols (identify, ping, the DHT),
 * which take no length decoder and some no size cap: it watches the bytes
 * a stream delivers, in both directions of use (streams we open and streams
 * we accept), and aborts the stream as soon as they break the protocol's
 * limits, before the protocol has buffered them.
 *
 * Why it is needed (read from the sources of @libp2p/utils 7, identify 4,
 * ping 3, kad-dht 16): their readers use lpStream with uint8-varint's
 * decoder, which throws a RangeError for a prefix of more than 8
 * continuation bytes that lpStream takes for "incomplete, read on", so a
 * length prefix that never ends is kept byte by byte (over 100 bytes of heap
 * per byte) until the protocol's timeout: 5 s for identify, 10 s for each
 * DHT message. The DHT reads with no maxDataLength at all (a 2^31-byte
 * prefix is read until the 4 MiB read buffer overflows, on each of 32
 * streams a connection may open), and ping echoes whatever it is sent for
 * 10 s.
 *
 * It hooks in where libp2p hands every protocol stream to the node's
 * Metrics (see guardedMetrics) and wraps the stream's dispatchEvent, as the
 * traffic meter does, rather than adding a 'message' listener, which would
 * make the stream hand out data before its reader is attached.
 */
import { varintLength } from '../../protocols/shared/length-prefix.js'
import type { Logger, Metrics, Stream } from '@libp2p/interface'

export interface StreamLimits {
  /**
   * Messages are varint length-prefixed and at most this many bytes; a
   * longer prefix or a larger length aborts the stream. Unset: the stream
   * is not framed (ping), only `maxStreamBytes` applies.
   */
  maxMessageBytes?: number
  /** bytes the stream may deliver in all (unset: no total) */
  maxStreamBytes?: number
}

/** Why a guarded stream was aborted. */
export class StreamLimitError extends Error {
  override readonly name = 'StreamLimitError'
}

/**
 * Follows the length-prefixed frames of a byte stream as it arrives and
 * says what is wrong with it, if anything; holds no bytes, only counters.
 */
export class FrameWatcher {
  private total = 0
  /** bytes of the current message still to come; -1 while a prefix is read */
  private remaining = -1
  private prefixBytes = 0
  private prefixValue = 0
  private prefixFactor = 1
  private readonly maxPrefixBytes: number

  constructor (private readonly limits: StreamLimits) {
    this.maxPrefixBytes = limits.maxMessageBytes == null ? 0 : varintLength(limits.maxMessageBytes)
  }

  /** the next bytes delivered; a message naming the broken limit, or undefined */
  push (bytes: { byteLength: number, get?: (i: number) => number, subarray?: (start?: number, end?: number) => Uint8Array }): string | undefined {
    this.total += bytes.byteLength
    if (this.limits.maxStreamBytes != null && this.total > this.limits.maxStreamBytes) {
      return `more than ${this.limits.maxStreamBytes} bytes on one stream`
    }
    const max = this.limits.maxMessageBytes
    if (max == null) return undefined
    const view = bytes.subarray != null ? bytes.subarray() : undefined
    const at = (i: number): number => view != null ? view[i] : (bytes.get as (i: number) => number)(i)
    let i = 0
    while (i < bytes.byteLength) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, bytes.byteLength - i)
        this.remaining -= take
        i += take
        continue
      }
      // a new prefix, or the rest of one
      const byte = at(i++)
      this.prefixBytes++
      if (this.prefixBytes > this.maxPrefixBytes) {
        return `a length prefix longer than ${this.maxPrefixBytes} bytes (a message of at most ${max} bytes needs no more)`
      }
      this.prefixValue += (byte & 0x7f) * this.prefixFactor
      this.prefixFactor *= 0x80
      if (byte >= 0x80) continue
      if (this.prefixValue > max) return `a message of ${this.prefixValue} bytes, more than the ${max} accepted`
      this.remaining = this.prefixValue
      this.prefixBytes = 0
      this.prefixValue = 0
      this.prefixFactor = 1
    }
    return undefined
  }
}

/** Aborts `stream` once what it delivers breaks `limits`; the offending bytes never reach the reader. */
export function guardStream (stream: Stream, limits: StreamLimits, log?: Logger): void {
  const watcher = new FrameWatcher(limits)
  let broken: StreamLimitError | undefined
  const dispatch = stream.dispatchEvent.bind(stream)
  stream.dispatchEvent = (evt: Event): boolean => {
    if (evt.type !== 'message') return dispatch(evt)
    if (broken != null) return false
    const problem = watcher.push((evt as unknown as { data: Parameters<FrameWatcher['push']>[0] }).data)
    if (problem == null) return dispatch(evt)
    broken = new StreamLimitError(`${stream.protocol ?? 'a stream'}: the peer sent ${problem}; the stream was cut off`)
    log?.('%s', broken.message)
    // let the dispatch under way finish before the stream is torn down
    queueMicrotask(() => { stream.abort(broken as StreamLimitError) })
    return false
  }
}

/**
 * The node's Metrics with every stream of a guarded protocol, either way,
 * guarded as libp2p hands it over (trackProtocolStream runs for each stream
 * once its protocol is chosen, before the handler or the opener gets it).
 *
 * Not a stream middleware (`node.use`): libp2p 3.3's inbound path pushes the
 * handler onto the registered middleware array itself, so each inbound
 * stream added one more handler call to every later stream (the DHT's
 * routing tables stayed empty).
 */
export function guardedMetrics (metrics: Metrics, limits: Array<[string, StreamLimits]>, log?: Logger): Metrics {
  const byProtocol = new Map(limits)
  const track = metrics.trackProtocolStream.bind(metrics)
  return Object.assign(Object.create(Object.getPrototypeOf(metrics)), metrics, {
    trackProtocolStream (stream: Stream, connection?: unknown): void {
      (track as (stream: Stream, connection?: unknown) => void)(stream, connection)
      const found = stream.protocol == null ? undefined : byProtocol.get(stream.protocol)
      if (found != null) guardStream(stream, found, log)
    }
  })
}

/** identify's own cap on one message (MAX_IDENTIFY_MESSAGE_SIZE in @libp2p/identify, go-libp2p's too) */
export const IDENTIFY_MAX_MESSAGE_BYTES = 8 * 1024
/** identify reads at most 10 messages on a stream (MAX_IDENTIFY_MESSAGES) */
const IDENTIFY_MAX_MESSAGES = 10
/** ping echoes 32-byte pings; libp2p's client sends one per stream, go-libp2p's a few a second */
const PING_MAX_STREAM_BYTES = 32 * 64
/**
 * A DHT message: go-libp2p's cap, and what @libp2p/utils' 4 MiB read buffer
 * allowed before; a GET_PROVIDERS answer lists every provider of a key, so a
 * large fleet's answers are large.
 */
export const DHT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024

/** the limits for libp2p's own protocols of a network: identify, identify push, ping, the DHT */
export function builtinProtocolLimits (prefix: string, dht: string): Array<[string, StreamLimits]> {
  const identify: StreamLimits = { maxMessageBytes: IDENTIFY_MAX_MESSAGE_BYTES, maxStreamBytes: IDENTIFY_MAX_MESSAGES * (IDENTIFY_MAX_MESSAGE_BYTES + varintLength(IDENTIFY_MAX_MESSAGE_BYTES)) }
  return [
    [`/${prefix}/id/1.0.0`, identify],
    [`/${prefix}/id/push/1.0.0`, identify],
    [`/${prefix}/ping/1.0.0`, { maxStreamBytes: PING_MAX_STREAM_BYTES }],
    [dht, { maxMessageBytes: DHT_MAX_MESSAGE_BYTES }]
  ]
}
