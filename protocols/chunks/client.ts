/**
 * Asks one peer which chunks it holds, or for the chunks themselves. A peer
 * is an untrusted mirror: every answer is capped before a byte of it is
 * buffered (one chunk plus overhead; the whole stream at what the request can
 * legitimately bring), every chunk is hashed and checked against the CID asked
 * for at its place before it is yielded, and a peer that answers more than it
 * was asked, out of order or too slowly is cut off.
 */
import { lpStream } from '@libp2p/utils'
import { CID } from 'multiformats/cid'
import { assertChunkCid, chunkCid, verifyChunk } from '../shared/chunk-cid.js'
import { ChunksRequest, ChunksResponse } from './chunks.js'
import { chunksProtocol, DEFAULT_TIMEOUT, MAX_CHUNK_SIZE, MAX_GET_CIDS, MAX_GET_RESPONSE_BYTES, MAX_HAVE_CIDS, MAX_HAVE_RESPONSE_BYTES } from './constants.js'
import { ChunkVerificationError, ChunksError, ChunksProtocolError, ChunksRefusedError, ChunksTimeoutError, TooManyChunksError } from './errors.js'
import { boundedLengthDecoder } from '../shared/length-prefix.js'
import { closeStream } from '../shared/close-stream.js'
import { Bitfield } from '../shared/bitfield.js'
import { timeoutSignal } from '../shared/timeout-signal.js'
import type { StreamOpener } from '../shared/stream-opener.js'
import type { AbortOptions, PeerId, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'

export type ChunksTarget = PeerId | Multiaddr | Multiaddr[]

export interface ChunksRequestOptions extends AbortOptions {
  /** time for the whole request, dial to last answer, including the time the caller spends between chunks (default 30 s) */
  timeout?: number
  /** ask over a limited (relayed) connection too (default false: chunks travel over direct connections) */
  runOnLimitedConnection?: boolean
}

/** a chunk whose bytes hash to its CID */
export interface FetchedChunk {
  cid: CID
  bytes: Uint8Array
}

/** errors that mean "the peer sent more than the read allows" */
const OVERSIZE_ERRORS = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'StreamBufferError', 'MaxLengthError'])
/** room for a length prefix per message in the stream's buffer */
const LENGTH_PREFIX_BYTES = 8

/** one open request: its stream, its reader and what turns a failure into a named error */
class Exchange {
  readonly peer: string
  readonly signal: AbortSignal
  private readonly timeout: AbortSignal
  private readonly timeoutMs: number
  private readonly caller?: AbortSignal
  private readonly limited: boolean
  private lp?: LengthPrefixedStream<Stream>
  stream?: Stream

  constructor (target: ChunksTarget, readonly what: string, options: ChunksRequestOptions) {
    this.peer = String(target)
    this.timeoutMs = options.timeout ?? DEFAULT_TIMEOUT
    this.timeout = timeoutSignal(this.timeoutMs)
    this.caller = options.signal
    this.limited = options.runOnLimitedConnection === true
    this.signal = options.signal == null ? this.timeout : AbortSignal.any([options.signal, this.timeout])
  }

  /** dials, sends the request and closes the writing end: the peer answers, then closes */
  async open (opener: StreamOpener, target: ChunksTarget, network: string, request: ChunksRequest, maxMessageBytes: number, maxBufferBytes: number): Promise<void> {
    try {
      this.stream = await opener.dialProtocol(target, chunksProtocol(network), { signal: this.signal, runOnLimitedConnection: this.limited })
      // a length prefix that never ends is cut off like an oversized answer
      this.lp = lpStream(this.stream, { maxDataLength: maxMessageBytes, maxBufferSize: maxBufferBytes, lengthDecoder: boundedLengthDecoder(maxMessageBytes) })
      await this.lp.write(ChunksRequest.encode(request), { signal: this.signal })
      await closeStream(this.stream, 'a chunks request', { signal: this.signal })
    } catch (err) {
      throw this.fail(err)
    }
  }

