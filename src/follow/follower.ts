/**
 * The follower: how a node learns of releases and comes to hold them.
 *
 * Triggers: an accepted announcement, a newly identified peer whose summary
 * shows a newer timestamp (differential sync: a node that was away catches
 * up within seconds of rejoining, publisher or not), and a periodic check.
 * Each sync round refreshes the trust chain with tuf-js's Updater through
 * peers (MeshFetcher), mirrors every verified file for other peers, picks the
 * newest release of each followed package on its channel, downloads and
 * verifies its index, fetches the chunks it lacks, and then serves it and
 * announces it as a DHT provider.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Updater } from 'tuf-js'
import type { CID } from 'multiformats/cid'
import { chunkCid } from '../content/index.js'
import { parseReleaseIndex, newestOnChannel, isScheme } from '../release/index.js'
import { DownloadError } from 'tuf-js/dist/error.js'
import { MeshFetcher, MESH_METADATA_URL, MESH_TARGETS_URL } from '../trust/mesh-fetcher.js'
import { targetFilePath } from '../trust/repository.js'
import { writeFileAtomic } from '../util/fs.js'
import { piecesOf } from '../swarm/index.js'
import type { Pieces } from '../swarm/index.js'
import type { NodeTrust } from './node-trust.js'
import type { Channel, ReleaseIndex } from '../release/index.js'
import type { Libp2p, Logger, PeerId } from '@libp2p/interface'

export interface FollowedPackage {
  package: string
  channel: Channel
}

export function parseFollow (entries: string[]): FollowedPackage[] {
  return entries.map(e => {
    const [pkg, channel] = e.split('@')
    return { package: pkg, channel: (channel ?? 'stable') as Channel }
  })
}

export interface ReleaseProgress {
  package: string
  version: string
  channel: Channel
  state: 'fetching' | 'held' | 'failed'
  chunksHeld: number
  chunksTotal: number
  bytesTotal: number
  error: string
  targetPath: string
}

export interface FollowerInit {
  node: Libp2p
  network: string
  trust: NodeTrust
  follow: FollowedPackage[]
  dataDir: string
  log: Logger
  /** peers that speak the sync protocol, best first */
  syncPeers: () => PeerId[]
  /** fetches the pieces of a release (by its index CID) from the swarm, every one verified */
  fetchRelease: (release: CID, pieces: Pieces, onProgress: (held: number, total: number) => void) => Promise<void>
  periodicMs?: number
  /** a release of a followed package is now held in full */
  onHeld?: (pkg: string, version: string) => void
}

export const HELD_FILE = 'held.json'
/** how long peers that served unverifiable metadata are not asked */
const SUSPECT_MS = 10 * 60_000
/** a failed refresh is tried again this soon (once per failure) */
const RETRY_AFTER_FAILURE_MS = 5_000
/** rounds tried, and the pause between them, to reach an announced timestamp */
const ANNOUNCE_RETRIES = 5
const ANNOUNCE_RETRY_MS = 2_000
/** indexes kept per followed package, newest last */
const MAX_INDEXES_PER_PACKAGE = 100

export class Follower {
  readonly releases = new Map<string, ReleaseProgress>()
  lastRefresh = 0
  refreshError = ''
  stale = false
  private running = false
  private again = false
  private preferred?: PeerId
  private timer?: NodeJS.Timeout
  private retry?: NodeJS.Timeout
  private rolloutMissed = false
  private stopped = false
  private readonly held: Set<string>
  /** the verified rollout document file of each followed package that has one */
  readonly rollouts = new Map<string, string>()
  private readonly suspects = new Map<string, number>()
  /** the newest timestamp an accepted announcement carried, and the rounds left to reach it */
  private announced?: { version: number, bytes: Uint8Array, retries: number }

