/**
 * Endless answers from a hostile peer, bounded so a test cannot run away: a
 * flood writes what it is given, waiting for the stream to drain, until the
 * other side ends the stream, FLOOD_CAP_BYTES are sent or FLOOD_MAX_MS pass,
 * and reports which of the three ended it.
 */
import type { Stream } from '@libp2p/interface'

const MiB = 1024 * 1024
/** a flood stops by itself after this many bytes on one stream... */
const FLOOD_CAP_BYTES = 200 * MiB
/** ...or after this long, when the follower neither reads nor cuts it off */
const FLOOD_MAX_MS = 20_000

/** how one flood ended: the follower cut it off, or it stopped by itself at its cap or its deadline */
export interface Flood {
  mode: string
  request: string
  sent: number
  /** from the first byte written to the end */
  ms: number
  ended: 'cut off' | 'cap' | 'deadline' | 'no request'
  detail: string
}

export function varint (value: number): Uint8Array {
  const out: number[] = []
  let n = value
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return Uint8Array.from(out)
}

/** one length-prefixed message, as lpStream frames it */
export function framed (message: Uint8Array): Uint8Array {
  return Buffer.concat([varint(message.byteLength), message])
}

/**
 * Waits for the stream's 'drain' event. (Stream.onDrain is no help: once it
 * has resolved it keeps returning the same resolved promise, so a writer
 * relying on it queues everything in its own memory.)
 */
export async function drained (stream: Stream, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
      signal.removeEventListener('abort', onAbort)
    }
    const onDrain = (): void => { cleanup(); resolve() }
    const onClose = (evt: Event): void => { cleanup(); reject((evt as Event & { error?: Error }).error ?? new Error('stream closed')) }
    const onAbort = (): void => { cleanup(); reject(signal.reason) }
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
    signal.addEventListener('abort', onAbort)
  })
}

/**
 * Writes `head`, then `body()` over and over, waiting for the stream to drain
 * (and `pauseMs` between writes, if set), until the follower ends the stream,
 * FLOOD_CAP_BYTES are sent, or FLOOD_MAX_MS pass.
 */
export async function flood (stream: Stream, head: Uint8Array, body: () => Uint8Array, pauseMs = 0): Promise<Pick<Flood, 'sent' | 'ms' | 'ended' | 'detail'>> {
  const deadline = AbortSignal.timeout(FLOOD_MAX_MS)
  const start = Date.now()
  let sent = 0
  let next = head
  const end = (ended: Flood['ended'], detail: string): Pick<Flood, 'sent' | 'ms' | 'ended' | 'detail'> => ({ sent, ms: Date.now() - start, ended, detail })
  try {
    while (sent < FLOOD_CAP_BYTES) {
      if (stream.status !== 'open' || stream.writeStatus !== 'writable') return end('cut off', `stream ${stream.status}`)
      if (deadline.aborted) throw deadline.reason
      sent += next.byteLength
      if (!stream.send(next)) await drained(stream, deadline)
      if (pauseMs > 0) await new Promise(resolve => setTimeout(resolve, pauseMs))
      next = body()
    }
    stream.abort(new Error('flood cap reached'))
    return end('cap', '')
  } catch (err) {
    if (deadline.aborted) {
      stream.abort(new Error('flood deadline reached'))
      return end('deadline', '')
    }
    return end('cut off', (err as Error).message)
  }
}

export function describeFloods (floods: Flood[]): string {
  return floods.map(f => `${f.mode} for ${f.request}: ${(f.sent / MiB).toFixed(2)} MiB sent in ${f.ms} ms, ended: ${f.ended}${f.detail !== '' ? ` (${f.detail})` : ''}`).join('\n')
}
