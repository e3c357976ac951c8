/**
 * /api/v1/whoami and /api/v1/status: on every daemon with the listener.
 */
import { statusJson } from '../../view/index.js'
import type { FastifyInstance } from 'fastify'
import type { RouteContext } from '../context.js'

export function apiRoutes (app: FastifyInstance, ctx: RouteContext): void {
  app.get('/api/v1/whoami', {
    config: { doc: { summary: 'the token in use: its name and role', tags: ['meta'], role: 'read', responses: { 200: '{"name", "role", "coordinator": whether the management API is here}', 401: 'no or an unknown token' } } }
  }, async (request) => {
    const t = (request as any).token
    return { name: t.name, role: t.role, coordinator: ctx.coordinating }
  })

  app.get('/api/v1/status', {
    config: { doc: { summary: 'this daemon\'s status: the object `umesh status --json` prints', tags: ['status'], role: 'read', responses: { 200: 'peerId, role, network, version, uptimeMs, phase, phases, connections, peers, listenAddrs, resources, traffic, releases, trust, installs, bandwidth', 401: 'no or an unknown token' } } }
  }, async () => statusJson({ ...ctx.components.status(), code: 0, error: '' } as any))
}
