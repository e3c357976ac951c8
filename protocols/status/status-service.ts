import { DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_INBOUND_STREAMS, DEFAULT_TIMEOUT, MAX_UNREAD_BYTES, MAX_REQUEST_BYTES, REVISION, statusProtocol } from './constants.js'
import { OneRequest } from '../shared/one-request.js'
import { StatusRequest, StatusResponse } from './status.js'
import type { StatusComponents, StatusInit } from './index.js'
import type { Connection, Logger, Startable, Stream } from '@libp2p/interface'

export class StatusService implements Startable {
  readonly protocol: string
  private readonly components: StatusComponents
  private readonly init: StatusInit
  private readonly timeout: number
  private readonly maxConcurrent: number
  private readonly log: Logger
  private inFlight = 0
  private started = false

  constructor (components: StatusComponents, init: StatusInit) {
    this.components = components
    this.init = init
    this.protocol = statusProtocol(init.network)
    this.timeout = init.timeout ?? DEFAULT_TIMEOUT
    this.maxConcurrent = init.maxConcurrent ?? DEFAULT_MAX_CONCURRENT
    this.log = components.logger.forComponent('umesh:status')
    this.handle = this.handle.bind(this)
  }

  readonly [Symbol.toStringTag] = 'umesh/status'

  async start (): Promise<void> {
    await this.components.registrar.handle(this.protocol, this.handle, {
      maxInboundStreams: this.init.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS,
      maxOutboundStreams: 1,
      // small answers: a node behind NAT is asked over its relay too
      runOnLimitedConnection: true
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

  /**
   * Serves one request. Bad input gets a BAD_REQUEST answer; only a timeout
   * or a broken stream aborts. A length prefix longer than a request needs
   * is refused at its second byte, and a client that goes on sending after
   * its request is cut off once it has sent MAX_UNREAD_BYTES more, after
   * its answer.
   */
  async handle (stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(this.timeout)
    const exchange = new OneRequest(stream, { maxDataLength: MAX_REQUEST_BYTES, maxUnreadBytes: MAX_UNREAD_BYTES })
    this.inFlight++
    try {
      const response = await this.answer(exchange, signal)
      await exchange.write(StatusResponse.encode(response), { signal })
      await exchange.finish('a status answer', { signal })
      this.log.trace('status for %p: %s', connection.remotePeer, response.code)
    } catch (err) {
      this.log('status request from %p aborted - %e', connection.remotePeer, err)
      stream.abort(err as Error)
    } finally {
      this.inFlight--
    }
  }

  private async answer (exchange: OneRequest, signal: AbortSignal): Promise<StatusResponse> {
    const fail = (code: StatusResponse.Code, error: string): StatusResponse => ({ ...StatusResponse.decode(new Uint8Array()), code, error })
    let request: StatusRequest
    try {
      request = StatusRequest.decode(await exchange.read({ signal }))
    } catch (err) {
      if (signal.aborted) throw err
      return fail(StatusResponse.Code.BAD_REQUEST, `malformed status request (${(err as Error).message}); send one StatusRequest of at most ${MAX_REQUEST_BYTES} bytes`)
    }
    if (request.revision !== REVISION) {
      return fail(StatusResponse.Code.BAD_REQUEST, `unknown request revision ${request.revision}; this node speaks revision ${REVISION}`)
    }
    if (this.inFlight > this.maxConcurrent) {
      return fail(StatusResponse.Code.BUSY, `more than ${this.maxConcurrent} status requests at once; try again shortly`)
    }
    try {
      return { ...(await this.init.report()), code: StatusResponse.Code.OK, error: '' }
    } catch (err) {
      this.log.error('could not build status report - %e', err)
      return fail(StatusResponse.Code.INTERNAL_ERROR, `the node could not build its status: ${(err as Error).message}`)
    }
  }
}
