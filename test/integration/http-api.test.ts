/**
 * The HTTP API on real processes: a bootstrap node, a publisher that
 * coordinates with --http-listen, and two nodes that install `app` (one
 * with its own listener, not a coordinator). Every route is called; every
 * /api/v1 route answers 401 without a token or with a wrong one, and every
 * write 403 to a read token; bad JSON and wrong types are 400 naming the
 * field; an upload over the cap is 413 and a hostile archive is refused,
 * the repository unchanged byte for byte; two rollouts started at once: one
 * 201, one 409; the views agree with the CLI; events arrive on the stream;
 * a revoked token stops working without a restart.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { freePort, LocalMesh } from '../../src/demo/local-mesh.js'
import { runCli, tempDir, waitFor } from '../helpers/cli.js'
import { EventReader } from '../helpers/event-reader.js'
import { ApiClient, createToken, rawRequest } from '../helpers/http-api.js'
import { releaseSource } from '../helpers/install-fixture.js'
import type { MeshProcess } from '../../src/demo/local-mesh.js'

/** every route the listener serves; the OpenAPI document must list exactly these */
const ROUTES = [
  'GET /', 'GET /dashboard/*', 'GET /healthz', 'GET /readyz', 'GET /metrics',
  'GET /api/v1/whoami', 'GET /api/v1/status', 'GET /api/v1/openapi.json',
  'GET /api/v1/releases', 'POST /api/v1/releases',
  'GET /api/v1/rollouts', 'POST /api/v1/rollouts', 'GET /api/v1/rollouts/{package}',
  'POST /api/v1/rollouts/{package}/promote', 'POST /api/v1/rollouts/{package}/pause', 'POST /api/v1/rollouts/{package}/resume', 'POST /api/v1/rollouts/{package}/halt',
  'GET /api/v1/fleet', 'GET /api/v1/fleet/history', 'GET /api/v1/fleet/{peerId}', 'GET /api/v1/fleet/{peerId}/status',
  'GET /api/v1/events', 'GET /api/v1/rollout-history', 'GET /api/v1/audit'
]
const MAX_UPLOAD = 4 * 1024 * 1024

/** sha256 of every file under the repository but the coordinator's own state (rewritten every second) */
function repoFingerprint (dir: string): string {
  const hash = createHash('sha256')
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name)
      const rel = relative(dir, path)
      if (rel === 'coordinator' || name === '.rollouts.lock') continue
      if (statSync(path).isDirectory()) walk(path)
      else hash.update(`${rel}\0`).update(readFileSync(path))
    }
  }
  walk(dir)
  return hash.digest('hex')
}

const uploads = (): string[] => readdirSync(tmpdir()).filter(n => n.startsWith('umesh-upload-'))

