/**
 * /healthz (the process answers), /readyz (every start-up phase done) and
 * /metrics (Prometheus text; a token only with --http-metrics-auth).
 */
import type { FastifyInstance } from 'fastify'
import type { RouteContext } from '../context.js'

export function healthRoutes (app: FastifyInstance, ctx: RouteContext): void {
  app.get('/healthz', {
    config: { doc: { summary: 'the process is alive and answering', tags: ['health'], role: 'none', responses: { 200: '{"status": "ok"}' } } }
  }, async () => ({ status: 'ok' }))

  app.get('/readyz', {
    config: { doc: { summary: 'ready once every start-up phase is done', tags: ['health'], role: 'none', responses: { 200: '{"ready": true, "phase": "ready"}', 503: 'starting or stopping: {"ready": false, "phase", "phases"}' } } }
  }, async (_request, reply) => {
    const r = ctx.components.readiness()
    return await reply.code(r.ready ? 200 : 503).send(r)
  })

  const metrics = ctx.components.metrics
  if (metrics == null) return
  app.get('/metrics', {
    config: { doc: { summary: 'Prometheus metrics (umesh_*)', tags: ['health'], role: ctx.init.metricsAuth ? 'read' : 'none', produces: 'text/plain; version=0.0.4', responses: { 200: 'the text exposition format', ...(ctx.init.metricsAuth ? { 401: 'no or an unknown token' } : {}) } } }
  }, async (_request, reply) => {
    const text = await metrics.scrape()
    return await reply.type(metrics.contentType).header('cache-control', 'no-store').send(text)
  })
}
