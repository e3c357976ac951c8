/**
 * One have exchange with one peer about one release: the first messages
 * (release, piece count, bitfield) each way, then `added` increments both
 * ways until the stream closes. Every message is capped before it is
 * buffered (a length prefix that never ends included), every bitfield and
 * piece index is checked against the release's piece count, and a peer that
 * breaks the protocol, or says nothing for the idle timeout, is cut off.
 * The session never trusts what it hears: it only decides whom to ask for
 * which chunk, and every chunk is verified by its hash when it arrives.
 */
import { lpStream } from '@libp2p/utils'
import { Bitfield } from '../shared/bitfield.js'
import { boundedLengthDecoder } from '../shared/length-prefix.js'
import { HaveMessage } from './have.js'
import { ADDED_FLUSH_MS, DEFAULT_HELLO_TIMEOUT, DEFAULT_IDLE_TIMEOUT, MAX_ADDED, MAX_MESSAGE_BYTES, MAX_PIECES, MAX_RELEASE_BYTES, haveProtocol } from './constants.js'
import { HaveProtocolError } from './errors.js'
import { withTimeout } from '../shared/timeout-signal.js'
import type { StreamOpener } from '../shared/stream-opener.js'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'

/** what one side says first */
export interface HaveHello {
  release: Uint8Array
  count: number
  bitfield: Uint8Array
}

export interface HaveSessionEvents {
  /** the peer now holds these pieces (each checked < count) */
  onAdded?: (pieces: number[]) => void
  /** the peer has asked some peer for these pieces (a hint; each checked < count) */
  onFetching?: (pieces: number[]) => void
  /** the session ended; `err` when it ended by a fault or timeout */
  onClose?: (err?: Error) => void
}

export interface HaveSessionOptions {
  helloTimeout?: number
  idleTimeout?: number
}

const LIMITS = { added: MAX_ADDED, fetching: MAX_ADDED }

export class HaveSession {
  /** the peer's first message, checked; `local` is the one this side sent */
  readonly remote: HaveHello
  events: HaveSessionEvents = {}
  private readonly lp: LengthPrefixedStream<Stream>
  private readonly controller = new AbortController()
  private pending: number[] = []
  private pendingFetching: number[] = []
  private flushTimer?: NodeJS.Timeout
  private idleTimer?: NodeJS.Timeout
  private writing: Promise<void> = Promise.resolve()
  private closed = false

  private constructor (readonly peer: PeerId, readonly stream: Stream, lp: LengthPrefixedStream<Stream>, remote: HaveHello, readonly local: HaveHello, private readonly options: HaveSessionOptions) {
    this.lp = lp
    this.remote = remote
  }

