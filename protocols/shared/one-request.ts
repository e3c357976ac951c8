/**
 * The server side of a protocol whose stream carries one length-prefixed
 * request and its answers (chunks, status, sync).
 *
 * lpStream and pbStream keep whatever arrives in a buffer until a read takes
 * it, and abort the stream as soon as more than `maxBufferSize` bytes wait.
 * The muxer hands over every frame of a socket read at once, before a waiting
 * read's continuation has run. So a client that sent an oversized request
 * and kept sending could be reset before its request was even looked at: it
 * got a reset, not the BAD_REQUEST answer that says what was wrong. Here each
 * piece is looked at as it arrives. The request is decided (whole, or refused
 * for its length) on the bytes that carry it, no more than the request's own
 * bytes are ever held, and what a client sends after its request is counted
 * and dropped. A client that sends more than `maxUnreadBytes` after its
 * request is cut off, but only once its answer has been sent.
 */
import { StreamBufferError } from '@libp2p/interface'
import { InvalidDataLengthError, UnexpectedEOFError } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { closeStream } from './close-stream.js'
import { lengthPrefix, varintBytes } from './length-prefix.js'
import type { AbortOptions, Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'

export interface OneRequestInit {
  /** the largest request accepted */
  maxDataLength: number
  /** bytes a client may send after its request (dropped unread) before it is cut off */
  maxUnreadBytes: number
}

export class OneRequest {
  private readonly stream: Stream
  private readonly init: OneRequestInit
  private readonly held = new Uint8ArrayList()
  private readonly result = Promise.withResolvers<Uint8ArrayList>()
  private settled = false
  private unread = 0
  private answered = false
  private overflow?: Error

  constructor (stream: Stream, init: OneRequestInit) {
    this.stream = stream
    this.init = init
    // settled by a read that never comes: no unhandled rejection
    this.result.promise.catch(() => {})
    stream.addEventListener('message', this.onMessage)
    stream.addEventListener('end', this.onEnd)
    stream.addEventListener('close', this.onClose)
    if (stream.readableEnded) this.onEnd()
  }

  /**
   * The request's bytes; rejects with InvalidDataLengthLengthError or
   * InvalidDataLengthError for a request longer than `maxDataLength`, with
   * UnexpectedEOFError if the client closed before a whole request, and with
   * the stream's error if it was reset.
   */
  async read (options: AbortOptions = {}): Promise<Uint8ArrayList> {
    const signal = options.signal
    if (signal == null) return await this.result.promise
    signal.throwIfAborted()
    const aborted = Promise.withResolvers<never>()
    const onAbort = (): void => { aborted.reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      return await Promise.race([this.result.promise, aborted.promise])
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  /** sends one length-prefixed message, waiting while the stream's send buffer is full */
  async write (data: Uint8Array | Uint8ArrayList, options: AbortOptions = {}): Promise<void> {
    if (this.stream.send(new Uint8ArrayList(varintBytes(data.byteLength), data))) return
    await drained(this.stream, options)
  }

  /**
   * Once every answer is written: closes the writing end (an Error naming
   * `what` if that fails). Then a client that has already sent more than it
   * may after its request is cut off; one that goes on sending is cut off
   * when it passes the limit.
   */
  async finish (what: string, options: AbortOptions = {}): Promise<void> {
    await closeStream(this.stream, what, options)
    this.answered = true
    if (this.overflow != null) this.stream.abort(this.overflow)
  }

  private readonly onMessage = (evt: StreamMessageEvent): void => {
    if (this.settled) {
      this.drop(evt.data.byteLength)
      return
    }
    this.held.append(evt.data)
    let prefix
    try {
      prefix = lengthPrefix(this.held, this.init.maxDataLength)
    } catch (err) {
      this.fail(err as Error)
      return
    }
    if (prefix == null) return
    if (prefix.value > this.init.maxDataLength) {
      // worded as lpStream words the same fault
      this.fail(new InvalidDataLengthError(`Message length too long - ${prefix.value} > ${this.init.maxDataLength}`))
      return
    }
    const end = prefix.bytes + prefix.value
    if (this.held.byteLength < end) return
    this.settled = true
    this.result.resolve(this.held.sublist(prefix.bytes, end))
    const after = this.held.byteLength - end
    this.held.consume(this.held.byteLength)
    this.drop(after)
  }

  private readonly onEnd = (): void => {
    if (this.settled) return
    this.fail(new UnexpectedEOFError(`Unexpected EOF - the stream closed after ${this.held.byteLength} bytes, before a whole request`))
  }

  private readonly onClose = (evt: StreamCloseEvent): void => {
    if (this.settled) return
    this.fail(evt.error ?? new UnexpectedEOFError(`Unexpected EOF - the stream closed after ${this.held.byteLength} bytes, before a whole request`))
  }

  /** the request is refused: what was held, and what comes, is dropped */
  private fail (err: Error): void {
    this.settled = true
    this.result.reject(err)
    const held = this.held.byteLength
    this.held.consume(held)
    this.drop(held)
  }

  private drop (bytes: number): void {
    this.unread += bytes
    if (this.unread <= this.init.maxUnreadBytes || this.overflow != null) return
    this.overflow = new StreamBufferError(`the client sent ${this.unread} bytes past its request, more than the ${this.init.maxUnreadBytes} allowed; cut off`)
    if (this.answered) this.stream.abort(this.overflow)
  }
}

/** waits for the stream's 'drain'; rejects with an Error if it closes first or the signal aborts */
async function drained (stream: Stream, options: AbortOptions): Promise<void> {
  const signal = options.signal
  signal?.throwIfAborted()
  const done = Promise.withResolvers<void>()
  const onDrain = (): void => { done.resolve() }
  const onClose = (evt: StreamCloseEvent): void => { done.reject(evt.error ?? new Error('the stream closed before the answer was sent')) }
  const onAbort = (): void => { done.reject(signal?.reason) }
  stream.addEventListener('drain', onDrain)
  stream.addEventListener('close', onClose)
  signal?.addEventListener('abort', onAbort)
  try {
    await done.promise
  } finally {
    stream.removeEventListener('drain', onDrain)
    stream.removeEventListener('close', onClose)
    signal?.removeEventListener('abort', onAbort)
  }
}