  constructor (private readonly init: FollowerInit) {
    const file = join(init.dataDir, HELD_FILE)
    this.held = new Set(existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).releases ?? [] : [])
    this.loadRollouts()
  }

  /**
   * The rollout documents this node verified before it stopped, from the
   * trusted `rollouts` metadata tuf-js kept: a restarted node knows its
   * rollouts before its first refresh through peers succeeds.
   */
  private loadRollouts (): void {
    const file = join(this.init.trust.metadataDir, 'rollouts.json')
    if (!existsSync(file)) return
    try {
      const targets = JSON.parse(readFileSync(file, 'utf8')).signed?.targets ?? {}
      for (const [path, t] of Object.entries<any>(targets)) {
        const m = /^rollouts\/([^/]+)\.json$/.exec(path)
        const hash = t?.hashes?.sha256
        if (m == null || typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) continue
        const doc = join(this.init.trust.targetsDir, `${hash}.rollout.json`)
        if (existsSync(doc)) this.rollouts.set(m[1], doc)
      }
    } catch (err) {
      this.init.log('could not read the trusted rollouts metadata - %e', err)
    }
  }

  private saveHeld (): void {
    const follow = this.init.follow.map(f => `${f.package}@${f.channel}`)
    writeFileAtomic(join(this.init.dataDir, HELD_FILE), JSON.stringify({ releases: [...this.held], follow }) + '\n')
  }

  /** release target paths held completely, for the sync summary */
  heldReleases (): string[] {
    return [...this.held]
  }

  start (): void {
    this.timer = setInterval(() => { this.trigger() }, this.init.periodicMs ?? 60_000)
    this.timer.unref()
    this.trigger()
  }

  stop (): void {
    this.stopped = true
    clearInterval(this.timer)
    clearTimeout(this.retry)
  }

  /**
   * An accepted announcement: its timestamp (signature already checked
   * against the trusted keys) is what the next refresh starts from, so the
   * refresh does not depend on the peer that forwarded it having mirrored it
   * yet. Until the node trusts that version, a round that falls short (the
   * snapshot not yet on any peer it asked) is retried a few times.
   */
  announce (from: PeerId, version: number, bytes: Uint8Array): void {
    if (this.announced == null || version > this.announced.version) {
      this.init.log('announcement of timestamp v%d from %p', version, from)
      this.announced = { version, bytes, retries: ANNOUNCE_RETRIES }
    }
    this.trigger(from)
  }

  /** starts a sync round now, or right after the one running */
  trigger (from?: PeerId): void {
    if (from != null) this.preferred = from
    if (this.running) {
      this.again = true
      return
    }
    this.running = true
    void this.round().finally(() => {
      this.running = false
      if (this.stopped) return
      if (this.again) {
        this.again = false
        this.trigger()
        return
      }
      const announced = this.announced
      if (announced == null) return
      if (announced.version <= this.init.trust.timestampVersion() || announced.retries <= 0) {
        this.announced = undefined
        return
      }
      announced.retries--
      setTimeout(() => { if (!this.stopped) this.trigger() }, ANNOUNCE_RETRY_MS).unref()
    })
  }

  /** sync peers, the preferred one first, without those that recently served metadata that did not verify */
  private peers (): PeerId[] {
    const now = Date.now()
    const all = this.init.syncPeers().filter(p => (this.suspects.get(p.toString()) ?? 0) < now)
    // in random order: a file is asked of at most 8 peers, and a retry should reach others
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [all[i], all[j]] = [all[j], all[i]]
    }
    const first = this.preferred
    return first == null || !all.some(p => p.equals(first)) ? all : [first, ...all.filter(p => !p.equals(first))]
  }

  /**
   * One refresh through peers. When the metadata does not verify (a bad
   * signature, a file the snapshot does not name, an old or expired version),
   * the peers that served it are not believed for a while and the refresh is
   * tried once more without them: a single hostile peer can waste a round,
   * not stop a node from updating.
   */
  private async refresh (): Promise<{ updater: Updater, fetcher: MeshFetcher }> {
    const { trust, log } = this.init
    let first: unknown
    for (;;) {
      const announced = this.announced
      const fetcher = new MeshFetcher({
        opener: this.init.node,
        network: this.init.network,
        peers: () => this.peers(),
        local: path => path === 'metadata/timestamp.json' && first == null && announced != null && announced.version > trust.timestampVersion() ? announced.bytes : undefined
      })
      const updater = new Updater({ metadataDir: trust.metadataDir, metadataBaseUrl: MESH_METADATA_URL, targetDir: trust.targetsDir, targetBaseUrl: MESH_TARGETS_URL, fetcher })
      try {
        await updater.refresh()
        return { updater, fetcher }
      } catch (err) {
        const network = err instanceof DownloadError
        // with no one else to ask, what the first peers served is the news
        if (first != null) throw network ? first : err
        const served = [...new Set([...fetcher.servedBy().values()].map(p => p.toString()))]
        if (network || served.length === 0) throw err
        first = err
        for (const peer of served) this.suspects.set(peer, Date.now() + SUSPECT_MS)
        log('not believing %s for %d s: the metadata they served did not verify - %e', served.join(', '), SUSPECT_MS / 1000, err)
      }
    }
  }

  private async round (): Promise<void> {
    if (this.stopped) return
    const { trust, log } = this.init
    let updater: Updater
    let fetcher: MeshFetcher
    const started = Date.now()
    try {
      ({ updater, fetcher } = await this.refresh())
      this.init.log('refreshed to timestamp v%d in %d ms', trust.timestampVersion(), Date.now() - started)
      this.refreshError = ''
      this.stale = false
      this.lastRefresh = Date.now()
    } catch (err) {
      this.refreshError = (err as Error).message
      // stays set until a refresh succeeds: a later round that finds no peer at all does not make frozen metadata fresh
      if ((err as Error).name === 'ExpiredMetadataError' || /expired/i.test(this.refreshError)) this.stale = true
      log('refresh failed - %e', err)
      // at start the node may not be connected yet: try again soon rather than at the next periodic check
      if (this.retry == null && !this.stopped) {
        this.retry = setTimeout(() => { this.retry = undefined; this.trigger() }, RETRY_AFTER_FAILURE_MS)
        this.retry.unref()
      }
      return
    }
    // only what the refresh verified goes to the mirror peers read from
    for (const [path, bytes] of fetcher.downloaded()) {
      if (path.startsWith('metadata/')) trust.mirror(path, bytes)
    }
    const mirrored = new Set(fetcher.downloaded().keys())
    for (const wanted of this.init.follow) {
      try {
        await this.follow(updater, wanted)
      } catch (err) {
        log('following %s@%s failed - %e', wanted.package, wanted.channel, err)
      }
    }
    // delegated metadata (the rollouts role) is fetched while following: mirrored once tuf-js trusts it
    for (const [path, bytes] of fetcher.downloaded()) {
      const m = /^metadata\/\d+\.([a-z0-9-]+)\.json$/.exec(path)
      if (m == null || mirrored.has(path)) continue
      const trusted = join(trust.metadataDir, `${m[1]}.json`)
      if (existsSync(trusted) && Buffer.compare(readFileSync(trusted), Buffer.from(bytes)) === 0) trust.mirror(path, bytes)
    }
    if (this.rolloutMissed && this.retry == null && !this.stopped) {
      // a rollout document no peer asked could serve yet: try again soon, not at the periodic check
      this.rolloutMissed = false
      this.retry = setTimeout(() => { this.retry = undefined; this.trigger() }, RETRY_AFTER_FAILURE_MS)
      this.retry.unref()
    }
  }

  private async follow (updater: Updater, wanted: FollowedPackage): Promise<void> {
    const targets = this.init.trust.targets()
    const candidates = Object.entries(targets)
      .filter(([path, t]) => path.startsWith(`releases/${wanted.package}/`) && t.custom?.package === wanted.package && typeof t.custom?.version === 'string')
    if (candidates.length === 0) return
    const scheme = candidates[0][1].custom?.scheme
    if (typeof scheme !== 'string' || !isScheme(scheme)) return
    const newest = newestOnChannel(scheme, candidates.map(([, t]) => t.custom?.version as string), wanted.channel)
    if (newest == null) return
    // a rollout may name a version that is not the newest on the channel: that one is held too
    const rolloutStarted = Date.now()
    const rollout = await this.fetchRollout(updater, wanted.package)
    this.init.log('rollout of %s looked up in %d ms', wanted.package, Date.now() - rolloutStarted)
    const versions = [newest.text]
    if (rollout != null && rollout.version !== newest.text && candidates.some(([, t]) => t.custom?.version === rollout.version)) versions.unshift(rollout.version)
    try {
      for (const version of versions) {
        const [targetPath, t] = candidates.find(([, c]) => c.custom?.version === version) ?? []
        if (targetPath == null || this.held.has(targetPath)) continue
        await this.hold(updater, wanted, targetPath, version, (t?.custom?.channel ?? newest.channel) as Channel)
      }
    } finally {
      // every other version's index, for changelogs and update checks: after the fetch, not before it
      await this.fetchIndexes(updater, candidates.map(([path]) => path))
    }
  }

  /**
   * The rollout document of a package (a target of the delegated rollouts
   * role, which tuf-js verifies through the delegation), downloaded and
   * mirrored for peers; undefined when the package has none.
   */
  private async fetchRollout (updater: Updater, pkg: string): Promise<{ version: string } | undefined> {
    const path = `rollouts/${pkg}.json`
    let info
    try {
      info = await updater.getTargetInfo(path)
    } catch (err) {
      this.init.log('could not read the rollout of %s - %e', pkg, err)
      this.rolloutMissed = true
      return undefined
    }
    if (info == null) {
      this.rollouts.delete(pkg)
      return undefined
    }
    const hash = info.hashes.sha256
    const file = join(this.init.trust.targetsDir, `${hash}.rollout.json`)
    if (!existsSync(file)) await updater.downloadTarget(info, file)
    const bytes = readFileSync(file)
    this.init.trust.mirror(`targets/${targetFilePath(path, hash)}`, bytes)
    this.rollouts.set(pkg, file)
    try {
      const version = JSON.parse(bytes.toString('utf8')).version
      return typeof version === 'string' ? { version } : undefined
    } catch {
      return undefined
    }
  }

  /** fetches the chunks of one release and holds it */
  private async hold (updater: Updater, wanted: FollowedPackage, targetPath: string, version: string, channel: Channel): Promise<void> {
    const newest = { text: version, channel }
    const started = Date.now()
    const info = await updater.getTargetInfo(targetPath)
    if (info == null) throw new Error(`${targetPath} is not in the signed targets`)
    const progress: ReleaseProgress = { package: wanted.package, version: newest.text, channel: newest.channel, state: 'fetching', chunksHeld: 0, chunksTotal: 0, bytesTotal: 0, error: '', targetPath }
    this.releases.set(targetPath, progress)
    try {
      const hash = info.hashes.sha256
      const bytes = readFileSync(await this.indexFile(updater, targetPath))
      const index: ReleaseIndex = parseReleaseIndex(bytes)
      if (index.package !== wanted.package || index.version !== newest.text) {
        throw new Error(`the index at ${targetPath} describes ${index.package} ${index.version}`)
      }
      this.init.trust.mirror(`targets/${targetFilePath(targetPath, hash)}`, bytes)
      this.init.log('index of %s %s verified in %d ms', index.package, index.version, Date.now() - started)
      const pieces = piecesOf(index.files)
      progress.bytesTotal = index.totalSize
      progress.chunksTotal = pieces.cids.length
      // partial holders serve what they have: peers find this node as soon as it fetches
      this.provide(bytes)
      await this.init.fetchRelease(chunkCid(bytes), pieces, (held, total) => { progress.chunksHeld = held; progress.chunksTotal = total })
      progress.state = 'held'
      this.held.add(targetPath)
      this.saveHeld()
      this.init.log('holding %s %s', index.package, index.version)
      this.init.onHeld?.(index.package, index.version)
    } catch (err) {
      progress.state = 'failed'
      progress.error = (err as Error).message
      throw err
    }
  }

  /** the verified index of a release on disk; downloadTarget checks the signed length and hash first */
  private async indexFile (updater: Updater, targetPath: string): Promise<string> {
    const info = await updater.getTargetInfo(targetPath)
    if (info == null) throw new Error(`${targetPath} is not in the signed targets`)
    const file = join(this.init.trust.targetsDir, `${info.hashes.sha256}.index.json`)
    return existsSync(file) ? file : await updater.downloadTarget(info, file)
  }

  /** every version's index of a followed package (they are small), for changelogs and update checks */
  private async fetchIndexes (updater: Updater, targetPaths: string[]): Promise<void> {
    for (const path of targetPaths.slice(-MAX_INDEXES_PER_PACKAGE)) {
      try {
        await this.indexFile(updater, path)
      } catch (err) {
        this.init.log('could not fetch the index %s - %e', path, err)
      }
    }
  }

  /** tells the DHT this node can serve the release whose index has these bytes */
  private provide (indexBytes: Uint8Array): void {
    this.init.node.contentRouting.provide(chunkCid(indexBytes), { signal: AbortSignal.timeout(30_000) })
      .catch(err => { this.init.log('could not announce a provider record - %e', err) })
  }
}
