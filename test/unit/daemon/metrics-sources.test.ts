/**
 * The daemon's metric sources over real parts, read back through
 * createMetrics and the strict parser: two libp2p mesh nodes on loopback
 * (connections, peers, bytes per protocol, every protocol a node speaks
 * known), a swarm with a release being fetched, real bandwidth caps, an
 * install manager that installed, failed and rolled back, a follower's or a
 * publisher's trust and releases, and a coordinator's book with the rollout
 * documents of a real repository. A daemon before its parts exist gives
 * phases only; transportOf names transports from the remote address.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { chunkCid, Bitfield } from '../../../protocols/shared/index.js'
import { metricsSources, transportOf } from '../../../src/daemon/metrics-sources.js'
import { FollowedReleases } from '../../../src/follow/index.js'
import { InstallManager } from '../../../src/install/manager.js'
import { createMetrics } from '../../../src/metrics/index.js'
import { knownProtocols } from '../../../src/network/protocol-ids.js'
import { PublishedReleases } from '../../../src/publish/index.js'
import { ReportBook } from '../../../src/rollout/index.js'
import { changeRollout, startRollout } from '../../../src/rollout/repo-rollouts.js'
import { Bandwidth, ReleaseSwarms, Swarm } from '../../../src/swarm/index.js'
import { ReleaseSwarm } from '../../../src/swarm/release-swarm.js'
import { Repository } from '../../../src/trust/repository.js'
import { VERSION } from '../../../src/version.js'
import { captureLogger } from '../../helpers/capture-logger.js'
import { EMPTY_STORE, startMeshNode } from '../../helpers/mesh-node.js'
import { tempDir, waitFor } from '../../helpers/cli.js'
import { releaseOf, writeHeldReleases } from '../../helpers/held-releases.js'
import { makeStateFiles, memoryStore, packageConfig } from '../../helpers/install-fixture.js'
import { findSamples, parsePrometheus, sampleValue } from '../../helpers/prom-parse.js'
import { addTreeRelease } from '../../helpers/release-repo.js'
import type { Daemon, DaemonParts } from '../../../src/daemon/daemon.js'
import type { PhaseRecord } from '../../../src/daemon/phases.js'
import type { MeshNodeParts } from '../../../src/network/create-node.js'
import type { PromFamily } from '../../helpers/prom-parse.js'

const NETWORK = 'metrics-test'
const v = sampleValue

const phases: PhaseRecord[] = [
  { name: 'core', state: 'done', durationMs: 4, detail: '' },
  { name: 'config', state: 'done', durationMs: 2, detail: '' },
  { name: 'http', state: 'done', durationMs: 9, detail: '' },
  { name: 'keys', state: 'running', durationMs: 0, detail: '' }
]

/** a Daemon as metricsSources reads it: role, loaded config (null: not loaded yet), phases, parts, and the log it emits */
function daemonOf (parts: DaemonParts, config: { repo?: string } | null = {}): { daemon: Daemon, logs: string[] } {
  const logs: string[] = []
  const daemon = {
    role: 'node',
    loaded: config == null ? undefined : { config: { network: NETWORK, ...config } },
    phases: { records: phases },
    parts,
    emit: (_event: string, _level: string, line: string) => { logs.push(line) }
  } as unknown as Daemon
  return { daemon, logs }
}

async function scrape (daemon: Daemon): Promise<Map<string, PromFamily>> {
  const metrics = createMetrics(metricsSources(daemon))
  try {
    return parsePrometheus(await metrics.scrape())
  } finally {
    metrics.stop()
  }
}

async function meshNode (swarms: ReleaseSwarms, bandwidth: Bandwidth): Promise<MeshNodeParts<Swarm>> {
  return await startMeshNode<Swarm>(NETWORK, {
    swarm: (node, peers) => new Swarm({ node, store: EMPTY_STORE, catalog: { piecesOf: async () => undefined }, peers, swarms, bandwidth, logger: captureLogger().components }, { network: NETWORK })
  })
}