  /** the next answer; `index` and `count` only word the errors */
  async read (index: number, count: number): Promise<ChunksResponse> {
    let bytes
    try {
      bytes = await this.lp!.read({ signal: this.signal })
    } catch (err) {
      if ((err as Error).name === 'UnexpectedEOFError' && !this.signal.aborted) {
        throw this.fail(new ChunksProtocolError(this.peer, `peer ${this.peer} closed the stream after ${index} of the ${count} answers to ${this.what}`))
      }
      throw this.fail(err)
    }
    try {
      return ChunksResponse.decode(bytes)
    } catch (err) {
      throw this.fail(new ChunksProtocolError(this.peer, `answer ${index} of peer ${this.peer} to ${this.what} is not a chunks response (${(err as Error).message})`))
    }
  }

  /** after the last answer the peer must close: one more message is a protocol error */
  async end (count: number): Promise<void> {
    try {
      await this.lp!.read({ signal: this.signal })
    } catch (err) {
      if ((err as Error).name === 'UnexpectedEOFError' && !this.signal.aborted) return
      throw this.fail(err)
    }
    throw this.fail(new ChunksProtocolError(this.peer, `peer ${this.peer} sent more than the ${count} answers to ${this.what}; it was cut off`))
  }

  /** aborts the stream and names the error: a timeout, an oversized answer, or what it was */
  fail (err: unknown): Error {
    let named = err as Error
    if (named instanceof ChunksError) {
      // already named
    } else if (this.timeout.aborted && this.caller?.aborted !== true) {
      named = new ChunksTimeoutError(this.peer, this.timeoutMs, `peer ${this.peer} did not answer ${this.what} within ${this.timeoutMs} ms; ask another peer`)
    } else if (OVERSIZE_ERRORS.has(named.name)) {
      named = new ChunksProtocolError(this.peer, `peer ${this.peer} sent more than its answers to ${this.what} may hold (${named.message}); it was cut off`)
    }
    this.stream?.abort(named)
    return named
  }
}

function checkRequest (cids: CID[], max: number, kind: string): void {
  if (cids.length > max) {
    throw new TooManyChunksError(`a ${kind} request may carry at most ${max} CIDs, found ${cids.length}; split it into several requests`)
  }
  for (const cid of cids) assertChunkCid(cid)
}

/** Asks `peer` which of `cids` (at most 1024) it holds: one boolean per CID, in order. */
export async function haveChunks (opener: StreamOpener, peer: ChunksTarget, network: string, cids: CID[], options: ChunksRequestOptions = {}): Promise<boolean[]> {
  checkRequest(cids, MAX_HAVE_CIDS, 'HAVE')
  if (cids.length === 0) return []
  const exchange = new Exchange(peer, `a HAVE of ${cids.length} chunks`, options)
  await exchange.open(opener, peer, network, { kind: ChunksRequest.Kind.HAVE, cids: cids.map(cid => cid.bytes) }, MAX_HAVE_RESPONSE_BYTES, 2 * (MAX_HAVE_RESPONSE_BYTES + LENGTH_PREFIX_BYTES))
  const answer = await exchange.read(0, 1)
  if (answer.code !== ChunksResponse.Code.OK) {
    throw exchange.fail(new ChunksRefusedError(exchange.peer, answer.code, `peer ${exchange.peer} answered ${answer.code} to ${exchange.what}: ${answer.error}`))
  }
  const { bitfield } = answer
  if (!Bitfield.valid(cids.length, bitfield)) {
    throw exchange.fail(new ChunksProtocolError(exchange.peer, `peer ${exchange.peer} answered ${exchange.what} with a bitfield of ${bitfield.length} bytes; expected ${Math.ceil(cids.length / 8)} bytes with unused bits zero`))
  }
  await exchange.end(1)
  return cids.map((_, i) => (bitfield[i >> 3] & (0x80 >> (i & 7))) !== 0)
}

