/**
 * Webhook notifications of rollout events, against local HTTP servers:
 * order per URL, retries, a dead URL that must not hold up a healthy one,
 * timeouts, the queue cap, stop.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, describe, it } from 'node:test'
import { ConfigError } from '../../../src/errors.js'
import { Notifier, eventText } from '../../../src/rollout/webhooks.js'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { loggerInto } from '../../helpers/capture-logger.js'

interface Receiver {
  url: string
  bodies: any[]
  requests: number
  server: Server
  close: () => Promise<void>
}

/** a server on 127.0.0.1 that answers each request with `answer(n)` (n from 1), or never if it returns undefined */
async function receiver (answer: (n: number) => number | undefined = () => 200): Promise<Receiver> {
  const rec: Receiver = { url: '', bodies: [], requests: 0, server: undefined as any, close: async () => {} }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const n = ++rec.requests
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const status = answer(n)
      if (status === undefined) return // never answers
      if (status >= 200 && status < 300) rec.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      res.writeHead(status).end('ok')
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  rec.server = server
  rec.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/s3cret-token`
  rec.close = async () => {
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => { resolve() }))
  }
  return rec
}

/** a URL on a port nothing listens on */
async function deadUrl (): Promise<string> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  return `http://127.0.0.1:${port}/`
}

const data = (i: number): Record<string, unknown> => ({ rolloutId: '3f2a9c1e-77aa-4b', package: 'my-app', version: '1.4.0', wave: i, detail: `wave w${i} opened` })