describe('metricsSources', () => {
  const tmp = tempDir('umesh-metrics-sources-')
  const swarms = new ReleaseSwarms()
  const bandwidth = new Bandwidth({ upload: 100_000, download: 0 }, swarms)
  let a: MeshNodeParts<Swarm>
  let b: MeshNodeParts<Swarm>

  before(async () => {
    a = await meshNode(swarms, bandwidth)
    b = await meshNode(new ReleaseSwarms(), new Bandwidth({ upload: 0, download: 0 }))
    a.peers.start()
    await a.node.dial(b.node.getMultiaddrs()[0])
    // identify has run both ways once A knows what B speaks
    await waitFor('identify', async () => (await a.node.peerStore.get(b.node.peerId)).protocols.length > 0, 10_000, 20)
  })

  after(async () => {
    a?.peers.stop()
    await a?.node.stop()
    await b?.node.stop()
    tmp.remove()
  })

  it('before any part exists: the finished phases, no made-up values; no build info before the config is loaded', async () => {
    const f = await scrape(daemonOf({}, null).daemon)
    assert.deepEqual(findSamples(f, 'umesh_startup_phase_duration_seconds').map(s => [s.labels.phase, s.value]), [['core', 0.004], ['config', 0.002], ['http', 0.009]])
    for (const name of ['umesh_build_info', 'umesh_peers', 'umesh_swarm_pieces_held', 'umesh_install_state', 'umesh_trust_timestamp_version', 'umesh_fleet_nodes']) assert.deepEqual(f.get(name)!.samples, [], name)
    const loaded = await scrape(daemonOf({}).daemon)
    assert.equal(v(loaded, 'umesh_build_info', { version: VERSION, role: 'node', network: NETWORK }), 1)
  })

  it('a real node: peers, connections, bytes on connections and per protocol, every protocol it speaks known', async () => {
    // every protocol either node registers is labelled by its id, none as other
    const known = new Set(knownProtocols(NETWORK))
    for (const p of [...a.node.getProtocols(), ...b.node.getProtocols()]) assert.ok(known.has(p), `${p} is not in knownProtocols`)
    const f = await scrape(daemonOf({ mesh: a }).daemon)
    assert.equal(v(f, 'umesh_peers'), 1)
    assert.equal(v(f, 'umesh_connections', { direction: 'outbound', transport: 'tcp' }), 1)
    assert.equal(findSamples(f, 'umesh_connections').reduce((sum, s) => sum + s.value, 0), 1)
    assert.equal(v(f, 'umesh_network_bytes_total', { direction: 'in' }), a.traffic.totals.bytesIn)
    assert.ok(a.traffic.totals.bytesIn > 0 && a.traffic.totals.bytesOut > 0)
    const identify = `/umesh/${NETWORK}/id/1.0.0`
    assert.equal(v(f, 'umesh_protocol_bytes_total', { protocol: identify, direction: 'in' }), a.traffic.totals.byProtocol.get(identify)!.bytesIn)
    assert.ok(v(f, 'umesh_protocol_bytes_total', { protocol: identify, direction: 'in' })! > 0)
    assert.deepEqual(findSamples(f, 'umesh_protocol_bytes_total', { protocol: 'other' }), [])
    for (const s of findSamples(f, 'umesh_protocol_bytes_total')) assert.ok(known.has(s.labels.protocol), s.labels.protocol)
  })

  it('the swarm: pieces held, fetching and requested across its releases, counters; bandwidth caps, bytes, throttling', async () => {
    const pieces = { cids: Array.from({ length: 10 }, (_, i) => chunkCid(new Uint8Array([i]))), sizes: Array(10).fill(1) }
    const held = new Bitfield(10)
    for (const i of [0, 1, 2, 3]) held.set(i)
    const fetching = new ReleaseSwarm({ release: chunkCid(new Uint8Array([1, 2, 3])), pieces, held, self: a.node.peerId, opener: a.node, network: NETWORK, log: captureLogger().logger })
    fetching.listener = { peerJoined: () => {}, peerHas: () => {}, peerLeft: () => {} }
    fetching.requested = 3
    const complete = new Bitfield(10)
    for (let i = 0; i < 10; i++) complete.set(i)
    swarms.add(new ReleaseSwarm({ release: chunkCid(new Uint8Array([4])), pieces, held: complete, self: a.node.peerId, opener: a.node, network: NETWORK, log: captureLogger().logger }))
    swarms.add(fetching)
    Object.assign(a.swarm.counters, { piecesFetched: 7, verificationFailures: 2, protocolErrors: 1 })
    await bandwidth.upload.take(300_000)
    bandwidth.downloaded = 4_000
    const f = await scrape(daemonOf({ mesh: a, bandwidth }).daemon)
    assert.equal(v(f, 'umesh_swarm_releases'), 2)
    assert.equal(v(f, 'umesh_swarm_pieces_held'), 14)
    assert.equal(v(f, 'umesh_swarm_pieces_fetching'), 6)
    assert.equal(v(f, 'umesh_swarm_pieces_requested'), 3)
    assert.equal(v(f, 'umesh_swarm_pieces_fetched_total'), 7)
    assert.equal(v(f, 'umesh_swarm_chunk_verification_failures_total'), 2)
    assert.equal(v(f, 'umesh_swarm_chunk_protocol_errors_total'), 1)
    assert.equal(v(f, 'umesh_swarm_limit_bytes_per_second', { direction: 'upload' }), 100_000)
    assert.equal(v(f, 'umesh_swarm_limit_bytes_per_second', { direction: 'download' }), 0)
    assert.equal(v(f, 'umesh_swarm_bytes_total', { direction: 'upload' }), 300_000)
    assert.equal(v(f, 'umesh_swarm_bytes_total', { direction: 'download' }), 4_000)
    // 300 kB through a 100 kB/s cap with a 64 KiB burst: the next chunk waits about 2.3 s
    const delay = v(f, 'umesh_swarm_throttle_delay_seconds', { direction: 'upload' })!
    assert.ok(delay > 1.5 && delay < 2.4, `upload delay ${delay}`)
    assert.equal(v(f, 'umesh_swarm_throttle_delay_seconds', { direction: 'download' }), 0)
    assert.equal(v(f, 'umesh_swarm_upload_queue'), 0)
    swarms.closeAll()
  })

  it('installs: state and version per package, and each install, failure and rollback the manager ran counted', async () => {
    const store = memoryStore()
    const dataDir = join(tmp.path, 'node')
    makeStateFiles(dataDir)
    process.env.UMESH_STATE_DIR = join(dataDir, 'state')
    const releases = [
      { index: releaseOf(tmp.path, store, { version: '1.0.0' }, 0) },
      { index: releaseOf(tmp.path, store, { version: '1.1.0' }, 1) },
      { index: releaseOf(tmp.path, store, { version: '1.2.0', broken: true }, 2) }
    ]
    const { paths } = writeHeldReleases(dataDir, releases, ['app@stable'])
    const manager = new InstallManager({ paths, store, logger: captureLogger().components }, { packages: { app: packageConfig(dataDir) } })
    await manager.upgrade({ package: 'app', choice: { to: '1.0.0' } })
    await manager.upgrade({ package: 'app', choice: { to: '1.1.0' } })
    await assert.rejects(manager.upgrade({ package: 'app', choice: { to: '1.2.0' } }), { name: 'InstallFailedError' })
    await manager.rollback('app')
    const history = manager.installer('app').history()
    assert.equal(history.length, 4)
    const f = await scrape(daemonOf({ installs: manager }).daemon)
    const expected = new Map<string, number>()
    for (const h of history) {
      const key = `${h.kind} ${h.outcome.replace('-', '_')}`
      expected.set(key, (expected.get(key) ?? 0) + 1)
    }
    const counted = new Map(findSamples(f, 'umesh_installs_total', { package: 'app' }).map(s => [`${s.labels.kind} ${s.labels.outcome}`, s.value]))
    assert.deepEqual(counted, expected)
    assert.equal(counted.get('upgrade installed'), 2)
    assert.equal(counted.get('rollback rolled_back'), 1)
    const status = manager.status()[0]
    assert.equal(v(f, 'umesh_install_state', { package: 'app', state: status.state.replace('-', '_') }), 1)
    assert.equal(findSamples(f, 'umesh_install_state', { package: 'app' }).reduce((sum, s) => sum + s.value, 0), 1)
    assert.equal(v(f, 'umesh_install_current_info', { package: 'app', version: status.current! }), 1)
  })

  it('a follower: trust, held / fetching / failed releases, announcements, latency; an idle package whose release is fetching is fetching', async () => {
    const releases = new FollowedReleases({ trust: { timestampVersion: () => 12 }, held: { list: () => ['releases/app/1.0.0.json', 'releases/app/1.1.0.json'] } } as any)
    const follower = {
      progress: {
        releases: new Map([
          ['releases/app/1.1.0.json', { package: 'app', state: 'held' }],
          ['releases/app/1.2.0.json', { package: 'app', state: 'fetching' }],
          ['releases/db/3.0.0.json', { package: 'db', state: 'failed' }]
        ]),
        stale: false,
        lastRefresh: 1_800_000_000_000
      },
      announceLatency: { count: 2, recent: [0.3, 1.5] }
    }
    const installs = { status: () => [{ package: 'app', state: 'idle', current: '1.0.0', available: '1.1.0' }], outcomes: new Map() }
    const announcements = { counts: { accepted: 4, ignored: 1, rejected: 2 } }
    const f = await scrape(daemonOf({ releases, follower, installs, announcements } as unknown as DaemonParts).daemon)
    assert.equal(v(f, 'umesh_trust_timestamp_version'), 12)
    assert.equal(v(f, 'umesh_trust_stale'), 0)
    assert.equal(v(f, 'umesh_trust_last_refresh_timestamp_seconds'), 1_800_000_000)
    assert.deepEqual(Object.fromEntries(findSamples(f, 'umesh_releases').map(s => [s.labels.state, s.value])), { held: 2, fetching: 1, failed: 1 })
    assert.equal(v(f, 'umesh_announcements_total', { verdict: 'rejected' }), 2)
    assert.equal(v(f, 'umesh_announcement_to_verified_seconds_count'), 2)
    assert.equal(v(f, 'umesh_install_state', { package: 'app', state: 'fetching' }), 1)
    assert.equal(v(f, 'umesh_install_update_available', { package: 'app' }), 1)
  })

  it('a publisher and coordinator: its timestamp and releases, the fleet from the book, the rollouts from the repository', async () => {
    const repoDir = join(tmp.path, 'repo')
    const repo = Repository.init(repoDir)
    await addTreeRelease(repo, tmp.path, 'app', '1.0.0')
    await addTreeRelease(repo, tmp.path, 'app', '1.1.0')
    const doc = startRollout(repo, { package: 'app', version: '1.1.0', waves: [{ name: 'canary', count: 1, peers: [] }, { name: 'rest', fraction: 1, peers: [] }], gate: { success: 1, soakMs: 0 }, abort: 0.5, maxParallel: 1, manual: false, allowDowngrade: false, critical: false })
    const book = new ReportBook()
    book.accept({ peerId: 'p1', rolloutId: doc.id, package: 'app', version: '1.1.0', outcome: 'healthy', current: '1.1.0', wave: 0, reason: '', tags: ['canary'], at: Date.now(), seq: 1 })
    book.accept({ peerId: 'p2', rolloutId: doc.id, package: 'app', version: '1.1.0', outcome: 'waiting', current: '1.0.0', wave: 1, reason: '', tags: [], at: Date.now(), seq: 1 })
    const published = new PublishedReleases(repoDir)
    const { daemon } = daemonOf({ releases: published, coordinator: { book } } as unknown as DaemonParts, { repo: repoDir })
    const metrics = createMetrics(metricsSources(daemon))
    try {
      let f = parsePrometheus(await metrics.scrape())
      assert.equal(v(f, 'umesh_trust_timestamp_version'), published.timestampVersion())
      assert.deepEqual(Object.fromEntries(findSamples(f, 'umesh_releases').map(s => [s.labels.state, s.value])), { held: 2, fetching: 0, failed: 0 })
      assert.equal(v(f, 'umesh_fleet_nodes', { package: 'app', version: '1.1.0', state: 'healthy' }), 1)
      assert.equal(v(f, 'umesh_fleet_nodes', { package: 'app', version: '1.0.0', state: 'waiting' }), 1)
      assert.equal(v(f, 'umesh_rollout_info', { package: 'app', version: '1.1.0' }), 1)
      assert.equal(v(f, 'umesh_rollout_state', { package: 'app', state: 'running' }), 1)
      assert.equal(v(f, 'umesh_rollout_wave_nodes', { package: 'app', wave: 'canary', state: 'healthy' }), 1)
      assert.equal(v(f, 'umesh_rollout_wave_nodes', { package: 'app', wave: 'rest', state: 'pending' }), 1)
      // the documents are read again after ROLLOUTS_TTL_MS, not on every scrape
      changeRollout(repo, 'app', { kind: 'state', state: 'paused', reason: 'test' })
      f = parsePrometheus(await metrics.scrape())
      assert.equal(v(f, 'umesh_rollout_state', { package: 'app', state: 'running' }), 1)
    } finally {
      metrics.stop()
    }
  })

  it('a metric that cannot be computed is logged once, not on every scrape', async () => {
    const broken = { stats: () => { throw new Error('no stats') } }
    const { daemon, logs } = daemonOf({ mesh: { ...a, swarm: broken } } as unknown as DaemonParts)
    const metrics = createMetrics(metricsSources(daemon))
    try {
      const f = parsePrometheus(await metrics.scrape())
      await metrics.scrape()
      assert.deepEqual(f.get('umesh_swarm_sessions')!.samples, [])
      assert.equal(v(f, 'umesh_peers'), 1)
      const swarmLines = logs.filter(l => l.includes('no stats'))
      assert.ok(swarmLines.length > 0 && swarmLines.every(l => /^metric umesh_swarm_\w+ could not be computed: no stats$/.test(l)), logs.join('\n'))
      assert.equal(new Set(swarmLines).size, swarmLines.length, 'each metric logged once over two scrapes')
    } finally {
      metrics.stop()
    }
  })
})