  /**
   * Opens a session: sends our hello, reads theirs. Undefined when the peer
   * does not know the release (yet); throws on a fault or timeout.
   */
  static async open (opener: StreamOpener, peer: PeerId, network: string, hello: HaveHello, options: HaveSessionOptions = {}): Promise<HaveSession | undefined> {
    const signal = AbortSignal.timeout(options.helloTimeout ?? DEFAULT_HELLO_TIMEOUT)
    const stream = await opener.dialProtocol(peer, haveProtocol(network), { signal, runOnLimitedConnection: true })
    const lp = framed(stream)
    try {
      await lp.write(HaveMessage.encode({ ...hello, added: [], fetching: [], unknown: false } as HaveMessage), { signal })
      const answer = decode(await read(lp, signal))
      if (answer.unknown) {
        await stream.close({ signal }).catch(() => {})
        return undefined
      }
      if (!equal(answer.release, hello.release) || answer.count !== hello.count) {
        throw new HaveProtocolError(`peer ${peer.toString()} answered for another release or piece count (${answer.count}, expected ${hello.count})`)
      }
      checkBitfield(answer, peer)
      return new HaveSession(peer, stream, lp, answer, hello, options)
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  /**
   * Answers a session a peer opened: reads its hello, asks `lookup` for ours
   * (undefined: we do not know the release, say so and close).
   */
  static async accept (stream: Stream, connection: Connection, lookup: (release: Uint8Array, count: number) => Promise<HaveHello | undefined>, options: HaveSessionOptions = {}): Promise<HaveSession | undefined> {
    const signal = AbortSignal.timeout(options.helloTimeout ?? DEFAULT_HELLO_TIMEOUT)
    const lp = framed(stream)
    const peer = connection.remotePeer
    try {
      const hello = decode(await read(lp, signal))
      if (hello.release.length === 0 || hello.release.length > MAX_RELEASE_BYTES) throw new HaveProtocolError(`peer ${peer.toString()} opened a have session without a release CID of at most ${MAX_RELEASE_BYTES} bytes`)
      checkBitfield(hello, peer)
      const ours = await lookup(hello.release, hello.count)
      if (ours == null) {
        await lp.write(HaveMessage.encode({ unknown: true } as HaveMessage), { signal })
        await stream.close({ signal }).catch(() => {})
        return undefined
      }
      await lp.write(HaveMessage.encode({ ...ours, added: [], fetching: [], unknown: false } as HaveMessage), { signal })
      return new HaveSession(peer, stream, lp, hello, ours, options)
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  /** reads the peer's increments until the stream ends; call once, after setting `events` */
  start (): void {
    this.touch()
    void this.readLoop()
  }

  /** we now hold piece i: told to the peer within ADDED_FLUSH_MS, several at once */
  announce (i: number): void {
    if (this.closed) return
    this.pending.push(i)
    this.flushTimer ??= setTimeout(() => { this.flush() }, ADDED_FLUSH_MS)
  }

  /** we have asked a peer for piece i: a hint, sent with the next increments */
  announceFetching (i: number): void {
    if (this.closed) return
    this.pendingFetching.push(i)
    this.flushTimer ??= setTimeout(() => { this.flush() }, ADDED_FLUSH_MS)
  }

  /** ends the session; the peer sees the stream close */
  close (err?: Error): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.flushTimer)
    clearTimeout(this.idleTimer)
    this.controller.abort(err ?? new Error('have session closed'))
    if (err != null) this.stream.abort(err)
    else void this.writing.then(async () => { await this.stream.close({ signal: AbortSignal.timeout(5_000) }) }).catch(() => { this.stream.abort(new Error('have session close timed out')) })
    this.events.onClose?.(err)
  }

  get isClosed (): boolean {
    return this.closed
  }

  private flush (): void {
    this.flushTimer = undefined
    while ((this.pending.length > 0 || this.pendingFetching.length > 0) && !this.closed) {
      const added = this.pending.splice(0, MAX_ADDED)
      const fetching = this.pendingFetching.splice(0, MAX_ADDED)
      this.writing = this.writing.then(async () => {
        await this.lp.write(HaveMessage.encode({ added, fetching } as unknown as HaveMessage), { signal: withTimeout(30_000, this.controller.signal) })
        this.touch()
      }).catch(err => { this.close(err as Error) })
    }
  }

  private async readLoop (): Promise<void> {
    try {
      for (;;) {
        const message = decode(await read(this.lp, this.controller.signal))
        this.touch()
        for (const i of [...message.added, ...message.fetching]) {
          if (!Number.isInteger(i) || i >= this.remote.count) throw new HaveProtocolError(`peer ${this.peer.toString()} announced piece ${i} of a release with ${this.remote.count}`)
        }
        if (message.added.length > 0) this.events.onAdded?.(message.added)
        if (message.fetching.length > 0) this.events.onFetching?.(message.fetching)
      }
    } catch (err) {
      if (this.closed) return
      // the peer closing its side is the normal end
      this.close((err as Error).name === 'UnexpectedEOFError' ? undefined : err as Error)
    }
  }

  private touch (): void {
    clearTimeout(this.idleTimer)
    const ms = this.options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT
    this.idleTimer = setTimeout(() => { this.close(new HaveProtocolError(`no have message either way for ${ms} ms`)) }, ms)
    this.idleTimer.unref?.()
  }
}

function framed (stream: Stream): LengthPrefixedStream<Stream> {
  return lpStream(stream, { maxDataLength: MAX_MESSAGE_BYTES, maxBufferSize: 2 * MAX_MESSAGE_BYTES, lengthDecoder: boundedLengthDecoder(MAX_MESSAGE_BYTES) })
}

/** errors of the framing that mean the peer sent more than a message may hold */
const OVERSIZE_ERRORS = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'StreamBufferError', 'MaxLengthError'])

/** the next message's bytes; an oversized one, or a length prefix that never ends, is a HaveProtocolError */
async function read (lp: LengthPrefixedStream<Stream>, signal: AbortSignal): Promise<{ subarray: () => Uint8Array }> {
  try {
    return await lp.read({ signal })
  } catch (err) {
    if (OVERSIZE_ERRORS.has((err as Error).name)) throw new HaveProtocolError(`the peer sent a have message larger than ${MAX_MESSAGE_BYTES} bytes (${(err as Error).message}); it was cut off`)
    throw err
  }
}

function decode (bytes: { subarray: () => Uint8Array }): HaveMessage {
  try {
    return HaveMessage.decode(bytes.subarray(), { limits: LIMITS })
  } catch (err) {
    throw new HaveProtocolError(`a malformed have message (${(err as Error).message})`)
  }
}

function checkBitfield (hello: HaveHello, peer: PeerId): void {
  if (hello.count < 1 || hello.count > MAX_PIECES) throw new HaveProtocolError(`peer ${peer.toString()} gave a piece count of ${hello.count}; expected 1 to ${MAX_PIECES}`)
  if (!Bitfield.valid(hello.count, hello.bitfield)) {
    throw new HaveProtocolError(`peer ${peer.toString()} sent a bitfield of ${hello.bitfield.length} bytes for ${hello.count} pieces; expected ${Math.ceil(hello.count / 8)} bytes with unused bits zero`)
  }
}

function equal (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}
