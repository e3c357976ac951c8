/**
 * The status protocol, `/umesh/<network>/status/1.0.0`: any peer, or the CLI
 * from a throw-away identity, sends one StatusRequest and gets one
 * StatusResponse: identity, role, phases, peers, addresses, resources and
 * traffic. Failures travel as a code in the response, never as a dropped
 * stream; request size, streams per connection, concurrent requests and time
 * per request are capped.
 *
 * Imports: protocols/shared only; nothing from src/.
 */
import { StatusService } from './status-service.js'
import type { StatusResponse } from './status.js'
import type { ComponentLogger } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'

export { statusProtocol, REVISION, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES } from './constants.js'
export { StatusRequest, StatusResponse, Phase as StatusPhase } from './status.js'
export type { ReleaseState, TrustState } from './status.js'
export { fetchStatus } from './client.js'
export type { FetchStatusOptions } from './client.js'
export { StatusRequestError } from './errors.js'

/** Everything in a response but the code and error, produced by the daemon. */
export type StatusReport = Omit<StatusResponse, 'code' | 'error'>

export interface StatusInit {
  network: string
  /** builds the report; called once per request */
  report: () => StatusReport | Promise<StatusReport>
  /** time for one request, read to write (default 5 s) */
  timeout?: number
  /** streams open at once per connection (default 2) */
  maxInboundStreams?: number
  /** requests served at once in all (default 32); more get BUSY */
  maxConcurrent?: number
}

export interface StatusComponents {
  registrar: Registrar
  logger: ComponentLogger
}

export function status (init: StatusInit): (components: StatusComponents) => StatusService {
  return (components) => new StatusService(components, init)
}

export type { StatusService }
