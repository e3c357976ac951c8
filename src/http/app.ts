/**
 * The HTTP application: Fastify with JSON-schema validation (no type
 * coercion: a number where a string belongs is a 400 naming the field),
 * the token check before any body is read, one JSON error shape, security
 * headers, and every route documented in /api/v1/openapi.json. The
 * management routes and the dashboard exist only on a coordinator: a node's
 * listener does not compile their schemas (about 4 MB of a small daemon).
 */
import Fastify from 'fastify'
import { authorize, FailureLimiter } from './auth.js'
import { errorHandler, HttpError, sendError, toHttpError } from './errors.js'
import { openApiDocument, routeDoc } from './openapi.js'
import { apiRoutes } from './routes/api.js'
import { eventRoutes } from './routes/events.js'
import { fleetRoutes } from './routes/fleet.js'
import { healthRoutes } from './routes/health.js'
import { releaseRoutes } from './routes/releases.js'
import { rolloutRoutes } from './routes/rollouts.js'
import { auditRoutes } from './routes/audit.js'
import { staticRoutes } from './routes/static.js'
import type { FastifyInstance } from 'fastify'
import type { RouteContext } from './context.js'
import type { DocumentedRoute, RouteDoc } from './openapi.js'

/** a JSON request body's cap; release uploads have their own (httpMaxUpload) */
export const MAX_JSON_BODY = 64 * 1024

export interface App {
  app: FastifyInstance
  routes: DocumentedRoute[]
  limiter: FailureLimiter
}

export async function buildApp (ctx: RouteContext): Promise<App> {
  const log = ctx.components.logger.forComponent('umesh:http')
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_JSON_BODY,
    // uploads may be large and slow; headers must come quickly
    requestTimeout: 30 * 60_000,
    connectionTimeout: 0,
    keepAliveTimeout: 5_000,
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } }
  })
  app.server.headersTimeout = 10_000
  app.server.maxConnections = 512
  const routes: DocumentedRoute[] = []
  const limiter = new FailureLimiter()
  app.addHook('onRoute', route => { routes.push(...routeDoc(route)) })
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-content-type-options', 'nosniff')
    void reply.header('referrer-policy', 'no-referrer')
    const doc = (request.routeOptions.config as { doc?: RouteDoc }).doc
    if (doc == null || doc.role === 'none') return
    void reply.header('cache-control', 'no-store')
    const who = authorize(ctx.components.tokens, limiter, request.ip, request.headers.authorization, doc.role)
    ;(request as any).token = who
  })
  app.setErrorHandler(errorHandler(message => { log.error('%s', message) }))
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]
    // a node that does not coordinate has no management routes at all (their schemas cost memory)
    if (!ctx.coordinating && (path.startsWith('/api/v1/') || path === '/' || path.startsWith('/dashboard/'))) {
      try { ctx.manage() } catch (err) { return sendError(reply, toHttpError(err)) }
    }
    return sendError(reply, new HttpError(404, `no route ${request.method} ${path}; the routes are listed in /api/v1/openapi.json`))
  })
  const coordinatorOnly = ctx.coordinating ? [releaseRoutes, rolloutRoutes, auditRoutes, fleetRoutes, eventRoutes, staticRoutes] : []
  for (const register of [healthRoutes, apiRoutes, ...coordinatorOnly]) register(app, ctx)
  app.get('/api/v1/openapi.json', {
    config: { doc: { summary: 'this document: every route, its parameters, bodies and responses', tags: ['meta'], role: 'read', responses: { 200: 'the OpenAPI 3 document', 401: 'no or an unknown token' } } }
  }, async () => openApiDocument(routes))
  await app.ready()
  return { app, routes, limiter }
}