/**
 * Asks `peer` for `cids` (at most 32) and yields those it sends, in request
 * order, each verified against the CID asked for at its place; chunks the peer
 * does not hold are skipped (the caller compares with what it asked for).
 * Throws ChunkVerificationError for a wrong chunk, ChunksProtocolError for
 * answers that break the protocol, ChunksRefusedError when the peer refuses
 * the request (BUSY: try again shortly), ChunksTimeoutError when it is slow.
 * Memory is bounded: the stream buffers at most what `cids.length` answers
 * may hold, and a peer that sends more is cut off.
 */
export async function * getChunks (opener: StreamOpener, peer: ChunksTarget, network: string, cids: CID[], options: ChunksRequestOptions = {}): AsyncGenerator<FetchedChunk, void, undefined> {
  checkRequest(cids, MAX_GET_CIDS, 'GET')
  if (cids.length === 0) return
  const exchange = new Exchange(peer, `a GET of ${cids.length} chunks`, options)
  let finished = false
  try {
    await exchange.open(opener, peer, network, { kind: ChunksRequest.Kind.GET, cids: cids.map(cid => cid.bytes) }, MAX_GET_RESPONSE_BYTES, cids.length * (MAX_GET_RESPONSE_BYTES + LENGTH_PREFIX_BYTES))
    for (let i = 0; i < cids.length; i++) {
      const answer = await exchange.read(i, cids.length)
      if (i === 0 && answer.cid.length === 0 && answer.code !== ChunksResponse.Code.OK) {
        throw exchange.fail(new ChunksRefusedError(exchange.peer, answer.code, `peer ${exchange.peer} answered ${answer.code} to ${exchange.what}: ${answer.error}`))
      }
      const chunk = check(exchange, cids, i, answer)
      if (chunk != null) yield chunk
    }
    await exchange.end(cids.length)
    finished = true
  } finally {
    // the caller stopped early, or an error was already named: make sure the stream is gone
    if (!finished) exchange.stream?.abort(new Error(`${exchange.what} ended before its last answer`))
  }
}

/** the verified chunk of answer `i`, or undefined when the peer does not hold it */
function check (exchange: Exchange, cids: CID[], i: number, answer: ChunksResponse): FetchedChunk | undefined {
  const cid = cids[i]
  const { peer } = exchange
  if (!equal(answer.cid, cid.bytes)) {
    const asked = cids.findIndex(c => equal(answer.cid, c.bytes))
    const which = asked === -1 ? 'which was not asked for' : `asked for at place ${asked}: answers come in request order`
    const message = `peer ${peer} answered place ${i} of ${exchange.what}, chunk ${cid.toString()}, with ${describeCid(answer.cid)}, ${which}`
    throw exchange.fail(answer.code === ChunksResponse.Code.OK ? new ChunkVerificationError(peer, cid, `${message}; drop this peer`) : new ChunksProtocolError(peer, message))
  }
  if (answer.code !== ChunksResponse.Code.OK) return undefined
  if (answer.data.byteLength > MAX_CHUNK_SIZE) {
    throw exchange.fail(new ChunksProtocolError(peer, `peer ${peer} sent ${answer.data.byteLength} bytes for chunk ${cid.toString()}, more than the ${MAX_CHUNK_SIZE} a chunk may hold`))
  }
  if (!verifyChunk(cid, answer.data)) {
    throw exchange.fail(new ChunkVerificationError(peer, cid, `peer ${peer} sent ${answer.data.byteLength} bytes for chunk ${cid.toString()} that hash to ${chunkCid(answer.data).toString()}; drop this peer and fetch the chunk elsewhere`))
  }
  return { cid, bytes: answer.data }
}

function equal (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}

function describeCid (bytes: Uint8Array): string {
  if (bytes.length === 0) return 'no CID'
  try {
    return `chunk ${CID.decode(bytes).toString()}`
  } catch {
    return `${bytes.length} bytes that are no CID`
  }
}
