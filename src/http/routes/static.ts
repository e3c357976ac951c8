/**
 * The dashboard: `/` is its page, `/dashboard/<file>` its scripts and
 * styles, read from the files shipped in the package (dist/dashboard: the
 * project's dashboard/ folder and htm's bundled Preact), cached in memory
 * on first use. Only names in that folder are served (no path leaves it),
 * under a Content-Security-Policy that allows nothing from elsewhere.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { HttpError } from '../errors.js'
import type { FastifyInstance } from 'fastify'
import type { RouteContext } from '../context.js'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png'
}
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

/** dist/dashboard from the bundle's chunks (dist/chunks/) or from the compiled modules (dist/src/http/routes/) */
export function findDashboard (): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url))
  return [join(here, '../dashboard'), join(here, '../../../dashboard')].find(d => existsSync(join(d, 'index.html')))
}

/** every file under the folder, by its path relative to it */
function filesIn (root: string, dir = root, out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) filesIn(root, path, out)
    else if (TYPES[extname(name)] != null) out.set(path.slice(root.length + 1), path)
  }
  return out
}

export function staticRoutes (app: FastifyInstance, ctx: RouteContext): void {
  const root = ctx.init.dashboardDir ?? findDashboard()
  const files = root == null ? new Map<string, string>() : filesIn(root)
  const cache = new Map<string, Buffer>()
  const serve = (name: string): { type: string, body: Buffer } => {
    const path = files.get(name)
    if (path == null) throw new HttpError(404, root == null ? 'the dashboard\'s files are not installed (dist/dashboard is missing: run npm run build)' : `no dashboard file ${name}`)
    let body = cache.get(name)
    if (body == null) cache.set(name, body = readFileSync(path))
    return { type: TYPES[extname(name)], body }
  }
  const send = (name: string) => async (_request: unknown, reply: any) => {
    const f = serve(name)
    return reply.type(f.type).header('content-security-policy', CSP).header('x-frame-options', 'DENY').header('cache-control', 'no-cache').send(f.body)
  }
  app.get('/', { config: { doc: { summary: 'the dashboard', tags: ['dashboard'], role: 'none', produces: 'text/html', responses: { 200: 'its page; it asks for a token, kept in the tab\'s sessionStorage' } } } }, send('index.html'))
  app.get('/dashboard/*', { config: { doc: { summary: 'the dashboard\'s scripts and styles', tags: ['dashboard'], role: 'none', produces: 'text/javascript', responses: { 200: 'the file', 404: 'no such file' } } } }, async (request, reply) => {
    const name = (request.params as { '*': string })['*']
    return await send(name)(request, reply)
  })
}