describe('the HTTP API on real processes', () => {
  const tmp = tempDir('umesh-http-api-')
  const repo = join(tmp.path, 'repo')
  const mesh = new LocalMesh({ dir: join(tmp.path, 'mesh'), nodes: 0 })
  let coordinator: MeshProcess
  let nodes: MeshProcess[] = []
  let base = ''
  let nodeBase = ''
  let operate: ApiClient
  let read: ApiClient
  let anon: ApiClient

  const archive = (name: string, version: string, i: number): Buffer => {
    const src = releaseSource(tmp.path, { version }, i)
    const file = join(tmp.path, `${name}.tar.gz`)
    execFileSync('tar', ['czf', file, '-C', src, '.'])
    return readFileSync(file)
  }
  const cli = async (args: string[]): Promise<any> => {
    const r = await runCli(args)
    assert.equal(r.code, 0, r.stderr)
    return JSON.parse(r.stdout)
  }
  const peerOf = (p: MeshProcess): string => readDaemonFile(p.dataDir).peerId

  before(async () => {
    assert.equal((await runCli(['repo', 'init', '--repo', repo])).code, 0)
    await mesh.start()
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    coordinator = mesh.addNode('publisher', ['--repo', repo, '--coordinator', '--http-listen', `127.0.0.1:${port}`, '--http-max-upload', String(MAX_UPLOAD)])
    const packages = JSON.stringify({ app: { health: { command: ['/bin/sh', 'bin/health'], timeoutMs: 5_000, retries: 1, intervalMs: 200 } } })
    const nodePort = await freePort()
    nodeBase = `http://127.0.0.1:${nodePort}`
    nodes = [1, 2].map(i => mesh.addNode(`node-${i}`, ['--trusted-root', join(repo, 'metadata', '1.root.json'), '--follow', 'app', '--packages', packages, '--check-interval', '5',
      ...(i === 1 ? ['--tag', 'canary', '--http-listen', `127.0.0.1:${nodePort}`] : [])]))
    await Promise.all([coordinator, ...nodes].map(async p => { await p.waitReady(30_000) }))
    operate = new ApiClient(base, await createToken(coordinator.dataDir, 'operate', 'ops'))
    read = new ApiClient(base, await createToken(coordinator.dataDir, 'read', 'viewer'))
    anon = new ApiClient(base)
  })

  after(async () => {
    await mesh.stop()
    tmp.remove()
  })

  it('answers health, readiness and status without a token; /api/v1/status is `umesh status --json`', async () => {
    assert.deepEqual((await anon.request('GET', '/healthz')).body, { status: 'ok' })
    const ready = await anon.request('GET', '/readyz')
    assert.equal(ready.status, 200)
    assert.equal(ready.body.phase, 'ready')
    assert.ok(ready.body.phases.some((p: any) => p.name === 'http' && p.state === 'done'))
    const api = await read.get('/api/v1/status')
    const cliStatus = await cli(['status', '--data-dir', coordinator.dataDir, '--json'])
    assert.deepEqual(Object.keys(api).sort(), Object.keys(cliStatus).sort())
    for (const k of ['peerId', 'role', 'network', 'version', 'phase', 'listenAddrs']) assert.deepEqual(api[k], cliStatus[k], k)
    assert.deepEqual(await read.get('/api/v1/whoami'), { name: 'viewer', role: 'read', coordinator: true })
  })

  it('lists every route in the OpenAPI document, each with a summary and its responses', async () => {
    const doc = await read.get('/api/v1/openapi.json')
    assert.equal(doc.openapi, '3.0.3')
    const listed = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) => Object.keys(ops).map(m => `${m.toUpperCase()} ${path}`))
    assert.deepEqual(listed.sort(), [...ROUTES].sort())
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(ops)) {
        assert.ok(typeof op.summary === 'string' && op.summary.length > 10, `${method} ${path} summary`)
        assert.ok(Object.keys(op.responses).length > 0, `${method} ${path} responses`)
        if (path.startsWith('/api/v1/')) assert.deepEqual(op.security, [{ bearer: [] }], `${method} ${path} security`)
        if (path.includes('{')) assert.ok(op.parameters.some((p: any) => p.in === 'path'), `${method} ${path} path parameter`)
        if (method === 'post' && op['x-umesh-role'] !== 'operate') assert.fail(`${method} ${path} is a write without the operate role`)
      }
    }
    assert.ok(doc.paths['/api/v1/rollouts'].post.requestBody.content['application/json'].schema.properties.maxParallel)
  })

  it('refuses every /api/v1 route without a token or with a wrong one (401), and every write with a read token (403)', async () => {
    const doc = await read.get('/api/v1/openapi.json')
    const wrong = new ApiClient(base, 'umesh_000000000000_' + 'A'.repeat(43), '127.0.0.2')
    const none = new ApiClient(base, undefined, '127.0.0.3')
    const token = new ApiClient(base, '', '127.0.0.4')
    const readFrom = new ApiClient(base, read.token, '127.0.0.2')
    let checked = 0
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      if (!path.startsWith('/api/v1/')) continue
      const url = path.replace('{package}', 'app').replace('{peerId}', peerOf(nodes[0]))
      for (const method of Object.keys(ops)) {
        const body = method === 'post' ? {} : undefined
        // each address may fail 10 times a minute: every check rotates among three local addresses
        const client = [wrong, none, token][checked++ % 3]
        const r = await client.request(method.toUpperCase(), url, body)
        assert.equal(r.status, 401, `${method} ${url} with ${client === wrong ? 'a wrong token' : client === none ? 'no token' : 'an empty token'}: ${JSON.stringify(r.body)}`)
        assert.equal(r.body.field, 'Authorization')
        assert.equal(r.headers['www-authenticate'], 'Bearer')
        if (method === 'post') {
          const w = await readFrom.request('POST', url, body)
          assert.equal(w.status, 403, `${method} ${url} with a read token: ${JSON.stringify(w.body)}`)
          assert.match(w.body.error, /read role; this needs an operate token/)
        }
      }
    }
    assert.ok(checked >= 16, `${checked} routes checked`)
  })

  it('rate-limits failed attempts per address: the 11th in a minute is 429, even with a valid token', async () => {
    const wrong = new ApiClient(base, 'umesh_000000000000_' + 'B'.repeat(43), '127.0.0.5')
    for (let i = 0; i < 10; i++) assert.equal((await wrong.request('GET', '/api/v1/fleet')).status, 401)
    const r = await wrong.request('GET', '/api/v1/fleet')
    assert.equal(r.status, 429)
    assert.ok(Number(r.headers['retry-after']) > 0)
    assert.equal((await new ApiClient(base, read.token, '127.0.0.5').request('GET', '/api/v1/fleet')).status, 429)
    // another address is not affected
    assert.equal((await new ApiClient(base, read.token, '127.0.0.6').request('GET', '/api/v1/fleet')).status, 200)
  })

  it('a revoked token stops working at once; a new one works without a restart', async () => {
    const t = await createToken(coordinator.dataDir, 'read', 'short-lived')
    const c = new ApiClient(base, t, '127.0.0.7')
    assert.equal((await c.request('GET', '/api/v1/whoami')).body.name, 'short-lived')
    assert.equal((await runCli(['api', 'token', 'revoke', 'short-lived', '--data-dir', coordinator.dataDir])).code, 0)
    const r = await c.request('GET', '/api/v1/whoami')
    assert.equal(r.status, 401)
    const list = await cli(['api', 'token', 'list', '--data-dir', coordinator.dataDir, '--json'])
    assert.deepEqual(list.map((x: any) => x.name).sort(), ['ops', 'viewer'])
    assert.ok(list.every((x: any) => x.sha256 === undefined && x.token === undefined))
    // the data dir keeps hashes only, in a file only its owner reads
    const file = join(coordinator.dataDir, 'api-tokens.json')
    assert.equal(statSync(file).mode & 0o077, 0)
    assert.ok(!readFileSync(file, 'utf8').includes(operate.token!.split('_')[2]))
  })

  it('publishes a release from an upload, as `umesh release add` does', async () => {
    assert.deepEqual(await read.get('/api/v1/releases'), [])
    const before = uploads().length
    const added = await operate.post('/api/v1/releases?package=app&version=1.0.0&changelog=first%20release', archive('app-1.0.0', '1.0.0', 0), 201)
    assert.equal(added.package, 'app')
    assert.equal(added.version, '1.0.0')
    assert.ok(added.files >= 10)
    assert.deepEqual(await read.get('/api/v1/releases'), await cli(['release', 'list', '--repo', repo, '--json']))
    assert.equal(uploads().length, before, 'the upload\'s temporary folder is removed')
    // a version once published never changes
    const again = await operate.request('POST', '/api/v1/releases?package=app&version=1.0.0', archive('app-1.0.0', '1.0.0', 0), { 'content-type': 'application/gzip' })
    assert.equal(again.status, 422)
    assert.match(again.body.error, /already published/)
  })

  it('refuses an oversized upload (413), a path escape and a symlink (400), a wrong field (400): the repository unchanged byte for byte', async () => {
    const before = repoFingerprint(repo)
    const port = Number(new URL(base).port)
    const query = '/api/v1/releases?package=app&version=9.0.0'
    // a declared length over the cap is refused before the body is read
    const declared = await rawRequest(port, `POST ${query} HTTP/1.1\nHost: x\nAuthorization: Bearer ${operate.token!}\nContent-Type: application/gzip\nContent-Length: ${MAX_UPLOAD + 1}\n`, [Buffer.alloc(1024, 7)])
    assert.equal(declared.status, 413)
    assert.equal(JSON.parse(declared.text).field, 'body')
    // a chunked body (no length said) is cut off once it passes the cap
    const chunk = Buffer.alloc(256 * 1024, 7)
    const chunked: Buffer[] = []
    for (let sent = 0; sent <= MAX_UPLOAD + chunk.length; sent += chunk.length) chunked.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'))
    const streamed = await rawRequest(port, `POST ${query} HTTP/1.1\nHost: x\nAuthorization: Bearer ${operate.token!}\nContent-Type: application/gzip\nTransfer-Encoding: chunked\n`, chunked)
    assert.equal(streamed.status, 413)
    assert.match(streamed.text, /larger than \d+ bytes, the cap/)
    assert.deepEqual(uploads(), [], 'nothing of the upload is left behind')
    const hostile = join(tmp.path, 'hostile')
    mkdirSync(join(hostile, 'bin'), { recursive: true })
    writeFileSync(join(hostile, 'bin', 'run'), '#!/bin/sh\n')
    symlinkSync('/etc/passwd', join(hostile, 'bin', 'passwd'))
    execFileSync('tar', ['czf', join(tmp.path, 'symlink.tar.gz'), '-C', hostile, '.'])
    const link = await operate.request('POST', '/api/v1/releases?package=app&version=9.0.1', readFileSync(join(tmp.path, 'symlink.tar.gz')), { 'content-type': 'application/gzip' })
    assert.equal(link.status, 400, JSON.stringify(link.body))
    assert.equal(link.body.field, 'body')
    assert.match(link.body.error, /symbolic link/)
    execFileSync('tar', ['czf', join(tmp.path, 'escape.tar.gz'), '-C', hostile, '-P', '--transform', 's,^\\./bin/run,../../escape,', './bin/run'])
    const escape = await operate.request('POST', '/api/v1/releases?package=app&version=9.0.2', readFileSync(join(tmp.path, 'escape.tar.gz')), { 'content-type': 'application/octet-stream' })
    assert.equal(escape.status, 400, JSON.stringify(escape.body))
    assert.match(escape.body.error, /\.\./)
    const badField = await operate.request('POST', '/api/v1/releases?package=app&version=9.0.3&requiredStep=yes', Buffer.from('x'), { 'content-type': 'application/gzip' })
    assert.equal(badField.status, 400)
    assert.equal(badField.body.field, 'querystring.requiredStep')
    const badRange = await operate.request('POST', '/api/v1/releases?package=app&version=9.0.5&requires=libfoo', archive('app-9.0.5', '9.0.5', 5), { 'content-type': 'application/gzip' })
    assert.equal(badRange.status, 400)
    assert.equal(badRange.body.field, 'querystring.requires')
    const missing = await operate.request('POST', '/api/v1/releases?package=app', Buffer.from('x'), { 'content-type': 'application/gzip' })
    assert.equal(missing.body.field, 'querystring.version')
    const wrongType = await operate.request('POST', '/api/v1/releases?package=app&version=9.0.4', Buffer.from('x'), { 'content-type': 'text/plain' })
    assert.equal(wrongType.status, 415)
    assert.equal(repoFingerprint(repo), before)
    assert.deepEqual((await read.get('/api/v1/releases')).map((r: any) => r.version), ['1.0.0'])
  })

  it('answers malformed JSON and wrong types with a 400 naming the field', async () => {
    const cases: Array<[string, unknown, string, RegExp]> = [
      ['{"package": "app",', undefined, 'body', /not valid JSON/],
      ['{"package": "app", "version": 1}', undefined, 'body.version', /expected string/],
      ['{"version": "1.0.0"}', undefined, 'body.package', /is required/],
      ['{"package": "app", "version": "1.0.0", "maxParallel": "4"}', undefined, 'body.maxParallel', /expected integer/],
      ['{"package": "app", "version": "1.0.0", "manual": "yes"}', undefined, 'body.manual', /expected boolean/],
      ['{"package": "app", "version": "1.0.0", "wavez": "100%"}', undefined, 'body.wavez', /not a field/],
      ['[]', undefined, 'body', /expected object/]
    ]
    for (const [text, , field, message] of cases) {
      const r = await operate.request('POST', '/api/v1/rollouts', text, { 'content-type': 'application/json' })
      assert.equal(r.status, 400, text)
      assert.equal(r.body.field, field, text)
      assert.match(r.body.error, message, text)
    }
    const badWaves = await operate.request('POST', '/api/v1/rollouts', { package: 'app', version: '1.0.0', waves: 'canary:0' })
    assert.equal(badWaves.status, 400)
    assert.equal(badWaves.body.field, 'body.waves')
    assert.match(badWaves.body.error, /--waves/)
    const halt = await operate.request('POST', '/api/v1/rollouts/app/halt', { rollback: 'yes' })
    assert.equal(halt.body.field, 'body.rollback')
    const filter = await read.request('GET', '/api/v1/fleet?state=sleeping')
    assert.equal(filter.status, 400)
    assert.equal(filter.body.field, 'querystring.state')
    const notFound = await read.request('GET', '/api/v1/nothing')
    assert.equal(notFound.status, 404)
    assert.match(notFound.body.error, /openapi/)
  })

  it('starts one of two rollouts sent at once (201, 409), streams its events, and agrees with the CLI', async () => {
    const events = new EventReader(base, read.token!)
    await events.open()
    assert.equal(events.status, 200)
    try {
      const body = { package: 'app', version: '1.0.0', waves: 'canary:1,100%', gate: 'success>=1,soak=1s', maxParallel: 2 }
      const [a, b] = await Promise.all([operate.request('POST', '/api/v1/rollouts', body), operate.request('POST', '/api/v1/rollouts', body)])
      assert.deepEqual([a.status, b.status].sort(), [201, 409])
      const lost = a.status === 409 ? a : b
      assert.match(lost.body.error, /is running/)
      const id = (a.status === 201 ? a : b).body.id
      await events.waitFor('changed', e => e.event === 'changed' && e.data.package === 'app')
      await events.waitFor('started', e => e.event === 'rollout' && e.data.event === 'started' && e.data.rolloutId === id)
      await events.waitFor('a node report', e => e.event === 'report' && e.data.rolloutId === id, 60_000)
      await events.waitFor('completed', e => e.event === 'rollout' && e.data.event === 'completed' && e.data.rolloutId === id, 90_000)
      const view = await read.get('/api/v1/rollouts/app')
      assert.equal(view.doc.state, 'completed')
      assert.equal(view.waves.reduce((n: number, w: any) => n + w.healthy, 0), 2)
      const cliView = await cli(['rollout', 'status', '--repo', repo, '--json'])
      assert.deepEqual(view.doc, cliView.doc)
      assert.deepEqual(view.waves.map((w: any) => [w.name, w.nodes, w.healthy]), cliView.waves.map((w: any) => [w.name, w.nodes, w.healthy]))
      assert.deepEqual((await read.get('/api/v1/rollouts')).map((v: any) => v.doc.id), [id])
      // once completed, steering is a conflict
      const promote = await operate.request('POST', '/api/v1/rollouts/app/promote')
      assert.equal(promote.status, 409)
    } finally {
      events.stop()
    }
  })

  it('steers a rollout: pause, resume, promote, halt with rollback, each an event on the stream', async () => {
    const added = await operate.post('/api/v1/releases?package=app&version=1.1.0', archive('app-1.1.0', '1.1.0', 1), 201)
    assert.equal(added.version, '1.1.0')
    const events = new EventReader(base, read.token!)
    await events.open()
    assert.equal(events.status, 200)
    try {
      const doc = await operate.post('/api/v1/rollouts', { package: 'app', version: '1.1.0', waves: 'canary:1,100%', gate: 'success>=1,soak=1s', manual: true }, 201)
      await events.waitFor('started', e => e.data.event === 'started' && e.data.rolloutId === doc.id)
      assert.equal((await operate.post('/api/v1/rollouts/app/pause')).state, 'paused')
      await events.waitFor('paused', e => e.data.event === 'paused' && e.data.rolloutId === doc.id)
      assert.equal((await operate.request('POST', '/api/v1/rollouts/app/promote')).status, 409)
      assert.equal((await operate.post('/api/v1/rollouts/app/resume')).state, 'running')
      await events.waitFor('resumed', e => e.data.event === 'resumed' && e.data.rolloutId === doc.id)
      const promoted = await operate.post('/api/v1/rollouts/app/promote')
      assert.equal(promoted.open, 1)
      await events.waitFor('wave-opened', e => e.data.event === 'wave-opened' && e.data.wave === 1 && e.data.rolloutId === doc.id)
      const halted = await operate.post('/api/v1/rollouts/app/halt', { rollback: true })
      assert.equal(halted.state, 'halted')
      assert.equal(halted.rollback, true)
      await events.waitFor('halted', e => e.data.event === 'halted' && e.data.rolloutId === doc.id)
      const cliView = await cli(['rollout', 'status', '--repo', repo, '--json'])
      assert.equal(cliView.doc.state, 'halted')
      assert.equal(cliView.doc.rollback, true)
    } finally {
      events.stop()
    }
  })

  it('lists the rollout history and the audit log as the CLI does, with who acted; the log verifies', async () => {
    const history = await read.get('/api/v1/rollout-history')
    assert.deepEqual(history, await cli(['rollout', 'history', '--repo', repo, '--json']))
    assert.deepEqual(history.map((h: any) => [h.version, h.outcome, h.startedBy]), [['1.0.0', 'completed', 'ops'], ['1.1.0', 'rolled back', 'ops']])
    assert.equal(history[1].changedBy, 'ops', 'the halt was the operate token\'s')
    assert.deepEqual(await read.get('/api/v1/rollout-history?package=other'), [])
    const audit = await read.get('/api/v1/audit')
    assert.deepEqual(audit, await cli(['audit', '--repo', repo, '--json']))
    const starts = audit.filter((e: any) => e.action === 'rollout.start')
    assert.deepEqual(starts.map((e: any) => [e.args.version, e.actor, e.via]), [['1.0.0', 'ops', 'api'], ['1.1.0', 'ops', 'api']])
    assert.ok(audit.some((e: any) => e.action === 'release.add' && e.args.version === '1.1.0' && e.actor === 'ops'))
    assert.deepEqual(await read.get(`/api/v1/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`), [])
    const verified = await read.get('/api/v1/audit?verify=true')
    assert.equal(verified.ok, true, JSON.stringify(verified))
    assert.equal(verified.entries, audit.length)
    const bad = await read.request('GET', '/api/v1/audit?since=yesterday')
    assert.equal(bad.status, 400)
    assert.match(bad.body.error, /since: expected an ISO date/)
    assert.equal(bad.body.field, 'since')
  })

  it('shows the fleet as `umesh fleet --json` does, with filters, a node\'s reports and its live status', async () => {
    const peers = nodes.map(peerOf).sort()
    const fleet = await waitFor('both nodes in the fleet', async () => {
      const f = await read.get('/api/v1/fleet')
      return f.length === 2 ? f : undefined
    }, 30_000)
    assert.deepEqual(fleet.map((n: any) => n.peerId).sort(), peers)
    const cliFleet = await cli(['fleet', '--repo', repo, '--json'])
    const key = (n: any): string => `${n.peerId} ${n.package} ${n.rolloutId} ${n.tags.join(',')}`
    assert.deepEqual(fleet.map(key).sort(), cliFleet.map(key).sort())
    assert.deepEqual((await read.get('/api/v1/fleet?tag=canary')).map((n: any) => n.peerId), [peerOf(nodes[0])])
    assert.deepEqual(await read.get('/api/v1/fleet?package=other'), [])
    assert.deepEqual(await read.get('/api/v1/fleet?state=unreachable'), [])
    // nodes may still be rolling back: a version filter gives only nodes on that version
    await waitFor('the version filter', async () => {
      const v = (await read.get('/api/v1/fleet'))[0].current
      const f = await read.get(`/api/v1/fleet?version=${encodeURIComponent(v)}`)
      return f.length > 0 && f.every((n: any) => n.current === v)
    }, 20_000)
    const one = await read.get(`/api/v1/fleet/${peerOf(nodes[0])}`)
    assert.equal(one.node.peerId, peerOf(nodes[0]))
    assert.ok(one.reports.length >= 2, 'a report per rollout')
    assert.ok(one.reports[0].seq >= one.reports[1].seq, 'newest first')
    const live = await read.get(`/api/v1/fleet/${peerOf(nodes[0])}/status`)
    assert.equal(live.peerId, peerOf(nodes[0]))
    assert.ok(live.installs.some((i: any) => i.package === 'app'))
    const unknown = await read.request('GET', '/api/v1/fleet/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo')
    assert.equal(unknown.status, 404)
    const badPeer = await read.request('GET', '/api/v1/fleet/not-a-peer')
    assert.equal(badPeer.body.field, 'params.peerId')
    const history = await read.get('/api/v1/fleet/history')
    assert.equal(history.intervalMs, 10_000)
    assert.ok(Array.isArray(history.samples))
  })

  it('on a node that is not a coordinator: health, status and metrics, no management API', async () => {
    const t = await createToken(nodes[0].dataDir, 'read', 'node-reader')
    const c = new ApiClient(nodeBase, t)
    assert.equal((await c.request('GET', '/readyz')).status, 200)
    assert.equal((await c.get('/api/v1/status')).peerId, peerOf(nodes[0]))
    assert.deepEqual(await c.get('/api/v1/whoami'), { name: 'node-reader', role: 'read', coordinator: false })
    const fleet = await c.request('GET', '/api/v1/fleet')
    assert.equal(fleet.status, 404)
    assert.match(fleet.body.error, /not a coordinator/)
  })

  it('stops promptly while an event-stream client is connected: the stream ends, the daemon exits 0', async () => {
    const events = new EventReader(base, read.token!)
    await events.open()
    assert.equal(events.status, 200)
    const started = Date.now()
    assert.equal(await coordinator.stop(), 0)
    await events.done
    assert.ok(Date.now() - started < 8_000, `stopped in ${Date.now() - started} ms`)
  })

  it('refuses to listen beyond loopback while no token exists', async () => {
    const dir = join(tmp.path, 'lonely')
    const r = await runCli(['node', '--data-dir', dir, '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--http-listen', '0.0.0.0:0'], { timeoutMs: 20_000 })
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /httpListen: 0\.0\.0\.0:0 is reachable beyond this machine and no API token exists/)
  })
})
