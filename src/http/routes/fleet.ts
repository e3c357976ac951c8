/**
 * /api/v1/fleet: every node the coordinator heard of (`umesh fleet --json`)
 * with filters; one node's reports and the events naming it; its live
 * status over the libp2p status protocol; the version breakdown over time.
 */
import { fleetRows, nodeView } from '../../rollout/index.js'
import { statusJson } from '../../view/index.js'
import { HttpError } from '../errors.js'
import type { FastifyInstance } from 'fastify'
import type { RouteContext } from '../context.js'

const PEER = { type: 'object', required: ['peerId'], additionalProperties: false, properties: { peerId: { type: 'string', pattern: '^[1-9A-HJ-NP-Za-km-z]{32,128}$', description: 'the node\'s peer id' } } }
const FILTER = {
  type: 'object',
  additionalProperties: false,
  properties: {
    package: { type: 'string', maxLength: 64 },
    version: { type: 'string', maxLength: 64, description: 'the version the node runs' },
    state: { type: 'string', enum: ['waiting', 'fetched', 'installing', 'healthy', 'failed', 'rolled-back', 'deferred', 'refused', 'unreachable'] },
    tag: { type: 'string', maxLength: 32 }
  }
}
/** how long a node's status may take */
const PEER_STATUS_TIMEOUT_MS = 5_000

export function fleetRoutes (app: FastifyInstance, ctx: RouteContext): void {
  app.get('/api/v1/fleet', {
    schema: { querystring: FILTER },
    config: { doc: { summary: 'every node the coordinator has heard of (`umesh fleet --json`), filtered', tags: ['fleet'], role: 'read', responses: { 200: '[{peerId, package, current, outcome, rolloutId, wave, tags, lastReport, unreachable}]', 400: 'a filter is wrong', 401: 'no or an unknown token', 404: 'not a coordinator' } } }
  }, async (request) => fleetRows(ctx.manage().coordinator.book, request.query as any))

  app.get('/api/v1/fleet/history', {
    config: { doc: { summary: 'the version breakdown of the reachable fleet over time (sampled in memory since the coordinator started)', tags: ['fleet'], role: 'read', responses: { 200: '{intervalMs, samples: [{at, versions: {"<package> <version>": nodes}}]}', 401: 'no or an unknown token', 404: 'not a coordinator' } } }
  }, async () => {
    ctx.manage()
    return { intervalMs: ctx.history.intervalMs, samples: ctx.history.samples }
  })

  app.get('/api/v1/fleet/:peerId', {
    schema: { params: PEER },
    config: { doc: { summary: 'one node: its newest row, its report per rollout (newest first), the events naming it', tags: ['fleet'], role: 'read', responses: { 200: '{node, reports, events}', 401: 'no or an unknown token', 404: 'the coordinator has not heard of the node' } } }
  }, async (request) => {
    const m = ctx.manage()
    const peerId = (request.params as { peerId: string }).peerId
    const found = nodeView(m.coordinator.book, peerId, id => m.coordinator.eventsOf(id))
    if (found == null) throw new HttpError(404, `the coordinator has no report of ${peerId}; GET /api/v1/fleet lists the nodes it knows`)
    return found
  })

  app.get('/api/v1/fleet/:peerId/status', {
    schema: { params: PEER },
    config: { doc: { summary: 'one node\'s own status, asked over the libp2p status protocol (phases, peers, what it holds and fetches, installs)', tags: ['fleet'], role: 'read', responses: { 200: 'the object `umesh status --json` prints', 401: 'no or an unknown token', 502: 'the node did not answer within 5 s' } } }
  }, async (request) => {
    const m = ctx.manage()
    const peerId = (request.params as { peerId: string }).peerId
    try {
      return statusJson(await m.peerStatus(peerId, AbortSignal.timeout(PEER_STATUS_TIMEOUT_MS)))
    } catch (err) {
      throw new HttpError(502, `${peerId} did not answer a status request: ${(err as Error).message}`)
    }
  })
}
