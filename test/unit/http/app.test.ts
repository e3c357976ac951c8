/**
 * The HTTP application in process (Fastify's inject, no socket), with the
 * daemon's parts stubbed: readiness, the metrics slot and its optional
 * token, a management API that is absent or still starting, the
 * dashboard's files and nothing beside them.
 */
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { defaultLogger } from '@libp2p/logger'
import { buildApp } from '../../../src/http/app.js'
import { RouteContext } from '../../../src/http/context.js'
import { FleetHistory } from '../../../src/http/history.js'
import { TokenStore } from '../../../src/http/tokens.js'
import { tempDir } from '../../helpers/cli.js'
import type { HttpComponents, Readiness } from '../../../src/http/context.js'

async function app (over: Partial<HttpComponents> & { metricsAuth?: boolean } = {}): Promise<{ inject: (o: any) => Promise<any>, token: string, close: () => Promise<void> }> {
  const tmp = tempDir()
  const dashboard = join(tmp.path, 'dashboard')
  mkdirSync(join(dashboard, 'vendor'), { recursive: true })
  writeFileSync(join(dashboard, 'index.html'), '<!doctype html><title>t</title>')
  writeFileSync(join(dashboard, 'app.js'), 'export {}')
  writeFileSync(join(dashboard, 'vendor', 'lib.mjs'), 'export {}')
  writeFileSync(join(tmp.path, 'secret.js'), 'TOP-SECRET-CONTENT')
  const tokens = new TokenStore(join(tmp.path, 'api-tokens.json'))
  const token = tokens.create('r', 'read').token
  let ready: Readiness = { ready: false, phase: 'network', phases: [{ name: 'network', state: 'running', durationMs: 0, detail: '' }] }
  const components: HttpComponents = {
    tokens,
    readiness: () => ready,
    status: () => ({ peerId: 'p' }) as any,
    metrics: { contentType: 'text/plain; version=0.0.4; charset=utf-8', scrape: async () => '# HELP umesh_up up\n# TYPE umesh_up gauge\numesh_up 1\n' },
    logger: defaultLogger(),
    ...over
  }
  const ctx = new RouteContext({ listen: '127.0.0.1:0', metricsAuth: over.metricsAuth === true, maxUpload: 1024, dashboardDir: dashboard }, components, new FleetHistory())
  const built = await buildApp(ctx)
  ;(globalThis as any).__setReady = (r: Readiness) => { ready = r }
  return { inject: async (o: any) => await built.app.inject(o), token, close: async () => { await built.app.close(); tmp.remove() } }
}

describe('the HTTP application', () => {
  it('answers /healthz always and /readyz with 503 and the phase until every phase is done', async () => {
    const a = await app()
    assert.equal((await a.inject({ url: '/healthz' })).statusCode, 200)
    const starting = await a.inject({ url: '/readyz' })
    assert.equal(starting.statusCode, 503)
    assert.equal(starting.json().phase, 'network')
    ;(globalThis as any).__setReady({ ready: true, phase: 'ready', phases: [] })
    assert.equal((await a.inject({ url: '/readyz' })).statusCode, 200)
    await a.close()
  })

  it('serves /metrics without a token, or only with one when asked', async () => {
    const open = await app()
    const r = await open.inject({ url: '/metrics' })
    assert.equal(r.statusCode, 200)
    assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/)
    assert.match(r.body, /^umesh_up 1$/m)
    await open.close()
    const closed = await app({ metricsAuth: true })
    assert.equal((await closed.inject({ url: '/metrics' })).statusCode, 401)
    assert.equal((await closed.inject({ url: '/metrics', headers: { authorization: `Bearer ${closed.token}` } })).statusCode, 200)
    await closed.close()
  })

  it('says the management API is not here (404) or still starting (503)', async () => {
    const node = await app()
    const r = await node.inject({ url: '/api/v1/fleet', headers: { authorization: `Bearer ${node.token}` } })
    assert.equal(r.statusCode, 404)
    assert.match(r.json().error, /not a coordinator/)
    assert.match((await node.inject({ url: '/' })).json().error, /not a coordinator/)
    await node.close()
    const starting = await app({ management: () => undefined })
    const s = await starting.inject({ url: '/api/v1/rollouts', headers: { authorization: `Bearer ${starting.token}` } })
    assert.equal(s.statusCode, 503)
    assert.match(s.json().error, /starting \(phase network\)/)
    assert.equal(s.headers['retry-after'], '2')
    await starting.close()
  })

  it('serves the dashboard\'s files under a strict CSP, and nothing outside its folder', async () => {
    const a = await app({ management: () => undefined })
    const page = await a.inject({ url: '/' })
    assert.equal(page.statusCode, 200)
    assert.match(page.headers['content-type'], /text\/html/)
    assert.match(page.headers['content-security-policy'], /default-src 'self'; script-src 'self'/)
    assert.equal((await a.inject({ url: '/dashboard/vendor/lib.mjs' })).headers['content-type'], 'text/javascript; charset=utf-8')
    for (const url of ['/dashboard/../secret.js', '/dashboard/%2e%2e/secret.js', '/dashboard/..%2fsecret.js', '/dashboard/nope.js', '/dashboard/']) {
      const r = await a.inject({ url })
      assert.equal(r.statusCode, 404, url)
      assert.ok(!r.body.includes('TOP-SECRET-CONTENT'), url)
    }
    await a.close()
  })

  it('answers an unknown route with JSON naming the OpenAPI document, and sends no cache for the API', async () => {
    const a = await app()
    const r = await a.inject({ url: '/nope' })
    assert.equal(r.statusCode, 404)
    assert.deepEqual(Object.keys(r.json()).sort(), ['error', 'status'])
    const s = await a.inject({ url: '/api/v1/status', headers: { authorization: `Bearer ${a.token}` } })
    assert.equal(s.headers['cache-control'], 'no-store')
    assert.equal(s.headers['x-content-type-options'], 'nosniff')
    await a.close()
  })
})
