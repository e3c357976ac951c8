/**
 * Serves the chunks protocol: reads one capped request, checks every CID
 * against the content layer's rules, answers HAVE with a bitfield and GET
 * with one answer per CID, reading the next chunk from disk while the
 * current one is written, and each write waiting for the stream to drain.
 * A chunk goes out without a copy (answer.ts), and the store hashes a
 * chunk it serves once per process, not on every read (the receiver hashes
 * every chunk it gets).
 */
import { decodeChunkCid } from '../shared/chunk-cid.js'
import { OneRequest } from '../shared/one-request.js'
import { encodeAnswer } from './answer.js'
import { ChunksRequest, ChunksResponse } from './chunks.js'
import {
  chunksProtocol, DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_INBOUND_STREAMS, DEFAULT_MAX_OUTBOUND_STREAMS, DEFAULT_TIMEOUT,
  MAX_CHUNK_SIZE, MAX_ERROR_CHARS, MAX_GET_CIDS, MAX_HAVE_CIDS, MAX_REQUEST_BYTES, MAX_UNREAD_BYTES, REQUEST_LIMITS
} from './constants.js'
import type { ChunkReader, ChunksComponents, ChunksInit } from './index.js'
import type { Connection, Logger, Startable, Stream } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

type Answer = Partial<ChunksResponse>

/** a relayed connection's remote address carries /p2p-circuit */
const isRelayed = (connection: Connection): boolean => connection.remoteAddr?.toString().includes('/p2p-circuit') === true

/** a request that passed every check */
interface ValidRequest {
  kind: ChunksRequest.Kind
  cids: CID[]
}

/** store errors that mean "this node does not hold the chunk" */
const NOT_FOUND_ERRORS = new Set(['ChunkNotFoundError', 'NotFoundError', 'ChunkCorruptError'])

export class ChunksService implements Startable {
  readonly protocol: string
  private readonly components: ChunksComponents
  private readonly init: ChunksInit
  private readonly store: ChunkReader
  private readonly timeout: number
  private readonly maxConcurrent: number
  private readonly log: Logger
  private inFlight = 0
  private started = false

  constructor (components: ChunksComponents, init: ChunksInit) {
    this.components = components
    this.init = init
    this.store = init.store
    this.protocol = chunksProtocol(init.network)
    this.timeout = init.timeout ?? DEFAULT_TIMEOUT
    this.maxConcurrent = init.maxConcurrent ?? DEFAULT_MAX_CONCURRENT
    this.log = components.logger.forComponent('umesh:chunks')
    this.handle = this.handle.bind(this)
  }

  readonly [Symbol.toStringTag] = 'umesh/chunks'

  async start (): Promise<void> {
    await this.components.registrar.handle(this.protocol, this.handle, {
      maxInboundStreams: this.init.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS,
      maxOutboundStreams: this.init.maxOutboundStreams ?? DEFAULT_MAX_OUTBOUND_STREAMS,
      // a limited (relayed) connection gets no chunks stream at all unless allowed
      runOnLimitedConnection: this.init.allowRelayed === true
    })
    this.started = true
  }

  async stop (): Promise<void> {
    await this.components.registrar.unhandle(this.protocol)
    this.started = false
  }

  isStarted (): boolean {
    return this.started
  }

  /** requests being served now */
  get requestsInFlight (): number {
    return this.inFlight
  }

  /** Serves one request. Bad input gets a BAD_REQUEST answer; only a timeout or a broken stream aborts. */
  async handle (stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(this.timeout)
    const exchange = new OneRequest(stream, { maxDataLength: MAX_REQUEST_BYTES, maxUnreadBytes: MAX_UNREAD_BYTES })
    this.inFlight++
    try {
      const request = isRelayed(connection) && this.init.allowRelayed !== true
        // a relay without limits gives an unlimited connection: refused here all the same
        ? refusal(ChunksResponse.Code.BAD_REQUEST, 'chunk data does not travel over relayed connections to this node (allowRelayedData is off); ask over a direct connection')
        : await this.read(exchange, signal)
      if (!('kind' in request)) {
        await exchange.write(ChunksResponse.encode(request), { signal })
        this.log('refused a chunks request from %p: %s %s', connection.remotePeer, request.code, request.error)
      } else if (request.kind === ChunksRequest.Kind.HAVE) {
        await exchange.write(ChunksResponse.encode(await this.have(request.cids)), { signal })
        this.log.trace('HAVE of %d chunks from %p answered', request.cids.length, connection.remotePeer)
      } else {
        const sent = await this.serve(exchange, request.cids, connection.remotePeer.toString(), signal)
        this.log.trace('GET of %d chunks from %p: %d sent', request.cids.length, connection.remotePeer, sent)
      }
      await exchange.finish('a chunks answer', { signal })
    } catch (err) {
      this.log('chunks request from %p aborted - %e', connection.remotePeer, err)
      stream.abort(err as Error)
    } finally {
      this.inFlight--
    }
  }