describe('transportOf', () => {
  const conn = (addr: string, direct = true): Parameters<typeof transportOf>[0] => ({ remoteAddr: multiaddr(addr), direct })
  it('names the transport from the remote address; a relayed connection is relay', () => {
    assert.equal(transportOf(conn('/ip4/10.0.0.1/tcp/4090')), 'tcp')
    assert.equal(transportOf(conn('/ip6/::1/tcp/4090/ws')), 'websockets')
    assert.equal(transportOf(conn('/dns4/a.example/tcp/443/wss')), 'websockets')
    assert.equal(transportOf(conn('/ip4/10.0.0.1/udp/4090/quic-v1')), 'quic')
    assert.equal(transportOf(conn('/ip4/10.0.0.1/udp/4090/quic-v1/webtransport')), 'webtransport')
    assert.equal(transportOf(conn('/ip4/10.0.0.1/udp/4090/webrtc-direct')), 'webrtc')
    assert.equal(transportOf(conn('/ip4/10.0.0.1/tcp/4090/p2p/12D3KooWGRUVh5bNPGJPdBsmDqk8SGZpbqG9AwUtYD4fQdhZFCn9/p2p-circuit')), 'relay')
    assert.equal(transportOf(conn('/ip4/10.0.0.1/tcp/4090', false)), 'relay')
    assert.equal(transportOf(conn('/ip4/10.0.0.1/udp/53')), 'other')
  })
})
