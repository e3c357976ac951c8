/**
 * What the routes share: the daemon's parts they read (given at
 * construction as getters, since the parts appear phase by phase), the
 * token store, and the coordinator's side when this daemon is one.
 */
import { EventEmitter } from 'node:events'
import { HttpError } from './errors.js'
import type { FleetHistory } from './history.js'
import type { TokenStore } from './tokens.js'
import type { StatusResponse } from '../../protocols/status/index.js'
import type { StatusReport } from '../../protocols/status/index.js'
import type { Coordinator } from '../rollout/index.js'
import type { ComponentLogger } from '@libp2p/interface'

export interface HttpInit {
  /** HOST:PORT */
  listen: string
  /** /metrics asks for a token too */
  metricsAuth: boolean
  /** the largest release upload, bytes */
  maxUpload: number
  /** where the dashboard's files are; default: dist/dashboard beside the code */
  dashboardDir?: string
  /** the fleet's version breakdown is sampled this often (default 10 s) */
  historyIntervalMs?: number
}

export interface Readiness {
  ready: boolean
  phase: string
  phases: Array<{ name: string, state: string, durationMs: number, detail: string }>
}

/** the coordinator's side, once the daemon's sync phase built it */
export interface Management {
  repoDir: string
  coordinator: Coordinator
  /** a node's status over the libp2p status protocol */
  peerStatus: (peerId: string, signal: AbortSignal) => Promise<StatusResponse>
}

export interface HttpComponents {
  tokens: TokenStore
  readiness: () => Readiness
  status: () => StatusReport
  /** Prometheus text; absent: no /metrics */
  metrics?: { contentType: string, scrape: () => Promise<string> }
  /** present on a coordinator: the management API; undefined until the sync phase is done */
  management?: () => Management | undefined
  logger: ComponentLogger
}

/** who an API request acts as in the repository's audit log and rollout history: its token's name */
export function operatorOf (request: unknown): { actor: string, via: 'api' } {
  const name = (request as { token?: { name?: unknown } }).token?.name
  return { actor: typeof name === 'string' && name !== '' ? name : 'api', via: 'api' }
}

export interface ApiEvents {
  /** an operator changed a package's rollout or releases through the API */
  changed: [{ package: string, what: string }]
}

export class RouteContext {
  readonly changed = new EventEmitter<ApiEvents>()
  /** aborted when the listener closes: long-lived responses (the event stream) end, so closing never waits for them */
  readonly closing = new AbortController()
  constructor (readonly init: HttpInit, readonly components: HttpComponents, readonly history: FleetHistory) {
    this.changed.setMaxListeners(100)
  }

  get coordinating (): boolean {
    return this.components.management != null
  }

  /** the coordinator's side, or the reason there is none */
  manage (): Management {
    const get = this.components.management
    if (get == null) throw new HttpError(404, 'this daemon is not a coordinator; the management API runs on `umesh node --repo DIR --coordinator --http-listen HOST:PORT`')
    const m = get()
    if (m == null) throw new HttpError(503, `the coordinator is starting (phase ${this.components.readiness().phase}); try again in a few seconds`, undefined, { 'retry-after': '2' })
    return m
  }
}
