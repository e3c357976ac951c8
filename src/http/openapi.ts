/**
 * The OpenAPI 3 document of every route, built from the routes themselves
 * as they are registered: each route's validation schemas (path, query,
 * body) and its `config.doc` (summary, role, responses). A route without a
 * doc is an error at start-up, so the document cannot fall behind.
 */
import { VERSION } from '../version.js'
import type { RouteOptions } from 'fastify'
import type { Role } from './tokens.js'

export interface RouteDoc {
  summary: string
  description?: string
  tags: string[]
  /** none: no token; read or operate: the least role the route needs */
  role: Role | 'none'
  /** status → what it means */
  responses: Record<number, string>
  /** for bodies that are not JSON: content type → description */
  rawBody?: Record<string, string>
  /** the response's content type when not JSON */
  produces?: string
}

export interface DocumentedRoute { method: string, url: string, doc: RouteDoc, schema: Record<string, any> }

export function routeDoc (route: RouteOptions): DocumentedRoute[] {
  const doc = (route.config as { doc?: RouteDoc } | undefined)?.doc
  const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter(m => m !== 'HEAD')
  if (methods.length === 0) return []
  if (doc == null) throw new Error(`route ${methods.join(',')} ${route.url} has no config.doc: every route is documented in /api/v1/openapi.json`)
  return methods.map(method => ({ method, url: route.url, doc, schema: (route.schema ?? {}) as Record<string, any> }))
}

function parameters (schema: Record<string, any>): any[] {
  const out: any[] = []
  for (const [where, s] of [['path', schema.params], ['query', schema.querystring]] as const) {
    for (const [name, prop] of Object.entries((s?.properties ?? {}) as Record<string, any>)) {
      out.push({ name, in: where, required: where === 'path' || (s.required ?? []).includes(name), schema: prop, ...(prop.description != null ? { description: prop.description } : {}) })
    }
  }
  return out
}

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error', 'status'],
  properties: { error: { type: 'string', description: 'what was wrong and what to do' }, status: { type: 'integer' }, field: { type: 'string', description: 'the request field at fault' } }
}

export function openApiDocument (routes: DocumentedRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const r of [...routes].sort((a, b) => a.url.localeCompare(b.url) || a.method.localeCompare(b.method))) {
    const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
    const op: Record<string, unknown> = {
      operationId: `${r.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary: r.doc.summary,
      tags: r.doc.tags,
      parameters: parameters(r.schema),
      responses: Object.fromEntries(Object.entries(r.doc.responses).map(([code, description]) => [code, Number(code) >= 400
        ? { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }
        : { description, content: { [r.doc.produces ?? 'application/json']: {} } }]))
    }
    if (r.doc.description != null) op.description = r.doc.description
    op.security = r.doc.role === 'none' ? [] : [{ bearer: [] }]
    if (r.doc.role !== 'none') op['x-umesh-role'] = r.doc.role
    if (r.schema.body != null) op.requestBody = { required: true, content: { 'application/json': { schema: r.schema.body } } }
    if (r.doc.rawBody != null) op.requestBody = { required: true, content: Object.fromEntries(Object.entries(r.doc.rawBody).map(([type, description]) => [type, { schema: { type: 'string', format: 'binary', description } }])) }
    paths[path] ??= {}
    paths[path][r.method.toLowerCase()] = op
  }
  return {
    openapi: '3.0.3',
    info: { title: 'update-mesh', version: VERSION, description: 'The HTTP API of an update-mesh daemon: health, metrics, status, and on a coordinator the management API (releases, rollouts, fleet, events). Tokens: umesh api token create.' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'umesh api token create --role read|operate' } },
      schemas: { Error: ERROR_SCHEMA }
    },
    paths
  }
}
