/**
 * The follower against a real TUF repository served over the real sync
 * protocol by a libp2p node on loopback: rounds refresh the trust chain with
 * tuf-js, pick the newest release of each followed package on its channel
 * (and the one its rollout names), verify the index, hand its pieces to the
 * swarm and hold it. The swarm, the peer list and the announce topic are
 * stubs: what they are asked is what the tests check.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { chunkCid } from '../../../protocols/shared/index.js'
import { syncProtocol } from '../../../protocols/sync/index.js'
import { dataPaths, HeldReleases, readHeldFile, targetFile } from '../../../src/data-dir/index.js'
import { FollowedReleases, Follower, NodeTrust } from '../../../src/follow/index.js'
import { startRollout } from '../../../src/rollout/repo-rollouts.js'
import { piecesOf } from '../../../src/swarm/index.js'
import { Repository, targetFilePath } from '../../../src/trust/repository.js'
import { captureLogger } from '../../helpers/capture-logger.js'
import { tempDir, waitFor } from '../../helpers/cli.js'
import { addTreeRelease, repoTimestamp, signedBytes, signedHash, signedIndex } from '../../helpers/release-repo.js'
import { syncServerAndClient } from '../../helpers/sync-server.js'
import type { DataPaths, FollowedPackage } from '../../../src/data-dir/index.js'
import type { FollowerComponents, HeldRelease } from '../../../src/follow/index.js'
import type { PeerProtocols } from '../../../src/network/peer-protocols.js'
import type { FetchOptions, Pieces } from '../../../src/swarm/index.js'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

const NETWORK = 'test'
const APP_STABLE = 'releases/app/1.1.0.json'
const APP_BETA = 'releases/app/1.2.0-beta.1.json'

interface SwarmCall { release: CID, pieces: Pieces, options?: FetchOptions }

/** one follower over a fresh data dir, and what its stubs were asked */
interface Harness {
  follower: Follower
  paths: DataPaths
  releases: FollowedReleases
  calls: SwarmCall[]
  provided: CID[]
  announcements: EventEmitter
  held: HeldRelease[]
  lines: string[]
}

/** the peer list: `peers()` are connected and speak every protocol asked about */
class PeerList extends EventEmitter {
  constructor (private readonly peers: () => PeerId[]) { super() }
  connectedSpeaking (protocol: string): PeerId[] {
    return protocol === syncProtocol(NETWORK) ? this.peers() : []
  }

  speaks (): boolean { return true }
  connectedCount (): number { return this.peers().length }
  unknownCount (): number { return 0 }
}

/** resolves with the `held` event for `targetPath`; fails the test after `ms` */
async function heldEvent (follower: Follower, targetPath: string, ms = 5_000): Promise<HeldRelease> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      follower.off('held', onHeld)
      reject(new Error(`no held event for ${targetPath} within ${ms} ms`))
    }, ms)
    const onHeld = (held: HeldRelease): void => {
      if (held.targetPath !== targetPath) return
      clearTimeout(timer)
      follower.off('held', onHeld)
      resolve(held)
    }
    follower.on('held', onHeld)
  })
}

