/**
 * /metrics on real processes, read by a strict Prometheus text parser: a
 * follower that installs `app` and a coordinator with a rollout. The
 * values agree with `umesh status --json` taken around the scrape (bytes
 * in and out, peers, the installed version), announcements are timed from
 * arrival to verified metadata, and the coordinator's fleet and waves add
 * up to `umesh fleet --json`. A bootstrap node's listener answers too.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { freePort, LocalMesh, MeshProcess } from '../../src/demo/local-mesh.js'
import { runCli, tempDir, waitFor } from '../helpers/cli.js'
import { ApiClient } from '../helpers/http-api.js'
import { releaseSource } from '../helpers/install-fixture.js'
import { findSamples, parsePrometheus, sampleValue } from '../helpers/prom-parse.js'
import type { PromFamily } from '../helpers/prom-parse.js'

describe('/metrics on real processes', () => {
  const tmp = tempDir('umesh-http-metrics-')
  const repo = join(tmp.path, 'repo')
  const mesh = new LocalMesh({ dir: join(tmp.path, 'mesh'), nodes: 0 })
  let coordinator: MeshProcess
  let follower: MeshProcess
  let other: MeshProcess
  let coordinatorHttp: ApiClient
  let followerHttp: ApiClient

  const cli = async (args: string[]): Promise<any> => {
    const r = await runCli(args)
    assert.equal(r.code, 0, r.stderr)
    return r.stdout.trim().startsWith('{') || r.stdout.trim().startsWith('[') ? JSON.parse(r.stdout) : r.stdout
  }
  const scrape = async (c: ApiClient): Promise<Map<string, PromFamily>> => {
    const r = await c.request('GET', '/metrics')
    assert.equal(r.status, 200)
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/)
    return parsePrometheus(r.body)
  }
  const status = async (p: MeshProcess): Promise<any> => await cli(['status', '--data-dir', p.dataDir, '--json'])

  before(async () => {
    assert.equal((await runCli(['repo', 'init', '--repo', repo])).code, 0)
    await cli(['release', 'add', releaseSource(tmp.path, { version: '1.0.0' }, 0), '--repo', repo, '--package', 'app', '--version', '1.0.0'])
    await mesh.start()
    const [cp, fp] = [await freePort(), await freePort()]
    coordinator = mesh.addNode('publisher', ['--repo', repo, '--coordinator', '--http-listen', `127.0.0.1:${cp}`])
    const packages = JSON.stringify({ app: { health: { command: ['/bin/sh', 'bin/health'], timeoutMs: 5_000, retries: 1, intervalMs: 200 } } })
    const follow = ['--trusted-root', join(repo, 'metadata', '1.root.json'), '--follow', 'app', '--packages', packages, '--check-interval', '5']
    follower = mesh.addNode('node-1', [...follow, '--http-listen', `127.0.0.1:${fp}`, '--tag', 'canary'])
    other = mesh.addNode('node-2', follow)
    await Promise.all([coordinator, follower, other].map(async p => { await p.waitReady(30_000) }))
    coordinatorHttp = new ApiClient(`http://127.0.0.1:${cp}`)
    followerHttp = new ApiClient(`http://127.0.0.1:${fp}`)
    await cli(['rollout', 'start', '--repo', repo, '--package', 'app', '--version', '1.0.0', '--waves', '100%', '--gate', 'success>=1,soak=1s', '--max-parallel', '2'])
    let last: any
    await waitFor('the rollout completed', async () => {
      last = await cli(['rollout', 'status', '--repo', repo, '--json'])
      return last.doc.state === 'completed'
    }, 90_000, 500).catch(err => {
      // what the rollout and the followers were doing, so a timeout here can be told from a slow machine
      const tail = (p: MeshProcess): string => `--- ${p.name}:\n${p.output.slice(-3000)}`
      throw new Error(`${(err as Error).message}; last rollout status: ${JSON.stringify(last)}\n${[coordinator, follower, other].map(tail).join('\n')}`)
    })
  })

  after(async () => {
    await mesh.stop()
    tmp.remove()
  })

  it('a follower: bytes, peers and the installed version agree with `umesh status --json`', async () => {
    const s1 = await status(follower)
    const f = await scrape(followerHttp)
    const s2 = await status(follower)
    const bytesIn = sampleValue(f, 'umesh_network_bytes_total', { direction: 'in' })!
    const bytesOut = sampleValue(f, 'umesh_network_bytes_total', { direction: 'out' })!
    assert.ok(s1.traffic.bytesIn <= bytesIn && bytesIn <= s2.traffic.bytesIn, `bytes in ${s1.traffic.bytesIn} <= ${bytesIn} <= ${s2.traffic.bytesIn}`)
    assert.ok(s1.traffic.bytesOut <= bytesOut && bytesOut <= s2.traffic.bytesOut, `bytes out ${s1.traffic.bytesOut} <= ${bytesOut} <= ${s2.traffic.bytesOut}`)
    // bytes per protocol add up to no more than all bytes (streams' framing and the handshake are not a protocol's)
    const perProtocol = findSamples(f, 'umesh_protocol_bytes_total', { direction: 'in' }).reduce((n, x) => n + x.value, 0)
    assert.ok(perProtocol > 0 && perProtocol <= bytesIn, `${perProtocol} <= ${bytesIn}`)
    // status lists connections (two to one peer when both dialled), the asking CLI's own among them
    const meshPeers = new Set([mesh.bootstrap!, coordinator, other].map(p => readDaemonFile(p.dataDir).peerId))
    const inMesh = (s: any): number => new Set(s.peers.map((p: any) => p.peerId).filter((id: string) => meshPeers.has(id))).size
    assert.equal(inMesh(s1), 3)
    assert.equal(inMesh(s2), 3)
    assert.equal(sampleValue(f, 'umesh_peers'), 3)
    const connections = findSamples(f, 'umesh_connections').reduce((n, x) => n + x.value, 0)
    assert.ok(connections >= 3 && connections <= Math.max(s1.connections, s2.connections), `${connections} connections`)
    const app = s2.installs.find((i: any) => i.package === 'app')
    assert.equal(app.current, '1.0.0')
    assert.equal(sampleValue(f, 'umesh_install_current_info', { package: 'app', version: '1.0.0' }), 1)
    // the state status names is the one set to 1 (label values in snake_case)
    assert.equal(sampleValue(f, 'umesh_install_state', { package: 'app', state: app.state.replace(/-/g, '_') }), 1, `${app.state}: ${JSON.stringify(findSamples(f, 'umesh_install_state'))}`)
    assert.equal(findSamples(f, 'umesh_install_state', { package: 'app' }).reduce((n, x) => n + x.value, 0), 1, 'one state at a time')
    assert.ok((sampleValue(f, 'umesh_installs_total', { package: 'app', kind: 'upgrade', outcome: 'installed' }) ?? 0) >= 1, JSON.stringify(findSamples(f, 'umesh_installs_total')))
    for (const phase of ['core', 'config', 'http', 'network', 'sync']) assert.ok(sampleValue(f, 'umesh_startup_phase_duration_seconds', { phase }) !== undefined, phase)
    assert.ok(sampleValue(f, 'umesh_swarm_pieces_held')! >= 1)
    assert.ok(sampleValue(f, 'umesh_process_resident_memory_bytes')! > 10e6)
    assert.ok(sampleValue(f, 'umesh_process_heap_used_bytes')! > 0)
    assert.ok(sampleValue(f, 'umesh_process_heap_total_bytes')! >= sampleValue(f, 'umesh_process_heap_used_bytes')!)
    assert.ok(sampleValue(f, 'umesh_process_external_memory_bytes')! >= sampleValue(f, 'umesh_process_array_buffers_bytes')!)
    assert.ok(sampleValue(f, 'umesh_process_array_buffers_bytes')! > 0)
    assert.ok(findSamples(f, 'umesh_event_loop_lag_p99_seconds').length === 1)
  })

  it('times announcements from arrival to verified metadata', async () => {
    const before = sampleValue(await scrape(followerHttp), 'umesh_announcement_to_verified_seconds_count') ?? 0
    await cli(['release', 'publish', '--repo', repo])
    await waitFor('a timed announcement', async () => (sampleValue(await scrape(followerHttp), 'umesh_announcement_to_verified_seconds_count') ?? 0) > before, 30_000, 500)
    const f = await scrape(followerHttp)
    const sum = sampleValue(f, 'umesh_announcement_to_verified_seconds_sum')!
    assert.ok(sum > 0 && sum < 60, String(sum))
  })

  it('a bootstrap node: its own listener answers health, readiness and its metrics', async () => {
    const port = await freePort()
    const boot = new MeshProcess('bootstrap-2', 'bootstrap', join(tmp.path, 'bootstrap-2'), [...mesh.nodeArgs(), '--http-listen', `127.0.0.1:${port}`], join(tmp.path, 'bootstrap-2.log'))
    try {
      await boot.waitReady(30_000)
      const c = new ApiClient(`http://127.0.0.1:${port}`)
      assert.equal((await c.request('GET', '/readyz')).status, 200)
      const f = await scrape(c)
      assert.equal(sampleValue(f, 'umesh_build_info', { role: 'bootstrap', network: 'umesh', version: findSamples(f, 'umesh_build_info')[0].labels.version }), 1)
      assert.ok(sampleValue(f, 'umesh_peers')! >= 1, 'it joined the mesh')
      assert.deepEqual(findSamples(f, 'umesh_install_state'), [], 'a bootstrap node installs nothing')
    } finally {
      await boot.stop()
    }
  })

  it('a coordinator: the fleet and the waves add up to `umesh fleet --json` and the rollout state', async () => {
    const fleet = await cli(['fleet', '--repo', repo, '--json'])
    const f = await scrape(coordinatorHttp)
    assert.equal(findSamples(f, 'umesh_fleet_nodes', { package: 'app' }).reduce((n, x) => n + x.value, 0), fleet.length)
    assert.equal(fleet.length, 2)
    const onVersion = fleet.filter((n: any) => n.current === '1.0.0').length
    assert.equal(findSamples(f, 'umesh_fleet_nodes', { package: 'app', version: '1.0.0' }).reduce((n, x) => n + x.value, 0), onVersion)
    assert.equal(sampleValue(f, 'umesh_rollout_state', { package: 'app', state: 'completed' }), 1)
    assert.equal(findSamples(f, 'umesh_rollout_wave_nodes', { package: 'app', state: 'healthy' }).reduce((n, x) => n + x.value, 0), 2)
    // no label carries a peer id
    const peerIds = [follower, other].map(p => readDaemonFile(p.dataDir).peerId)
    for (const fam of f.values()) for (const sample of fam.samples) for (const v of Object.values(sample.labels)) assert.ok(!peerIds.includes(v), `${sample.name} labels a peer id`)
  })
})