describe('webhooks', () => {
  const servers: Receiver[] = []
  after(async () => { await Promise.all(servers.map(async s => { await s.close() })) })
  const serve = async (answer?: (n: number) => number | undefined): Promise<Receiver> => {
    const r = await receiver(answer)
    servers.push(r)
    return r
  }

  it('delivers events in order, with a one-line text and the event fields', async () => {
    const rec = await serve()
    const n = new Notifier({ urls: [rec.url] })
    for (let i = 0; i < 10; i++) n.notify('wave-opened', data(i))
    n.notify('node-failed', { rolloutId: '3f2a9c1e-77aa-4b', package: 'my-app', version: '1.4.0', wave: 2, peerId: '12D3KooWabc', reason: 'health check\nfailed' })
    await n.flush(5000)
    assert.equal(n.delivered, 11)
    assert.equal(n.failed, 0)
    assert.deepEqual(rec.bodies.slice(0, 10).map(b => b.wave), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    const first = rec.bodies[0]
    assert.equal(first.event, 'wave-opened')
    assert.equal(first.text, 'update-mesh: rollout 3f2a9c1e… of my-app 1.4.0: wave w0 opened')
    assert.equal(first.rollout, '3f2a9c1e-77aa-4b')
    assert.equal(first.rolloutId, '3f2a9c1e-77aa-4b')
    assert.equal(first.package, 'my-app')
    assert.equal(first.version, '1.4.0')
    assert.ok(!Number.isNaN(Date.parse(first.at)))
    const failed = rec.bodies[10]
    assert.equal(failed.event, 'node-failed')
    assert.equal(failed.peerId, '12D3KooWabc')
    assert.doesNotMatch(failed.text, /\n/)
  })

  it('text without a detail names the event', () => {
    assert.equal(eventText('completed', { rolloutId: 'abc', package: 'p', version: '2.0.0' }), 'update-mesh: rollout abc of p 2.0.0: completed')
    assert.equal(eventText('wave-opened', { package: 'p', wave: 1 }), 'update-mesh: p: wave 1 opened')
  })

  it('retries a server that fails twice, then delivers', async () => {
    const rec = await serve(n => n <= 2 ? 503 : 200)
    const lines: string[] = []
    const n = new Notifier({ urls: [rec.url], backoffMs: 20, retries: 3, log: loggerInto(lines) })
    n.notify('started', data(0))
    n.notify('wave-opened', data(1))
    await n.flush(5000)
    assert.equal(rec.requests, 4)
    assert.deepEqual(rec.bodies.map(b => b.event), ['started', 'wave-opened'])
    assert.equal(n.delivered, 2)
    assert.equal(n.failed, 0)
    assert.deepEqual(lines, [])
  })

  it('gives up after the retries with a log line that does not show the URL path', async () => {
    const rec = await serve(() => 500)
    const lines: string[] = []
    const n = new Notifier({ urls: [rec.url], backoffMs: 5, retries: 2, log: loggerInto(lines) })
    n.notify('halted', data(0))
    n.notify('completed', data(0))
    await n.flush(5000)
    assert.equal(rec.requests, 6)
    assert.equal(n.failed, 2)
    assert.equal(n.delivered, 0)
    assert.equal(lines.length, 2)
    assert.match(lines[0], /gave up on the halted event after 3 attempts: HTTP 500/)
    assert.doesNotMatch(lines.join('\n'), /s3cret/)
  })

  it('a dead URL does not delay a healthy one, and notify returns at once', async () => {
    const healthy = await serve()
    const dead = await deadUrl()
    const lines: string[] = []
    const n = new Notifier({ urls: [dead, healthy.url], backoffMs: 50, retries: 2, log: loggerInto(lines) })
    const start = performance.now()
    for (let i = 0; i < 3; i++) n.notify('wave-opened', data(i))
    assert.ok(performance.now() - start < 50, 'notify must not wait for delivery')
    // the healthy receiver has all three while the dead URL is still on its first event's retries (>= 150 ms each)
    const deadline = Date.now() + 2000
    while (healthy.bodies.length < 3 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 5))
    assert.equal(healthy.bodies.length, 3)
    assert.equal(n.failed, 0, 'the dead URL has not finished its retries yet')
    assert.ok(n.pending > 0)
    await n.flush(5000)
    assert.equal(n.delivered, 3)
    assert.equal(n.failed, 3)
    assert.match(lines[0], /gave up on the wave-opened event after 3 attempts: .*ECONNREFUSED/)
  })

  it('times out on a server that never answers', async () => {
    const rec = await serve(() => undefined)
    const lines: string[] = []
    const n = new Notifier({ urls: [rec.url], timeoutMs: 150, retries: 1, backoffMs: 10, log: loggerInto(lines) })
    const start = performance.now()
    n.notify('paused', data(0))
    await n.flush(5000)
    const took = performance.now() - start
    assert.ok(took >= 300 && took < 2000, `took ${took} ms`)
    assert.equal(rec.requests, 2)
    assert.equal(n.failed, 1)
    assert.match(lines[0], /no answer within 150 ms/)
  })

  it('caps the queue per URL, dropping the oldest waiting event', async () => {
    const releases: Array<() => void> = []
    const sent: string[] = []
    const fetchImpl = (async (_url: any, init: any) => {
      sent.push(JSON.parse(init.body).detail)
      await new Promise<void>(resolve => releases.push(resolve))
      return new Response('ok', { status: 200 })
    }) as typeof fetch
    const lines: string[] = []
    const n = new Notifier({ urls: ['https://hooks.example/x'], maxQueue: 2, fetchImpl, log: loggerInto(lines) })
    for (let i = 0; i < 5; i++) n.notify('wave-opened', data(i)) // 0 in flight; 1, 2, 3, 4 queued in a queue of 2
    assert.equal(n.dropped, 2)
    assert.equal(lines.length, 2)
    assert.match(lines[0], /2 events waiting; dropped the oldest/)
    while (n.pending > 0) {
      await new Promise(resolve => setTimeout(resolve, 1))
      releases.shift()?.()
    }
    assert.deepEqual(sent, ['wave w0 opened', 'wave w3 opened', 'wave w4 opened'])
    assert.equal(n.delivered, 3)
  })

  it('stop aborts what is in flight and drops what waits; later notify does nothing', async () => {
    const rec = await serve(() => undefined)
    const n = new Notifier({ urls: [rec.url], timeoutMs: 10_000 })
    n.notify('started', data(0))
    n.notify('completed', data(0))
    while (rec.requests === 0) await new Promise(resolve => setTimeout(resolve, 5))
    const start = performance.now()
    n.stop()
    await n.flush(5000)
    assert.ok(performance.now() - start < 1000)
    n.notify('started', data(1))
    assert.equal(n.pending, 0)
    assert.equal(n.delivered + n.failed, 0)
    assert.equal(n.dropped, 2)
  })

  it('flush returns after its timeout when deliveries are still going on', async () => {
    const rec = await serve(() => undefined)
    const n = new Notifier({ urls: [rec.url], timeoutMs: 10_000 })
    n.notify('started', data(0))
    const start = performance.now()
    await n.flush(100)
    const took = performance.now() - start
    assert.ok(took >= 90 && took < 1000, `took ${took} ms`)
    n.stop()
  })

  it('refuses URLs that are not http or https', () => {
    assert.throws(() => new Notifier({ urls: ['ftp://example.com/x'] }), (err: Error) => err instanceof ConfigError && /uses ftp:, expected an http/.test(err.message))
    assert.throws(() => new Notifier({ urls: ['not a url'] }), /"not a url" is not a URL/)
    assert.throws(() => new Notifier({ urls: ['file:///etc/passwd'] }), ConfigError)
    assert.doesNotThrow(() => new Notifier({ urls: ['https://hooks.slack.com/services/T/B/X', 'http://127.0.0.1:9/'] }))
  })

  it('no URLs: notify is a no-op', async () => {
    const n = new Notifier({ urls: [] })
    n.notify('started', data(0))
    await n.flush(1000)
    assert.equal(n.pending, 0)
  })
})