  /** the request, checked; or the answer that refuses it */
  private async read (exchange: OneRequest, signal: AbortSignal): Promise<ValidRequest | Answer> {
    let request: ChunksRequest
    try {
      request = ChunksRequest.decode(await exchange.read({ signal }), { limits: REQUEST_LIMITS })
    } catch (err) {
      if (signal.aborted) throw err
      return refusal(ChunksResponse.Code.BAD_REQUEST, `malformed chunks request (${(err as Error).message}); send one ChunksRequest of at most ${MAX_REQUEST_BYTES} bytes with at most ${MAX_HAVE_CIDS} CIDs`)
    }
    if (this.inFlight > this.maxConcurrent) {
      return refusal(ChunksResponse.Code.BUSY, `more than ${this.maxConcurrent} chunk requests at once; try again shortly`)
    }
    if (request.kind !== ChunksRequest.Kind.HAVE && request.kind !== ChunksRequest.Kind.GET) {
      return refusal(ChunksResponse.Code.BAD_REQUEST, `unknown request kind ${String(request.kind)}; expected HAVE or GET`)
    }
    if (request.kind === ChunksRequest.Kind.GET && request.cids.length > MAX_GET_CIDS) {
      return refusal(ChunksResponse.Code.BAD_REQUEST, `a GET may ask for at most ${MAX_GET_CIDS} chunks, found ${request.cids.length}; split the request`)
    }
    const cids: CID[] = []
    for (const [i, bytes] of request.cids.entries()) {
      try {
        cids.push(decodeChunkCid(bytes))
      } catch (err) {
        return refusal(ChunksResponse.Code.BAD_REQUEST, `CID ${i}: ${(err as Error).message}`)
      }
    }
    return { kind: request.kind, cids }
  }

  private async have (cids: CID[]): Promise<Answer> {
    let held: boolean[]
    try {
      held = await Promise.all(cids.map(async cid => await this.store.has(cid)))
    } catch (err) {
      this.log.error('could not look up chunks - %e', err)
      return refusal(ChunksResponse.Code.INTERNAL_ERROR, `the node could not look up its chunks: ${(err as Error).message}`)
    }
    const bitfield = new Uint8Array(Math.ceil(cids.length / 8))
    held.forEach((has, i) => { if (has) bitfield[i >> 3] |= 0x80 >> (i & 7) })
    return { code: ChunksResponse.Code.OK, bitfield }
  }

  /** one answer per CID, in order; the next chunk is read while this one is written. Returns the chunks sent. */
  private async serve (exchange: OneRequest, cids: CID[], peer: string, signal: AbortSignal): Promise<number> {
    let sent = 0
    let next = cids.length > 0 ? this.load(cids[0]) : undefined
    for (let i = 0; i < cids.length; i++) {
      const answer = await next!
      next = i + 1 < cids.length ? this.load(cids[i + 1]) : undefined
      // chunk data waits for a fair upload slot and the upload cap; refusals do not
      const free = answer.code === ChunksResponse.Code.OK ? await this.init.upload?.acquire(peer, cids[i].toString(), answer.data!.byteLength, signal) : undefined
      try {
        await exchange.write(encodeAnswer(answer), { signal })
      } finally {
        free?.()
      }
      if (answer.code === ChunksResponse.Code.OK) sent++
    }
    return sent
  }

  /** the answer for one chunk; never rejects */
  private async load (cid: CID): Promise<Answer> {
    try {
      const data = await this.store.get(cid, { once: true })
      if (data.byteLength > MAX_CHUNK_SIZE) {
        this.log.error('chunk %s is %d bytes, larger than the protocol carries', cid, data.byteLength)
        return { code: ChunksResponse.Code.INTERNAL_ERROR, cid: cid.bytes as Uint8Array<ArrayBuffer>, error: `chunk is ${data.byteLength} bytes, more than the ${MAX_CHUNK_SIZE} this protocol carries` }
      }
      return { code: ChunksResponse.Code.OK, cid: cid.bytes as Uint8Array<ArrayBuffer>, data: data as Uint8Array<ArrayBuffer> }
    } catch (err) {
      if (NOT_FOUND_ERRORS.has((err as Error).name)) {
        return { code: ChunksResponse.Code.NOT_FOUND, cid: cid.bytes as Uint8Array<ArrayBuffer>, error: 'this node does not hold the chunk' }
      }
      this.log.error('could not read chunk %s - %e', cid, err)
      return { code: ChunksResponse.Code.INTERNAL_ERROR, cid: cid.bytes as Uint8Array<ArrayBuffer>, error: cut(`could not read the chunk: ${(err as Error).message}`) }
    }
  }
}

function refusal (code: ChunksResponse.Code, error: string): Answer {
  return { code, error: cut(error) }
}

function cut (text: string): string {
  return text.length > MAX_ERROR_CHARS ? text.slice(0, MAX_ERROR_CHARS - 1) + '…' : text
}
