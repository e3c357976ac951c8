import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import type { Server as HttpServer, ServerResponse } from 'node:http'
import { createServer as createTcpServer } from 'node:net'
import type { AddressInfo, Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { checkHealth } from '../../../src/install/health.js'
import type { HealthCheck, HealthConfig } from '../../../src/install/types.js'

const node = process.execPath
const servers: Array<Server | HttpServer> = []
after(async () => {
  for (const s of servers) {
    (s as HttpServer).closeAllConnections?.()
    await new Promise(resolve => s.close(resolve))
  }
})

function cfg (check: HealthCheck, over: Partial<HealthConfig> = {}): HealthConfig {
  return { check, timeoutMs: 2000, retries: 0, intervalMs: 10, graceMs: 0, ...over }
}

async function listen<S extends Server | HttpServer> (server: S): Promise<number> {
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

/** a port nothing listens on */
async function closedPort (): Promise<number> {
  const s = createTcpServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as AddressInfo).port
  await new Promise(resolve => s.close(resolve))
  return port
}

describe('checkHealth', () => {
  it('command: exit 0 is healthy; a failing one is retried, intervalMs apart, with every attempt reported', async () => {
    const ok = await checkHealth(cfg({ type: 'command', command: [node, '-e', 'process.exit(process.env.WANT === "yes" ? 0 : 1)'] }), { env: { WANT: 'yes' } })
    assert.deepEqual(ok, { healthy: true, attempts: 1, detail: `\`${node} -e "process.exit(process.env.WANT === \\"yes\\" ? 0 : 1)"\` exited 0` })

    const attempts: Array<[number, boolean, string]> = []
    const started = Date.now()
    const bad = await checkHealth(cfg({ type: 'command', command: ['sh', '-c', 'echo "db not ready" >&2; exit 7'] }, { retries: 2, intervalMs: 150 }), { onAttempt: (n, okay, detail) => attempts.push([n, okay, detail]) })
    assert.ok(Date.now() - started >= 300, 'two pauses of intervalMs')
    assert.equal(bad.healthy, false)
    assert.equal(bad.attempts, 3)
    assert.equal(bad.detail, '`sh -c "echo \\"db not ready\\" >&2; exit 7"` exited 7: db not ready')
    assert.deepEqual(attempts.map(([n, okay]) => [n, okay]), [[1, false], [2, false], [3, false]])
  })

  it('command: stops after the first success, runs in cwd, and bounds each attempt by timeoutMs', async () => {
    // fails twice, then succeeds: counts attempts in a file in its working folder
    const cwd = mkdtempSync(join(tmpdir(), 'umesh-health-'))
    try {
      const script = 'const fs = require("fs"); const n = fs.existsSync("n") ? Number(fs.readFileSync("n", "utf8")) + 1 : 1; fs.writeFileSync("n", String(n)); process.exit(n >= 3 ? 0 : 1)'
      const r = await checkHealth(cfg({ type: 'command', command: [node, '-e', script] }, { retries: 5 }), { cwd })
      assert.equal(r.healthy, true)
      assert.equal(r.attempts, 3)
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
    const started = Date.now()
    const slow = await checkHealth(cfg({ type: 'command', command: ['sleep', '10'] }, { timeoutMs: 200, retries: 1 }))
    assert.equal(slow.healthy, false)
    assert.equal(slow.attempts, 2)
    assert.match(slow.detail, /timed out after 200 ms/)
    assert.ok(Date.now() - started < 2000)
  })

  it('http: 2xx is healthy, other answers are not, and retries reach a server that comes up', async () => {
    let calls = 0
    const port = await listen(createHttpServer((req, res: ServerResponse) => {
      calls++
      if (req.url === '/flaky') {
        res.writeHead(calls < 3 ? 503 : 204).end()
      } else if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end()
      } else if (req.url === '/hang') {
        // never answers
      } else res.writeHead(200).end('ok')
    }))
    const base = `http://127.0.0.1:${port}`
    assert.deepEqual(await checkHealth(cfg({ type: 'http', url: `${base}/health` })), { healthy: true, attempts: 1, detail: `GET ${base}/health answered 200 OK` })

    calls = 0
    const seen: boolean[] = []
    const flaky = await checkHealth(cfg({ type: 'http', url: `${base}/flaky` }, { retries: 3 }), { onAttempt: (_n, ok) => seen.push(ok) })
    assert.deepEqual(flaky, { healthy: true, attempts: 3, detail: `GET ${base}/flaky answered 204 No Content` })
    assert.deepEqual(seen, [false, false, true])

    const redirect = await checkHealth(cfg({ type: 'http', url: `${base}/redirect` }))
    assert.equal(redirect.healthy, false)
    assert.match(redirect.detail, /answered 302 .*a redirect to http:\/\/127\.0\.0\.1:1\/elsewhere/)

    const started = Date.now()
    const hang = await checkHealth(cfg({ type: 'http', url: `${base}/hang` }, { timeoutMs: 200 }))
    assert.deepEqual(hang, { healthy: false, attempts: 1, detail: `GET ${base}/hang: no answer within 200 ms` })
    assert.ok(Date.now() - started < 1500)

    const closed = await closedPort()
    const refused = await checkHealth(cfg({ type: 'http', url: `http://127.0.0.1:${closed}/` }))
    assert.equal(refused.healthy, false)
    assert.match(refused.detail, /ECONNREFUSED/)

    await assert.rejects(checkHealth(cfg({ type: 'http', url: 'file:///etc/passwd' })), { name: 'HealthCheckConfigError' })
    await assert.rejects(checkHealth(cfg({ type: 'http', url: 'not a url' })), { name: 'HealthCheckConfigError' })
  })

  it('tcp: a port that accepts is healthy, a closed one is not', async () => {
    const port = await listen(createTcpServer(socket => socket.end()))
    assert.deepEqual(await checkHealth(cfg({ type: 'tcp', host: '127.0.0.1', port })), { healthy: true, attempts: 1, detail: `127.0.0.1:${port} accepted a connection` })
    const closed = await closedPort()
    const r = await checkHealth(cfg({ type: 'tcp', host: '127.0.0.1', port: closed }, { retries: 1 }))
    assert.deepEqual(r, { healthy: false, attempts: 2, detail: `cannot connect to 127.0.0.1:${closed}: ECONNREFUSED` })
  })

  it('waits graceMs before the first attempt, and stops when cancelled', async () => {
    const port = await listen(createTcpServer(socket => socket.end()))
    const started = Date.now()
    const r = await checkHealth(cfg({ type: 'tcp', host: '127.0.0.1', port }, { graceMs: 300 }))
    assert.equal(r.healthy, true)
    assert.ok(Date.now() - started >= 290)

    // cancelled while it waits between attempts: the abort is armed when the first attempt
    // has ended, so a slow start of `false` on a loaded machine cannot move it into the attempt
    const ac = new AbortController()
    const cancelStarted = Date.now()
    const cancelled = await checkHealth(cfg({ type: 'command', command: ['false'] }, { retries: 100, intervalMs: 1000 }), {
      signal: ac.signal,
      onAttempt: () => { setTimeout(() => { ac.abort() }, 50) }
    })
    assert.deepEqual(cancelled, { healthy: false, attempts: 1, detail: 'the health check was cancelled' })
    assert.ok(Date.now() - cancelStarted < 1000, 'the wait before the second attempt was cut short')
  })
})
