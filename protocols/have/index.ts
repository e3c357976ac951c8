/**
 * The have exchange, `/umesh/<network>/have/1.0.0`: how peers fetching or
 * holding the same release tell each other which of its chunks they hold, a
 * bitfield first and then increments as pieces arrive, so a fetcher knows
 * whom to ask for which chunk (the chunks themselves travel on the chunks
 * protocol). See have.proto for the messages and session.ts for the caps.
 *
 * Imports: protocols/shared only; nothing from src/.
 */
import { HaveService } from './have-service.js'
import type { HaveHello, HaveSession } from './session.js'
import type { ComponentLogger } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'

export { haveProtocol, MAX_PIECES, MAX_ADDED, MAX_MESSAGE_BYTES } from './constants.js'
export { HaveMessage } from './have.js'
export { HaveSession } from './session.js'
export type { HaveHello, HaveSessionEvents, HaveSessionOptions } from './session.js'
export { HaveProtocolError } from './errors.js'

/** what answers inbound sessions: the node's swarm */
export interface HaveSwarm {
  /** our first message for this release, or undefined when this node does not know it */
  hello: (release: Uint8Array, count: number) => Promise<HaveHello | undefined>
  /** takes over a session a peer opened */
  adopt: (session: HaveSession) => void
}

export interface HaveInit {
  network: string
  /** the swarm, once the node has one (the sync phase); before that every release is unknown */
  swarm: () => HaveSwarm | undefined
  /** streams of this protocol per connection, inbound (default 16) */
  maxInboundStreams?: number
  /** streams of this protocol per connection, outbound (default 16) */
  maxOutboundStreams?: number
}

export interface HaveComponents {
  registrar: Registrar
  logger: ComponentLogger
}

export function have (init: HaveInit): (components: HaveComponents) => HaveService {
  return (components) => new HaveService(components, init)
}

export type { HaveService }
