/**
 * Serves the have protocol: every inbound stream is handed to the node's
 * swarm (src/swarm), which knows the releases and their bitfields.
 */
import { HaveSession } from './session.js'
import { haveProtocol, DEFAULT_MAX_INBOUND_STREAMS, DEFAULT_MAX_OUTBOUND_STREAMS } from './constants.js'
import type { HaveComponents, HaveInit } from './index.js'
import type { Connection, Logger, Startable, Stream } from '@libp2p/interface'

export class HaveService implements Startable {
  readonly protocol: string
  private readonly log: Logger
  private started = false

  constructor (private readonly components: HaveComponents, private readonly init: HaveInit) {
    this.protocol = haveProtocol(init.network)
    this.log = components.logger.forComponent('umesh:have')
    this.handle = this.handle.bind(this)
  }

  readonly [Symbol.toStringTag] = 'umesh/have'

  async start (): Promise<void> {
    await this.components.registrar.handle(this.protocol, this.handle, {
      maxInboundStreams: this.init.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS,
      maxOutboundStreams: this.init.maxOutboundStreams ?? DEFAULT_MAX_OUTBOUND_STREAMS,
      // bitfields and piece numbers only: over a relay too (the chunks themselves are not)
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

  async handle (stream: Stream, connection: Connection): Promise<void> {
    try {
      const swarm = this.init.swarm()
      const session = await HaveSession.accept(stream, connection, async (release, count) => await swarm?.hello(release, count))
      if (session != null) swarm?.adopt(session)
    } catch (err) {
      this.log('have session from %p refused - %e', connection.remotePeer, err)
    }
  }
}