describe('Follower', () => {
  // AbortSignal.timeout does not hold the event loop open; the sockets do, and this between tests
  let keepAlive: NodeJS.Timeout
  const tmp = tempDir('umesh-follower-')
  const repoDir = join(tmp.path, 'repo')
  let server: Libp2p
  let client: Libp2p
  let dirs = 0
  const running: Follower[] = []

  before(async () => {
    keepAlive = setInterval(() => {}, 1000)
    const repo = Repository.init(repoDir)
    await addTreeRelease(repo, tmp.path, 'app', '1.0.0')
    await addTreeRelease(repo, tmp.path, 'app', '1.1.0', 700 * 1024)
    await addTreeRelease(repo, tmp.path, 'app', '1.2.0-beta.1')
    await addTreeRelease(repo, tmp.path, 'svc', '2.0.0')
    await addTreeRelease(repo, tmp.path, 'svc', '2.1.0')
    // a rollout naming the older svc version: the follower holds it as well as the newest
    startRollout(repo, { package: 'svc', version: '2.0.0', waves: [{ name: 'all', fraction: 1, peers: [] }], gate: { success: 1, soakMs: 0 }, abort: 0.5, maxParallel: 1, manual: false, allowDowngrade: false, critical: false })
    ;({ server, client } = await syncServerAndClient(NETWORK, repoDir))
  })

  after(async () => {
    for (const f of running) f.stop()
    clearInterval(keepAlive)
    await client?.stop()
    await server?.stop()
    tmp.remove()
  })

  /**
   * A follower of `follow` over a new data dir (or `paths`, for a restart).
   * `fetch` is what the swarm does with a release; by default it resolves.
   */
  function harness (follow: FollowedPackage[], options: { paths?: DataPaths, fetch?: (call: SwarmCall) => Promise<void>, peers?: () => PeerId[] } = {}): Harness {
    const paths = options.paths ?? dataPaths(join(tmp.path, `node-${++dirs}`))
    mkdirSync(paths.root, { recursive: true })
    const trust = new NodeTrust(paths)
    trust.init(join(repoDir, 'metadata', '1.root.json'))
    const releases = new FollowedReleases({ trust, paths, held: new HeldReleases(paths.held, follow) })
    const calls: SwarmCall[] = []
    const provided: CID[] = []
    const announcements = new EventEmitter()
    const { components: logger, lines } = captureLogger()
    const node = {
      dialProtocol: client.dialProtocol.bind(client),
      contentRouting: { provide: async (cid: CID) => { provided.push(cid) } }
    } as unknown as FollowerComponents['node']
    const swarm = {
      fetch: async (release: CID, pieces: Pieces, opts?: FetchOptions) => {
        const call = { release, pieces, options: opts }
        calls.push(call)
        await options.fetch?.(call)
      }
    }
    const peers = new PeerList(options.peers ?? (() => [server.peerId])) as unknown as PeerProtocols
    const follower = new Follower({ node, releases, paths, swarm, peers, announcements: announcements as any, logger }, { network: NETWORK, follow, periodicMs: 60_000 })
    const held: HeldRelease[] = []
    follower.on('held', h => { held.push(h) })
    running.push(follower)
    return { follower, paths, releases, calls, provided, announcements, held, lines }
  }

  /** a swarm fetch that never ends by itself: it rejects when its signal is aborted */
  const hang = async (call: SwarmCall): Promise<void> => {
    await new Promise((_resolve, reject) => {
      const signal = call.options?.signal
      assert.ok(signal != null, 'the swarm is given an abort signal')
      signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
    })
  }

  it('a round refreshes to the repository\'s timestamp, holds the newest stable release (not the newer beta) and emits it with its signed index', async () => {
    const h = harness([{ package: 'app', channel: 'stable' }])
    const event = heldEvent(h.follower, APP_STABLE)
    h.follower.start()
    const held = await event
    const bytes = signedBytes(repoDir, APP_STABLE)
    const index = signedIndex(repoDir, APP_STABLE)
    assert.equal(h.releases.trust.timestampVersion(), repoTimestamp(repoDir).version)
    assert.deepEqual(held, { package: 'app', version: '1.1.0', targetPath: APP_STABLE, index })
    assert.ok(index.files.some(f => f.chunks.length > 1), 'the release has several pieces')

    assert.equal(h.calls.length, 1)
    const [call] = h.calls
    assert.ok(call.release.equals(chunkCid(bytes)), 'the swarm is asked for the release by the CID of its signed index')
    assert.deepEqual(call.pieces.cids.map(String), piecesOf(index.files).cids.map(String))
    assert.deepEqual(call.pieces.sizes, piecesOf(index.files).sizes)
    assert.ok(h.provided.some(c => c.equals(chunkCid(bytes))), 'a DHT provider record for the index')

    assert.ok(h.releases.held.has(APP_STABLE))
    assert.deepEqual(readHeldFile(h.paths.held), { releases: [APP_STABLE], follow: ['app@stable'] })
    assert.deepEqual(h.releases.summary(), { timestampVersion: repoTimestamp(repoDir).version, releases: [APP_STABLE] }, 'what the sync protocol tells peers')
    const mirrored = join(h.releases.mirrorRoot(), 'targets', targetFilePath(APP_STABLE, signedHash(repoDir, APP_STABLE)))
    assert.deepEqual(readFileSync(mirrored), bytes, 'the verified index is mirrored for peers')
    // every version's index is kept for changelogs, but only the newest stable one is fetched
    await waitFor('every app index on disk', () => ['1.0.0', '1.1.0', '1.2.0-beta.1'].every(v => existsSync(targetFile(h.paths, signedHash(repoDir, `releases/app/${v}.json`), 'index'))), 5_000, 20)
    await new Promise(resolve => setTimeout(resolve, 200))
    assert.equal(h.calls.length, 1, 'the beta is not fetched on stable')
    assert.deepEqual(h.held.map(r => r.version), ['1.1.0'])
    h.follower.stop()
  })

  it('a follower of the beta channel holds the beta', async () => {
    const h = harness([{ package: 'app', channel: 'beta' }])
    const event = heldEvent(h.follower, APP_BETA)
    h.follower.start()
    assert.equal((await event).version, '1.2.0-beta.1')
    assert.ok(h.calls[0].release.equals(chunkCid(signedBytes(repoDir, APP_BETA))))
    h.follower.stop()
  })

  it('an accepted announcement starts a round that holds the release it announces', async () => {
    const h = harness([{ package: 'tool', channel: 'stable' }])
    h.follower.start()
    await waitFor('the first round', () => h.follower.progress.lastRefresh > 0, 5_000, 20)
    // the start-up rounds (start and catch-up) end; nothing more runs until something starts one
    await new Promise(resolve => setTimeout(resolve, 300))
    await addTreeRelease(Repository.open(repoDir), tmp.path, 'tool', '1.0.0')
    await new Promise(resolve => setTimeout(resolve, 500))
    assert.equal(h.calls.length, 0, 'no round without an announcement')
    const event = heldEvent(h.follower, 'releases/tool/1.0.0.json')
    const ts = repoTimestamp(repoDir)
    h.announcements.emit('timestamp', { from: server.peerId, version: ts.version, bytes: ts.bytes })
    assert.equal((await event).version, '1.0.0')
    assert.equal(h.releases.trust.timestampVersion(), ts.version)
    h.follower.stop()
  })

  it('stop() aborts the round under way: the swarm\'s signal is aborted and nothing is held', async () => {
    const h = harness([{ package: 'app', channel: 'stable' }], { fetch: hang })
    h.follower.start()
    await waitFor('the swarm to be asked', () => h.calls.length === 1, 5_000, 20)
    const signal = h.calls[0].options!.signal!
    assert.equal(signal.aborted, false)
    assert.equal(h.follower.progress.releases.get(APP_STABLE)?.state, 'fetching')
    h.follower.stop()
    assert.equal(signal.aborted, true)
    assert.equal(h.follower.stopped, true)
    await waitFor('the fetch to fail', () => h.follower.progress.releases.get(APP_STABLE)?.state === 'failed', 2_000, 20)
    assert.equal(h.releases.held.has(APP_STABLE), false)
    assert.equal(existsSync(h.paths.held), false, 'held.json is not written')
    assert.deepEqual(h.held, [])
  })

  it('fetches the rollout document and holds the version it names too; document() is its bytes until the file changes on disk', async () => {
    const h = harness([{ package: 'svc', channel: 'stable' }])
    const older = heldEvent(h.follower, 'releases/svc/2.0.0.json')
    const newest = heldEvent(h.follower, 'releases/svc/2.1.0.json')
    h.follower.start()
    await Promise.all([older, newest])
    assert.deepEqual(h.held.map(r => r.version), ['2.0.0', '2.1.0'], 'the rollout\'s version first')
    const rollout = signedBytes(repoDir, 'rollouts/svc.json', 'rollouts')
    const hash = signedHash(repoDir, 'rollouts/svc.json', 'rollouts')
    assert.equal(JSON.parse(rollout.toString()).version, '2.0.0')
    assert.deepEqual(Buffer.from(h.follower.rollouts.document('svc')!), rollout)
    assert.equal(h.follower.rollouts.document('app'), undefined, 'a package without a rollout')
    assert.deepEqual(readFileSync(join(h.releases.mirrorRoot(), 'targets', targetFilePath('rollouts/svc.json', hash))), rollout, 'mirrored for peers')
    h.follower.stop()

    // a restarted node knows the document from its trusted metadata before any round
    const again = harness([{ package: 'svc', channel: 'stable' }], { paths: h.paths })
    assert.deepEqual(Buffer.from(again.follower.rollouts.document('svc')!), rollout)

    writeFileSync(targetFile(h.paths, hash, 'rollout'), Buffer.from(rollout.toString().replace('"2.0.0"', '"2.1.0"')))
    assert.throws(() => again.follower.rollouts.document('svc'), (err: any) => err.name === 'HashMismatchError')
  })

  it('FollowedReleases.piecesOf: the pieces of a verified index by its CID; undefined for an unknown CID or a changed file', async () => {
    const h = harness([{ package: 'app', channel: 'stable' }])
    const event = heldEvent(h.follower, APP_STABLE)
    h.follower.start()
    await event
    h.follower.stop()
    const bytes = signedBytes(repoDir, APP_STABLE)
    const pieces = await h.releases.piecesOf(chunkCid(bytes))
    assert.ok(pieces != null)
    const expected = piecesOf(signedIndex(repoDir, APP_STABLE).files)
    assert.deepEqual(pieces.cids.map(String), expected.cids.map(String))
    assert.deepEqual(pieces.sizes, expected.sizes)
    assert.equal(await h.releases.piecesOf(chunkCid(new TextEncoder().encode('not an index'))), undefined)
    const file = targetFile(h.paths, signedHash(repoDir, APP_STABLE), 'index')
    writeFileSync(file, Buffer.from(bytes.toString().replace('"1.1.0"', '"9.9.9"')))
    assert.equal(await h.releases.piecesOf(chunkCid(bytes)), undefined)
  })

  it('report() lists the releases held and those being fetched with their progress, also after a restart', async () => {
    const svc = 'releases/svc/2.0.0.json'
    const h = harness([{ package: 'app', channel: 'stable' }, { package: 'svc', channel: 'stable' }], {
      fetch: async (call) => { if (call.release.equals(chunkCid(signedBytes(repoDir, svc)))) await hang(call) }
    })
    const event = heldEvent(h.follower, APP_STABLE)
    h.follower.start()
    await event
    await waitFor('svc to be fetching', () => h.calls.length === 2, 5_000, 20)
    const svcPieces = h.calls[1].pieces.cids.length
    h.calls[1].options!.onProgress!(1, svcPieces)
    const report = h.follower.report()
    const appIndex = signedIndex(repoDir, APP_STABLE)
    const svcIndex = signedIndex(repoDir, svc)
    const row = (version: string): unknown => report.releases.find(r => r.version === version)
    assert.deepEqual(row('1.1.0'), { package: 'app', version: '1.1.0', channel: 'stable', state: 'held', chunksHeld: 0, chunksTotal: piecesOf(appIndex.files).cids.length, bytesTotal: BigInt(appIndex.totalSize), error: '' })
    assert.deepEqual(row('2.0.0'), { package: 'svc', version: '2.0.0', channel: 'stable', state: 'fetching', chunksHeld: 1, chunksTotal: svcPieces, bytesTotal: BigInt(svcIndex.totalSize), error: '' })
    assert.equal(report.releases.length, 2)
    assert.equal(report.trust.mode, 'follower')
    assert.equal(report.trust.timestampVersion, repoTimestamp(repoDir).version)
    assert.equal(report.trust.stale, false)
    assert.equal(report.trust.error, '')
    assert.ok(report.trust.lastRefreshMs > 0n)
    h.follower.stop()

    // restarted: the held release comes from held.json and the trusted targets, nothing is under way
    const restarted = harness([{ package: 'app', channel: 'stable' }, { package: 'svc', channel: 'stable' }], { paths: h.paths })
    const restartedReport = restarted.follower.report()
    assert.deepEqual(restartedReport.releases, [{ package: 'app', version: '1.1.0', channel: 'stable', state: 'held', chunksHeld: 0, chunksTotal: 0, bytesTotal: BigInt(appIndex.totalSize), error: '' }])
    assert.equal(restartedReport.trust.lastRefreshMs, 0n)
  })

  it('a round with no peer to ask fails its refresh, reports the error and fetches nothing', async () => {
    const h = harness([{ package: 'app', channel: 'stable' }], { peers: () => [] })
    h.follower.start()
    await waitFor('the refresh to fail', () => h.follower.report().trust.error !== '', 5_000, 20)
    assert.equal(h.releases.trust.timestampVersion(), 0)
    assert.equal(h.calls.length, 0)
    assert.ok(h.lines.some(l => /refresh failed/.test(l)), h.lines.join('\n'))
    h.follower.stop()
  })
})
