/**
 * What a node does with releases, composed for the daemon: the chunk store
 * and the mirror it serves (network phase), then in the sync phase either
 * the publisher (--repo: serve the repository, announce its timestamps) or
 * the follower (--trusted-root: verify, fetch and hold followed packages,
 * catch up with peers on every new connection). A node with neither still
 * serves what it has and relays gossip.
 */
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { fetchSummary, syncProtocol } from '../../protocols/sync/index.js'
import { getChunks, isPeerFault } from '../../protocols/chunks/index.js'
import { openChunkStore } from '../content/index.js'
import { Announcements } from '../follow/announcements.js'
import { Follower, parseFollow } from '../follow/follower.js'
import { NodeTrust } from '../follow/node-trust.js'
import { Publisher } from '../publish/publisher.js'
import { releasesIn, parseReleaseIndex } from '../release/index.js'
import { Bandwidth, Swarm, piecesOf } from '../swarm/index.js'
import { haveProtocol } from '../../protocols/have/index.js'
import { targetFilePath } from '../trust/repository.js'
import { createHash } from 'node:crypto'
import { Metadata, MetadataKind } from '@tufjs/models'
import { existsSync, readFileSync } from 'node:fs'
import type { ChunkStore } from '../content/index.js'
import type { NodeConfig } from '../config/index.js'
import type { MeshNode } from '../network/create-node.js'
import type { TrustedState } from '../trust/announcement.js'
import type { ReleaseState, TrustState } from '../../protocols/status/status.js'
import type { IdentifyResult, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { Pieces } from '../swarm/index.js'

export type ContentMode = 'publisher' | 'follower' | 'off'

export class Content {
  readonly mode: ContentMode
  store!: ChunkStore
  trust?: NodeTrust
  publisher?: Publisher
  follower?: Follower
  announcements?: Announcements
  private node?: MeshNode
  private readonly log = logger('umesh:content')
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    if (this.follower == null || this.trust == null || this.node == null) return
    if (!evt.detail.protocols.includes(syncProtocol(this.config.network))) return
    void this.catchUp(evt.detail.peerId)
  }

  /** chunk traffic: caps, fair upload slots, what status shows */
  readonly bandwidth: Bandwidth
  /** the swarms of the releases this node fetches or serves (from the sync phase) */
  swarm?: Swarm
  private unknownKeysAt = 0
  /** called when a followed release is held in full (the install engine's auto-update) */
  onHeld?: (pkg: string, version: string) => void

  constructor (private readonly config: NodeConfig, private readonly dataDir: string) {
    this.mode = config.repo != null ? 'publisher' : config.trustedRoot != null ? 'follower' : 'off'
    this.bandwidth = new Bandwidth({ upload: config.uploadLimit, download: config.downloadLimit }, key => this.swarm?.holders(key) ?? 0)
  }

  /**
   * The pieces of a release this node knows, by the CID of its index: a
   * follower's verified index files, a publisher's repository targets.
   */
  private async piecesOf (release: CID): Promise<Pieces | undefined> {
    const hex = Buffer.from(release.multihash.digest).toString('hex')
    let file: string | undefined
    if (this.publisher != null) {
      file = this.publishedIndexes().get(hex)
    } else if (this.trust != null) {
      file = join(this.trust.targetsDir, `${hex}.index.json`)
    }
    if (file == null || !existsSync(file)) return undefined
    const bytes = readFileSync(file)
    // the file is named by its hash; a changed file is not that release
    if (createHash('sha256').update(bytes).digest('hex') !== hex) return undefined
    return piecesOf(parseReleaseIndex(bytes).files)
  }

  /**
   * A publisher's release index files by their sha256, read again only when
   * the timestamp changes: any peer may ask about any release, and opening the
   * repository for each question would let it make this node do that work.
   */
  private publishedIndexes (): Map<string, string> {
    const version = this.publisher!.timestampVersion()
    if (this.indexFiles?.version !== version) {
      const repo = this.publisher!.repo()
      const files = new Map<string, string>()
      for (const r of releasesIn(repo)) {
        const hash = repo.targets()[r.targetPath]?.hashes?.sha256
        if (typeof hash === 'string') files.set(hash, join(repo.targetsDir, targetFilePath(r.targetPath, hash)))
      }
      this.indexFiles = { version, files }
    }
    return this.indexFiles.files
  }

  private indexFiles?: { version: number, files: Map<string, string> }

  /** before the network starts: the services need the store and the mirror */
  async open (): Promise<void> {
    this.store = await openChunkStore(this.config.repo != null ? join(this.config.repo, 'chunks') : join(this.dataDir, 'chunks'))
    if (this.config.trustedRoot != null) {
      this.trust = new NodeTrust(this.dataDir)
      this.trust.init(this.config.trustedRoot)
    }
  }

  mirrorRoot (): string | undefined {
    return this.config.repo ?? this.trust?.mirrorDir
  }

  summary (): { timestampVersion: number, releases: string[] } {
    if (this.publisher != null) {
      return { timestampVersion: this.publisher.timestampVersion(), releases: releasesIn(this.publisher.repo()).map(r => r.targetPath) }
    }
    return { timestampVersion: this.trust?.timestampVersion() ?? 0, releases: this.follower?.heldReleases() ?? [] }
  }

  private trusted (): TrustedState {
    if (this.config.repo != null) {
      const root = Metadata.fromJSON(MetadataKind.Root, JSON.parse(readFileSync(join(this.config.repo, 'metadata', 'root.json'), 'utf8')))
      return { root, timestampVersion: this.publisher?.timestampVersion() ?? 0 }
    }
    return { root: this.trust!.root(), timestampVersion: this.trust!.timestampVersion() }
  }

  /** peers that serve the sync protocol, connected ones first */
  private syncPeers (): PeerId[] {
    const node = this.node
    if (node == null) return []
    const protocol = syncProtocol(this.config.network)
    return node.getPeers().filter(p => node.getConnections(p).length > 0 && this.speaks(p, protocol))
  }

  private readonly protocolCache = new Map<string, string[]>()
  private speaks (peer: PeerId, protocol: string): boolean {
    return this.protocolCache.get(peer.toString())?.includes(protocol) === true
  }

  /** differential sync: a peer that trusts a newer timestamp than ours is asked first */
  private async catchUp (peer: PeerId): Promise<void> {
    try {
      const summary = await fetchSummary(this.node!, peer, this.config.network, { signal: AbortSignal.timeout(10_000) })
      // a newer timestamp, or a node whose last refresh failed (at start, before it knew who speaks sync): a round now
      if (summary.timestampVersion > this.trust!.timestampVersion() || this.follower!.refreshError !== '') this.follower!.trigger(peer)
    } catch (err) {
      this.log('no summary from %p - %e', peer, err)
    }
  }

  /** the sync phase */
  start (node: MeshNode): string {
    this.node = node
    // what each peer speaks: from identify from now on, from the peer store for those met before this phase
    node.addEventListener('peer:identify', (evt) => { this.protocolCache.set(evt.detail.peerId.toString(), evt.detail.protocols) })
    for (const peer of node.getPeers()) {
      node.peerStore.get(peer).then(p => { if (!this.protocolCache.has(peer.toString())) this.protocolCache.set(peer.toString(), p.protocols) }, () => {})
    }
    this.announcements = new Announcements({
      pubsub: node.services.pubsub,
      network: this.config.network,
      trusted: () => this.trusted(),
      onTimestamp: (from, version, bytes) => { this.follower?.announce(from, version, bytes) },
      // a rotation this node missed, or a peer sending junk: at most one refresh for it per 10 s
      onUnknownKeys: (from) => {
        if (Date.now() - this.unknownKeysAt < 10_000) return
        this.unknownKeysAt = Date.now()
        this.follower?.trigger(from)
      },
      log: logger('umesh:announce')
    })
    this.announcements.start()
    this.startSwarm(node)
    if (this.mode === 'publisher') {
      this.publisher = new Publisher({ repoDir: this.config.repo!, announcements: this.announcements, log: logger('umesh:publisher'), republishMs: this.config.announceInterval * 1000 })
      this.publisher.start()
      const releases = releasesIn(this.publisher.repo()).length
      return `publishing ${this.config.repo}: timestamp v${this.publisher.timestampVersion()}, ${releases} releases`
    }
    if (this.mode === 'follower') {
      const network = this.config.network
      this.follower = new Follower({
        node,
        network,
        trust: this.trust!,
        follow: parseFollow(this.config.follow),
        dataDir: this.dataDir,
        log: logger('umesh:follower'),
        syncPeers: () => this.syncPeers(),
        fetchRelease: async (release, pieces, onProgress) => { await this.swarm!.fetch(release, pieces, { onProgress }) },
        periodicMs: this.config.checkInterval * 1000,
        onHeld: (pkg, version) => { this.onHeld?.(pkg, version) }
      })
      node.addEventListener('peer:identify', this.onIdentify)
      this.follower.start()
      // peers identified before this phase (the bootstrap peers) get the same catch-up
      const protocol = syncProtocol(network)
      for (const peer of node.getPeers()) {
        node.peerStore.get(peer).then(p => { if (p.protocols.includes(protocol)) void this.catchUp(peer) }, () => {})
      }
      return `following ${this.config.follow.join(', ') || 'no packages (verifying and relaying only)'}; trusted timestamp v${this.trust!.timestampVersion()}`
    }
    return 'serving what it holds (no --repo or --trusted-root)'
  }

  /** the have exchange and the downloads, for every mode: a publisher serves its releases' bitfields too */
  private startSwarm (node: MeshNode): void {
    const network = this.config.network
    const have = haveProtocol(network)
    this.swarm = new Swarm({
      self: node.peerId,
      opener: node,
      network,
      store: this.store,
      resolve: async (release) => await this.piecesOf(release),
      get: (peer, cids, signal) => getChunks(node, peer, network, cids, { signal }),
      isBadData: isPeerFault,
      candidates: () => node.getPeers().filter(p => this.speaks(p, have)),
      findProviders: async function * (release, signal) {
        for await (const provider of node.contentRouting.findProviders(release, { signal })) {
          if (provider.id.equals(node.peerId)) continue
          if (provider.multiaddrs.length > 0) await node.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs }).catch(() => {})
          yield provider.id
        }
      },
      download: this.bandwidth.download,
      onPiece: (bytes) => { this.bandwidth.downloaded += bytes },
      log: logger('umesh:swarm')
    })
    this.bandwidth.start()
  }

  stop (): void {
    this.bandwidth.stop()
    this.swarm?.stop()
    this.node?.removeEventListener('peer:identify', this.onIdentify)
    this.publisher?.stop()
    this.follower?.stop()
    this.announcements?.stop()
  }

  report (): { releases: ReleaseState[], trust: TrustState } {
    const releases: ReleaseState[] = []
    if (this.follower != null) {
      const targets = this.trust?.targets() ?? {}
      for (const path of this.follower.heldReleases()) {
        const c = targets[path]?.custom
        if (c != null && !this.follower.releases.has(path)) releases.push({ package: c.package, version: c.version, channel: c.channel, state: 'held', chunksHeld: 0, chunksTotal: 0, bytesTotal: BigInt(c.totalSize ?? 0), error: '' })
      }
      for (const r of this.follower.releases.values()) {
        releases.push({ package: r.package, version: r.version, channel: r.channel, state: r.state, chunksHeld: r.chunksHeld, chunksTotal: r.chunksTotal, bytesTotal: BigInt(r.bytesTotal), error: r.error })
      }
    } else if (this.publisher != null) {
      for (const r of releasesIn(this.publisher.repo())) releases.push({ package: r.package, version: r.version, channel: r.channel, state: 'held', chunksHeld: 0, chunksTotal: 0, bytesTotal: BigInt(r.totalSize), error: '' })
    }
    return {
      releases: releases.slice(0, 256),
      trust: {
        mode: this.mode,
        timestampVersion: this.summary().timestampVersion,
        stale: this.follower?.stale ?? false,
        error: this.follower?.refreshError ?? '',
        lastRefreshMs: BigInt(this.follower?.lastRefresh ?? 0)
      }
    }
  }
}
