import {
  DEFAULT_MAX_BYTES_IN_FLIGHT, DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_INBOUND_STREAMS, DEFAULT_TIMEOUT,
  MAX_ERROR_CHARS, MAX_REQUEST_BYTES, MAX_UNREAD_BYTES, MAX_SUMMARY_BYTES, MAX_SUMMARY_RELEASES, RESPONSE_OVERHEAD_BYTES, syncProtocol
} from './constants.js'
import { SyncNotFoundError, SyncPathError } from './errors.js'
import { OneRequest } from '../shared/one-request.js'
import { openMirrorFile, readOpened } from './mirror-files.js'
import { SyncRequest, SyncResponse } from './sync.js'
import type { SyncComponents, SyncInit } from './index.js'
import type { Connection, Logger, Startable, Stream } from '@libp2p/interface'

interface Answer {
  response: SyncResponse
  /** file bytes held for this answer until it is written */
  reserved: number
}

function answer (code: SyncResponse.Code, error = ''): Answer {
  const text = error.length > MAX_ERROR_CHARS ? error.slice(0, MAX_ERROR_CHARS - 1) + '…' : error
  return { response: { code, error: text, data: new Uint8Array(0), timestampVersion: 0, releases: [] }, reserved: 0 }
}

export class SyncService implements Startable {
  readonly protocol: string
  readonly maxFileBytes: number
  private readonly components: SyncComponents
  private readonly init: SyncInit
  private readonly timeout: number
  private readonly maxConcurrent: number
  private readonly maxBytesInFlight: number
  private readonly log: Logger
  private inFlight = 0
  private bytesInFlight = 0
  private started = false

  constructor (components: SyncComponents, init: SyncInit) {
    this.components = components
    this.init = init
    this.protocol = syncProtocol(init.network)
    this.timeout = init.timeout ?? DEFAULT_TIMEOUT
    this.maxConcurrent = init.maxConcurrent ?? DEFAULT_MAX_CONCURRENT
    this.maxFileBytes = init.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES
    this.maxBytesInFlight = init.maxBytesInFlight ?? DEFAULT_MAX_BYTES_IN_FLIGHT
    this.log = components.logger.forComponent('umesh:sync')
    this.handle = this.handle.bind(this)
  }

  readonly [Symbol.toStringTag] = 'umesh/sync'

  async start (): Promise<void> {
    const streams = this.init.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS
    await this.components.registrar.handle(this.protocol, this.handle, { maxInboundStreams: streams, maxOutboundStreams: streams, runOnLimitedConnection: true })
    this.started = true
  }

  async stop (): Promise<void> {
    await this.components.registrar.unhandle(this.protocol)
    this.started = false
  }

  isStarted (): boolean {
    return this.started
  }

  /** Serves one request. Bad input gets an answer with a code; only a timeout or a broken stream aborts. */
  async handle (stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(this.timeout)
    const exchange = new OneRequest(stream, { maxDataLength: MAX_REQUEST_BYTES, maxUnreadBytes: MAX_UNREAD_BYTES })
    this.inFlight++
    let reserved = 0
    try {
      const result = await this.answer(exchange, signal, connection)
      reserved = result.reserved
      await exchange.write(SyncResponse.encode(result.response), { signal })
      await exchange.finish('a sync answer', { signal })
    } catch (err) {
      this.log('sync request from %p aborted - %e', connection.remotePeer, err)
      stream.abort(err as Error)
    } finally {
      this.inFlight--
      this.bytesInFlight -= reserved
    }
  }

  private async answer (exchange: OneRequest, signal: AbortSignal, connection: Connection): Promise<Answer> {
    let request: SyncRequest
    try {
      request = SyncRequest.decode(await exchange.read({ signal }))
    } catch (err) {
      if (signal.aborted) throw err
      return answer(SyncResponse.Code.BAD_REQUEST, `malformed sync request (${(err as Error).message}); send one SyncRequest of at most ${MAX_REQUEST_BYTES} bytes`)
    }
    if (this.inFlight > this.maxConcurrent) {
      return answer(SyncResponse.Code.BUSY, `more than ${this.maxConcurrent} sync requests at once; try again shortly`)
    }
    try {
      if (request.kind === SyncRequest.Kind.FILE) return await this.file(request, connection)
      if (request.kind === SyncRequest.Kind.SUMMARY) return await this.summary()
      return answer(SyncResponse.Code.BAD_REQUEST, `unknown request kind ${String(request.kind)}; expected FILE or SUMMARY`)
    } catch (err) {
      this.log.error('could not answer a sync request from %p - %e', connection.remotePeer, err)
      return answer(SyncResponse.Code.INTERNAL_ERROR, `the node could not answer: ${(err as Error).message}`)
    }
  }

  private async file (request: SyncRequest, connection: Connection): Promise<Answer> {
    const root = this.init.mirrorRoot()
    if (root == null) return answer(SyncResponse.Code.NOT_FOUND, `this node keeps no mirror, so it holds no ${request.path}`)
    let opened
    try {
      opened = await openMirrorFile(root, request.path)
    } catch (err) {
      if (err instanceof SyncPathError) {
        this.log('refused sync path from %p - %e', connection.remotePeer, err)
        return answer(SyncResponse.Code.BAD_REQUEST, err.message)
      }
      if (err instanceof SyncNotFoundError) return answer(SyncResponse.Code.NOT_FOUND, err.message)
      throw err
    }
    try {
      const byRequest = request.maxLength > 0n && request.maxLength <= BigInt(this.maxFileBytes)
      const limit = byRequest ? Number(request.maxLength) : this.maxFileBytes
      if (opened.size > limit) {
        const whose = byRequest ? `the ${limit} the request allows` : `the ${limit} this node serves`
        return answer(SyncResponse.Code.TOO_LARGE, `${request.path} is ${opened.size} bytes, more than ${whose}`)
      }
      if (this.bytesInFlight > 0 && this.bytesInFlight + opened.size > this.maxBytesInFlight) {
        return answer(SyncResponse.Code.BUSY, `this node is sending ${this.bytesInFlight} bytes already; try again shortly`)
      }
      this.bytesInFlight += opened.size
      const result = answer(SyncResponse.Code.OK)
      result.reserved = opened.size
      try {
        result.response.data = await readOpened(opened, request.path)
      } catch (err) {
        this.bytesInFlight -= opened.size
        throw err
      }
      this.log.trace('serving %s (%d bytes) to %p', request.path, opened.size, connection.remotePeer)
      return result
    } finally {
      await opened.handle.close()
    }
  }

  private async summary (): Promise<Answer> {
    const { timestampVersion, releases } = await this.init.summary()
    const result = answer(SyncResponse.Code.OK)
    result.response.timestampVersion = timestampVersion
    // the summary stays below what every client reads: count and bytes capped, the rest left out
    let bytes = RESPONSE_OVERHEAD_BYTES
    for (const release of releases.slice(0, MAX_SUMMARY_RELEASES)) {
      bytes += Buffer.byteLength(release) + 4
      if (bytes > MAX_SUMMARY_BYTES) break
      result.response.releases.push(release)
    }
    return result
  }
}
