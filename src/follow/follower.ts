/**
 * The follower: how a node learns of releases and comes to hold them.
 *
 * Triggers: an accepted announcement, a newly identified peer whose summary
 * shows a newer timestamp (catch-up.ts), a message signed by keys this node
 * does not know yet (a rotation it missed; at most one round per 10 s), and a
 * periodic check. Each round refreshes the trust chain with tuf-js's Updater
 * through peers (refresh.ts), mirrors every verified file for other peers,
 * picks the newest release of each followed package on its channel (and the
 * one its rollout names), downloads and verifies its index, fetches the
 * chunks it lacks from the swarm, announces itself as a DHT provider as soon
 * as it starts, and emits `held` with the verified index once it holds it.
 * Stopping aborts the round under way.
 */
import { EventEmitter } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { chunkCid } from '../../protocols/shared/index.js'
import { syncProtocol } from '../../protocols/sync/index.js'
import { targetFile } from '../data-dir/index.js'
import { parseReleaseIndex, newestOnChannel, isScheme } from '../release/index.js'
import { piecesOf } from '../swarm/index.js'
import { HttpMirror } from '../trust/http-mirror.js'
import { DEFAULT_MIRROR_AFTER_MS } from '../trust/mirror-fetcher.js'
import { targetFilePath } from '../trust/repository.js'
import { CatchUp } from './catch-up.js'
import { refreshThroughPeers } from './refresh.js'
import { RolloutDocuments } from './rollout-documents.js'
import { withTimeout } from '../../protocols/shared/timeout-signal.js'
import type { FollowedReleases, FollowerProgress, ReleaseProgress } from './followed-releases.js'
import type { Announcements, TimestampAnnouncement } from '../announce/index.js'
import type { DataPaths, FollowedPackage } from '../data-dir/index.js'
import type { PeerProtocols } from '../network/peer-protocols.js'
import type { Channel, ReleaseIndex } from '../release/index.js'
import type { FetchOptions, Pieces } from '../swarm/index.js'
import type { PieceFallback } from '../swarm/mirror-pieces.js'
import type { ReleaseState, TrustState } from '../../protocols/status/index.js'
import type { ComponentLogger, Libp2p, Logger, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { Updater } from 'tuf-js'

export interface FollowerInit {
  network: string
  follow: FollowedPackage[]
  /** a round runs at least this often, announcement or not (default 60 s) */
  periodicMs?: number
  /** static HTTP mirrors of the repository folder: metadata and chunks no peer serves (src/trust/http-mirror.ts) */
  mirrors?: string[]
  /** peers get this long to serve a file or a piece before a mirror is asked (default 3 s) */
  mirrorAfterMs?: number
}

export interface FollowerComponents {
  /** opens sync streams and announces DHT provider records */
  node: Pick<Libp2p, 'dialProtocol' | 'contentRouting'>
  /** the trusted state, the held set and what the node serves */
  releases: FollowedReleases
  paths: DataPaths
  /** fetches the pieces of a release, every one verified */
  swarm: { fetch: (release: CID, pieces: Pieces, options?: FetchOptions) => Promise<void> }
  peers: PeerProtocols
  announcements: Announcements
  logger: ComponentLogger
}

/** a release of a followed package, now held in full, with its verified index */
export interface HeldRelease {
  package: string
  version: string
  targetPath: string
  index: ReleaseIndex
}

export interface FollowerEvents {
  held: [HeldRelease]
}

/** a failed refresh, or a rollout document no peer could serve yet, is tried again this soon */
const RETRY_AFTER_FAILURE_MS = 5_000
/** rounds tried, and the pause between them, to reach an announced timestamp */
const ANNOUNCE_RETRIES = 5
const ANNOUNCE_RETRY_MS = 2_000
/** indexes kept per followed package, newest last */
const MAX_INDEXES_PER_PACKAGE = 100
/** a message signed by unknown keys starts at most one round this often */
const UNKNOWN_KEYS_ROUND_MS = 10_000
/** announcement-to-verified latencies kept for metrics to read */
const MAX_LATENCIES = 64
/** releases fetched in this run kept in progress (status lists them); older finished ones are in held.json */
const MAX_PROGRESS = 64

/** seconds from an accepted announcement's arrival to its timestamp's metadata verified: how many were measured since start, the newest last (at most MAX_LATENCIES) */
export interface AnnounceLatencies {
  count: number
  recent: number[]
}

export class Follower extends EventEmitter<FollowerEvents> {
  readonly progress: FollowerProgress = { releases: new Map<string, ReleaseProgress>(), stale: false, refreshError: '', lastRefresh: 0 }
  readonly rollouts: RolloutDocuments
  readonly announceLatency: AnnounceLatencies = { count: 0, recent: [] }
  /** the HTTP mirror, with what it served (metrics), when mirrors are configured */
  readonly mirror?: HttpMirror
  private readonly log: Logger
  private readonly abort = new AbortController()
  private readonly catchUp: CatchUp
  private readonly suspects = new Map<string, number>()
  private running = false
  private again = false
  private preferred?: PeerId
  private timer?: NodeJS.Timeout
  private retry?: NodeJS.Timeout
  private rolloutMissed = false
  private unknownKeysAt = 0
  /** the newest timestamp an accepted announcement carried, the rounds left to reach it, and when it arrived (until its latency is measured) */
  private announced?: { version: number, bytes: Uint8Array, retries: number, receivedAt?: number }
  private readonly onTimestamp = (a: TimestampAnnouncement): void => { this.announce(a.from, a.version, a.bytes, a.receivedAt) }
  private readonly onUnknownKeys = (from: PeerId): void => {
    // a rotation this node missed, or a peer sending junk: at most one round for it per 10 s
    if (Date.now() - this.unknownKeysAt < UNKNOWN_KEYS_ROUND_MS) return
    this.unknownKeysAt = Date.now()
    this.trigger(from)
  }

  constructor (private readonly components: FollowerComponents, private readonly init: FollowerInit) {
    super()
    this.log = components.logger.forComponent('umesh:follower')
    if ((init.mirrors ?? []).length > 0) this.mirror = new HttpMirror({ urls: init.mirrors ?? [], log: components.logger.forComponent('umesh:mirror') })
    this.rollouts = new RolloutDocuments({ trust: components.releases.trust, paths: components.paths, log: this.log })
    this.catchUp = new CatchUp({
      opener: components.node,
      peers: components.peers,
      timestampVersion: () => components.releases.trust.timestampVersion(),
      refreshFailed: () => this.progress.refreshError !== '',
      trigger: peer => { this.trigger(peer) },
      log: this.log
    }, init.network, this.abort.signal)
  }

  start (): void {
    this.components.announcements.on('timestamp', this.onTimestamp)
    this.components.announcements.on('unknown-keys', this.onUnknownKeys)
    this.timer = setInterval(() => { this.trigger() }, this.init.periodicMs ?? 60_000)
    this.timer.unref()
    this.catchUp.start()
    this.trigger()
  }

  stop (): void {
    this.abort.abort()
    clearInterval(this.timer)
    clearTimeout(this.retry)
    this.catchUp.stop()
    this.components.announcements.off('timestamp', this.onTimestamp)
    this.components.announcements.off('unknown-keys', this.onUnknownKeys)
  }

  get stopped (): boolean {
    return this.abort.signal.aborted
  }

  report (): { releases: ReleaseState[], trust: TrustState } {
    return this.components.releases.report(this.progress)
  }

  /**
   * An accepted announcement: its timestamp (signature already checked
   * against the trusted keys) is what the next refresh starts from, so the
   * refresh does not depend on the peer that forwarded it having mirrored it
   * yet. Until the node trusts that version, a round that falls short (the
   * snapshot not yet on any peer it asked) is retried a few times.
   */
  announce (from: PeerId, version: number, bytes: Uint8Array, receivedAt = performance.now()): void {
    if (this.announced == null || version > this.announced.version) {
      this.log('announcement of timestamp v%d from %p', version, from)
      // a timestamp already trusted has nothing left to measure
      this.announced = { version, bytes, retries: ANNOUNCE_RETRIES, ...(version > this.components.releases.trust.timestampVersion() ? { receivedAt } : {}) }
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
      if (announced.version <= this.components.releases.trust.timestampVersion() || announced.retries <= 0) {
        this.announced = undefined
        return
      }
      announced.retries--
      setTimeout(() => { if (!this.stopped) this.trigger() }, ANNOUNCE_RETRY_MS).unref()
    })
  }

  private retrySoon (): void {
    if (this.retry != null || this.stopped) return
    this.retry = setTimeout(() => { this.retry = undefined; this.trigger() }, RETRY_AFTER_FAILURE_MS)
    this.retry.unref()
  }

  /** sync peers, the preferred one first, without those that recently served metadata that did not verify */
  private peers (): PeerId[] {
    const now = Date.now()
    const all = this.components.peers.connectedSpeaking(syncProtocol(this.init.network)).filter(p => (this.suspects.get(p.toString()) ?? 0) < now)
    // in random order: a file is asked of at most 8 peers, and a retry should reach others
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [all[i], all[j]] = [all[j], all[i]]
    }
    const first = this.preferred
    return first == null || !all.some(p => p.equals(first)) ? all : [first, ...all.filter(p => !p.equals(first))]
  }

  private async round (): Promise<void> {
    if (this.stopped) return
    const { trust } = this.components.releases
    const started = Date.now()
    let refreshed
    try {
      refreshed = await refreshThroughPeers({
        opener: this.components.node,
        network: this.init.network,
        trust,
        peers: () => this.peers(),
        announced: this.announced,
        suspects: this.suspects,
        signal: this.abort.signal,
        log: this.log,
        mirror: this.mirror,
        mirrorAfterMs: this.init.mirrorAfterMs
      })
      this.log('refreshed to timestamp v%d in %d ms', trust.timestampVersion(), Date.now() - started)
      Object.assign(this.progress, { refreshError: '', stale: false, lastRefresh: Date.now() })
      this.measureAnnounced()
    } catch (err) {
      if (this.stopped) return
      this.progress.refreshError = (err as Error).message
      // stays set until a refresh succeeds: a later round that finds no peer at all does not make frozen metadata fresh
      if ((err as Error).name === 'ExpiredMetadataError' || /expired/i.test(this.progress.refreshError)) this.progress.stale = true
      const { peers } = this.components
      this.log('refresh failed (%d peers connected, %d of them not identified yet) - %e', peers.connectedCount(), peers.unknownCount(), err)
      // at start the node may not be connected yet: try again soon rather than at the next periodic check
      this.retrySoon()
      return
    }
    const { updater, fetcher } = refreshed
    // only what the refresh verified goes to the mirror peers read from
    for (const [path, bytes] of fetcher.downloaded()) {
      if (path.startsWith('metadata/')) trust.mirror(path, bytes)
    }
    const mirrored = new Set(fetcher.downloaded().keys())
    for (const wanted of this.init.follow) {
      if (this.stopped) return
      try {
        await this.follow(updater, wanted)
      } catch (err) {
        this.log('following %s@%s failed - %e', wanted.package, wanted.channel, err)
      }
    }
    // delegated metadata (the rollouts role) is fetched while following: mirrored once tuf-js trusts it
    for (const [path, bytes] of fetcher.downloaded()) {
      const m = /^metadata\/\d+\.([a-z0-9-]+)\.json$/.exec(path)
      if (m == null || mirrored.has(path)) continue
      const trusted = join(trust.metadataDir, `${m[1]}.json`)
      if (existsSync(trusted) && Buffer.compare(readFileSync(trusted), Buffer.from(bytes)) === 0) trust.mirror(path, bytes)
    }
    if (this.rolloutMissed) {
      // a rollout document no peer asked could serve yet: try again soon, not at the periodic check
      this.rolloutMissed = false
      this.retrySoon()
    }
  }

  /** the announced timestamp is now trusted: its latency from arrival, once */
  private measureAnnounced (): void {
    const a = this.announced
    if (a?.receivedAt == null || this.components.releases.trust.timestampVersion() < a.version) return
    const seconds = Math.max(0, performance.now() - a.receivedAt) / 1000
    a.receivedAt = undefined
    this.announceLatency.count++
    this.announceLatency.recent.push(seconds)
    if (this.announceLatency.recent.length > MAX_LATENCIES) this.announceLatency.recent.shift()
  }

  private async follow (updater: Updater, wanted: FollowedPackage): Promise<void> {
    const targets = this.components.releases.trust.targets()
    const candidates = Object.entries(targets)
      .filter(([path, t]) => path.startsWith(`releases/${wanted.package}/`) && t.custom?.package === wanted.package && typeof t.custom?.version === 'string')
    if (candidates.length === 0) return
    const scheme = candidates[0][1].custom?.scheme
    if (typeof scheme !== 'string' || !isScheme(scheme)) return
    const newest = newestOnChannel(scheme, candidates.map(([, t]) => t.custom?.version as string), wanted.channel)
    if (newest == null) return
    // a rollout may name a version that is not the newest on the channel: that one is held too
    const rollout = await this.fetchRollout(updater, wanted.package)
    const versions = [newest.text]
    if (rollout != null && rollout.version !== newest.text && candidates.some(([, t]) => t.custom?.version === rollout.version)) versions.unshift(rollout.version)
    try {
      for (const version of versions) {
        const [targetPath, t] = candidates.find(([, c]) => c.custom?.version === version) ?? []
        if (targetPath == null || this.components.releases.held.has(targetPath)) continue
        await this.hold(updater, wanted, targetPath, version, (t?.custom?.channel ?? newest.channel) as Channel)
      }
    } finally {
      // every other version's index, for changelogs and update checks: after the fetch, not before it
      await this.fetchIndexes(updater, candidates.map(([path]) => path))
    }
  }

  private async fetchRollout (updater: Updater, pkg: string): Promise<{ version: string } | undefined> {
    const started = Date.now()
    try {
      return await this.rollouts.fetch(updater, pkg)
    } catch (err) {
      this.log('could not read the rollout of %s - %e', pkg, err)
      this.rolloutMissed = true
      return undefined
    } finally {
      this.log('rollout of %s looked up in %d ms', pkg, Date.now() - started)
    }
  }

  /** fetches the chunks of one release, holds it, and tells whoever listens */
  private async hold (updater: Updater, wanted: FollowedPackage, targetPath: string, version: string, channel: Channel): Promise<void> {
    const started = Date.now()
    const info = await updater.getTargetInfo(targetPath)
    if (info == null) throw new Error(`${targetPath} is not in the signed targets`)
    const progress: ReleaseProgress = { package: wanted.package, version, channel, state: 'fetching', chunksHeld: 0, chunksTotal: 0, bytesTotal: 0, error: '', targetPath }
    this.progress.releases.delete(targetPath)
    this.progress.releases.set(targetPath, progress)
    // the oldest finished ones go first: a held release is still listed from held.json
    for (const [path, p] of this.progress.releases) {
      if (this.progress.releases.size <= MAX_PROGRESS) break
      if (p.state !== 'fetching') this.progress.releases.delete(path)
    }
    try {
      const hash = info.hashes.sha256
      const bytes = readFileSync(await this.indexFile(updater, targetPath))
      const index = parseReleaseIndex(bytes)
      if (index.package !== wanted.package || index.version !== version) {
        throw new Error(`the index at ${targetPath} describes ${index.package} ${index.version}`)
      }
      this.components.releases.trust.mirror(`targets/${targetFilePath(targetPath, hash)}`, bytes)
      this.log('index of %s %s verified in %d ms', index.package, index.version, Date.now() - started)
      const pieces = piecesOf(index.files)
      progress.bytesTotal = index.totalSize
      progress.chunksTotal = pieces.cids.length
      // partial holders serve what they have: peers find this node as soon as it fetches
      this.provide(bytes)
      // the fallback reaches the download through the options (Swarm.fetch passes them on whole)
      const fetchOptions: FetchOptions & { fallback?: PieceFallback } = {
        signal: this.abort.signal,
        onProgress: (held, total) => { progress.chunksHeld = held; progress.chunksTotal = total },
        ...(this.mirror == null ? {} : { fallback: { source: this.mirror, afterMs: this.init.mirrorAfterMs ?? DEFAULT_MIRROR_AFTER_MS } })
      }
      await this.components.swarm.fetch(chunkCid(bytes), pieces, fetchOptions)
      progress.state = 'held'
      this.components.releases.held.add(targetPath)
      this.log('holding %s %s', index.package, index.version)
      this.emit('held', { package: index.package, version: index.version, targetPath, index })
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
    const file = targetFile(this.components.paths, info.hashes.sha256, 'index')
    return existsSync(file) ? file : await updater.downloadTarget(info, file)
  }

  /** every version's index of a followed package (they are small), for changelogs and update checks */
  private async fetchIndexes (updater: Updater, targetPaths: string[]): Promise<void> {
    for (const path of targetPaths.slice(-MAX_INDEXES_PER_PACKAGE)) {
      if (this.stopped) return
      try {
        await this.indexFile(updater, path)
      } catch (err) {
        this.log('could not fetch the index %s - %e', path, err)
      }
    }
  }

  /** tells the DHT this node can serve the release whose index has these bytes */
  private provide (indexBytes: Uint8Array): void {
    this.components.node.contentRouting.provide(chunkCid(indexBytes), { signal: withTimeout(30_000, this.abort.signal) })
      .catch(err => { this.log('could not announce a provider record - %e', err) })
  }
}
