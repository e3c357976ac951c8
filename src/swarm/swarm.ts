/**
 * The node's swarm: answers the have exchange for any release this node
 * knows (a follower's verified indexes, a publisher's repository: the
 * catalog resolves them), runs downloads, and keeps each release's swarm in
 * the registry the upload scheduler reads rarity from.
 */
import { CID } from 'multiformats/cid'
import { ChunkVerificationError, getChunks, isPeerFault } from '../../protocols/chunks/index.js'
import { haveProtocol } from '../../protocols/have/index.js'
import { Bitfield, decodeChunkCid } from '../../protocols/shared/index.js'
import { downloadPieces } from './download.js'
import { ReleaseSwarm } from './release-swarm.js'
import type { Bandwidth } from './bandwidth.js'
import type { DownloadInit } from './download.js'
import type { Pieces } from './release-swarm.js'
import type { ReleaseSwarms } from './release-swarms.js'
import type { ChunkSink } from './types.js'
import type { HaveHello, HaveSession, HaveSwarm } from '../../protocols/have/index.js'
import type { ComponentLogger, Libp2p, Logger, PeerId } from '@libp2p/interface'

export interface SwarmInit {
  network: string
}

export interface SwarmComponents {
  /** opens streams, finds providers in the DHT, remembers their addresses */
  node: Pick<Libp2p, 'peerId' | 'dialProtocol' | 'contentRouting' | 'peerStore'>
  store: ChunkSink
  /** the pieces of a release this node knows, by the CID of its index; undefined when unknown */
  catalog: { piecesOf: (release: CID) => Promise<Pieces | undefined> }
  /**
   * connected peers that speak a protocol; optionally, how each is linked
   * (src/network/peer-protocols.ts): chunks are asked of site peers first,
   * and never over a relay unless allowRelayedData
   */
  peers: {
    connectedSpeaking: (protocol: string) => PeerId[]
    link?: (peer: PeerId) => 'local' | 'direct' | 'relayed' | 'none'
    chunksAllowed?: (peer: PeerId) => boolean
    allowRelayedData?: boolean
  }
  /** the swarms of the releases this node knows */
  swarms: ReleaseSwarms
  /** the download cap and the count of bytes fetched */
  bandwidth: Bandwidth
  logger: ComponentLogger
}

export interface FetchOptions {
  signal?: AbortSignal
  onProgress?: (held: number, total: number) => void
  idleMs?: number
  requestTimeoutMs?: number
}

/** what the swarm counted since start, for metrics */
export interface SwarmCounters {
  /** pieces fetched, verified and stored */
  piecesFetched: number
  /** chunks a peer sent that did not hash to the CID asked for (the peer was dropped for that release) */
  verificationFailures: number
  /** chunk answers that broke the protocol (oversized, malformed, cut short; the peer was dropped too) */
  protocolErrors: number
}

/** peers whose chunk bytes are counted at most (the first ones met stay) */
const MAX_SOURCES = 256

export class Swarm implements HaveSwarm {
  readonly counters: SwarmCounters = { piecesFetched: 0, verificationFailures: 0, protocolErrors: 0 }
  /** chunk bytes fetched from each peer since start, with its link when last heard from */
  readonly sources = new Map<string, { bytes: number, link: string }>()
  private readonly opening = new Map<string, Promise<ReleaseSwarm | undefined>>()
  private readonly log: Logger
  private readonly have: string

  constructor (private readonly components: SwarmComponents, private readonly init: SwarmInit) {
    this.log = components.logger.forComponent('umesh:swarm')
    this.have = haveProtocol(init.network)
  }

  async hello (release: Uint8Array, count: number): Promise<HaveHello | undefined> {
    let cid: CID
    try {
      cid = decodeChunkCid(release)
    } catch {
      return undefined
    }
    const swarm = await this.open(cid)
    return swarm?.count === count ? swarm.hello() : undefined
  }

  adopt (session: HaveSession): void {
    const swarm = this.components.swarms.get(CID.decode(session.remote.release).toString())
    if (swarm == null) session.close()
    else swarm.adopt(session, false)
  }

  /** fetches every piece of `release` this node lacks; resolves when all are held and verified */
  async fetch (release: CID, pieces: Pieces, options: FetchOptions = {}): Promise<void> {
    const swarm = await this.open(release, pieces)
    if (swarm == null) throw new Error(`release ${release.toString()} has no pieces`)
    const { node, bandwidth, peers } = this.components
    const init: DownloadInit = {
      swarm,
      store: this.components.store,
      get: (peer, cids, signal) => getChunks(node, peer, this.init.network, cids, { signal, runOnLimitedConnection: peers.allowRelayedData === true }),
      isBadData: isPeerFault,
      candidates: () => peers.connectedSpeaking(this.have).filter(p => peers.chunksAllowed?.(p) ?? true),
      usable: peers.chunksAllowed == null ? undefined : (p) => peers.chunksAllowed!(p),
      local: peers.link == null ? undefined : (p) => peers.link!(p) === 'local',
      findProviders: (signal) => this.findProviders(release, signal),
      bucket: bandwidth.download,
      onPiece: (bytes, from) => {
        bandwidth.downloaded += bytes
        this.countSource(from, bytes)
        this.counters.piecesFetched++
      },
      onBadData: (err) => {
        if (err instanceof ChunkVerificationError) this.counters.verificationFailures++
        else this.counters.protocolErrors++
      },
      log: this.log,
      ...options
    }
    await downloadPieces(init)
  }

  private countSource (peer: PeerId, bytes: number): void {
    const key = peer.toString()
    const link = this.components.peers.link?.(peer) ?? 'direct'
    const entry = this.sources.get(key)
    if (entry != null) {
      entry.bytes += bytes
      entry.link = link
    } else if (this.sources.size < MAX_SOURCES) {
      this.sources.set(key, { bytes, link })
    }
  }

  /** providers of a release from the DHT, their addresses remembered so they can be dialled */
  private async * findProviders (release: CID, signal: AbortSignal): AsyncIterable<PeerId> {
    const { node } = this.components
    for await (const provider of node.contentRouting.findProviders(release, { signal })) {
      if (provider.id.equals(node.peerId)) continue
      if (provider.multiaddrs.length > 0) await node.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs }).catch(() => {})
      yield provider.id
    }
  }

  /** swarms and sessions, for status */
  stats (): { releases: number, sessions: number } {
    return this.components.swarms.stats()
  }

  /** pieces held, still missing in releases being fetched, and requested from peers now, across the swarms */
  pieces (): { held: number, fetching: number, requested: number } {
    return this.components.swarms.pieces()
  }

  stop (): void {
    this.components.swarms.closeAll()
  }

  /** the swarm of a release, made when first needed; undefined when this node does not know the release */
  private async open (release: CID, known?: Pieces): Promise<ReleaseSwarm | undefined> {
    const key = release.toString()
    const existing = this.components.swarms.get(key)
    if (existing != null) return existing
    const pending = this.opening.get(key)
    if (pending != null) return await pending
    const making = (async () => {
      const pieces = known ?? await this.components.catalog.piecesOf(release)
      if (pieces == null || pieces.cids.length === 0) return undefined
      const held = new Bitfield(pieces.cids.length)
      // looked up 256 at a time: one by one, a busy disk made this seconds on the way to the first request
      for (let at = 0; at < pieces.cids.length; at += 256) {
        const found = await Promise.all(pieces.cids.slice(at, at + 256).map(async cid => await this.components.store.has(cid)))
        found.forEach((has, i) => { if (has) held.set(at + i) })
      }
      const swarm = new ReleaseSwarm({ release, pieces, held, self: this.components.node.peerId, opener: this.components.node, network: this.init.network, log: this.log })
      this.components.swarms.add(swarm)
      return swarm
    })()
    this.opening.set(key, making)
    try {
      return await making
    } finally {
      this.opening.delete(key)
    }
  }
}

/** a release index's distinct chunks, in order */
export function piecesOf (files: Array<{ chunks: Array<{ cid: string, size: number }> }>): Pieces {
  const seen = new Set<string>()
  const pieces: Pieces = { cids: [], sizes: [] }
  for (const f of files) {
    for (const c of f.chunks) {
      if (seen.has(c.cid)) continue
      seen.add(c.cid)
      pieces.cids.push(CID.parse(c.cid))
      pieces.sizes.push(c.size)
    }
  }
  return pieces
}
