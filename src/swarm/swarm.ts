/**
 * The node's swarms, one per release it fetches or serves: answers the have
 * exchange for any release this node knows (a follower's verified indexes,
 * a publisher's repository), runs downloads, and tells the upload scheduler
 * how many peers hold a chunk. Releases nobody asked about for a while are
 * forgotten (at most MAX_RELEASES kept), their sessions closed.
 */
import { CID } from 'multiformats/cid'
import { decodeChunkCid } from '../content/cid.js'
import { Bitfield } from './bitfield.js'
import { downloadPieces } from './download.js'
import { ReleaseSwarm } from './release-swarm.js'
import type { DownloadInit } from './download.js'
import type { Pieces } from './release-swarm.js'
import type { TokenBucket } from './token-bucket.js'
import type { HaveHello, HaveSession, HaveSwarm } from '../../protocols/have/index.js'
import type { StreamOpener } from '../../protocols/status/client.js'
import type { ChunkSink, FetchedChunk } from './types.js'
import type { Logger, PeerId } from '@libp2p/interface'

const MAX_RELEASES = 16

export interface SwarmInit {
  self: PeerId
  opener: StreamOpener
  network: string
  store: ChunkSink
  /** the pieces of a release this node knows, by the CID of its index; undefined when unknown */
  resolve: (release: CID) => Promise<Pieces | undefined>
  get: (peer: PeerId, cids: CID[], signal: AbortSignal) => AsyncIterable<FetchedChunk>
  isBadData: (err: unknown) => boolean
  candidates: () => PeerId[]
  findProviders?: (release: CID, signal: AbortSignal) => AsyncIterable<PeerId>
  download?: TokenBucket
  onPiece?: (bytes: number, from: PeerId) => void
  log: Logger
}

export interface FetchOptions {
  signal?: AbortSignal
  onProgress?: (held: number, total: number) => void
  idleMs?: number
  requestTimeoutMs?: number
}

export class Swarm implements HaveSwarm {
  private readonly releases = new Map<string, ReleaseSwarm>()
  private readonly opening = new Map<string, Promise<ReleaseSwarm | undefined>>()

  constructor (private readonly init: SwarmInit) {}

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
    const swarm = this.releases.get(CID.decode(session.remote.release).toString())
    if (swarm == null) session.close()
    else swarm.adopt(session, false)
  }

  /** fetches every piece of `release` this node lacks; resolves when all are held and verified */
  async fetch (release: CID, pieces: Pieces, options: FetchOptions = {}): Promise<void> {
    const swarm = await this.open(release, pieces)
    if (swarm == null) throw new Error(`release ${release.toString()} has no pieces`)
    const init: DownloadInit = {
      swarm,
      store: this.init.store,
      get: this.init.get,
      isBadData: this.init.isBadData,
      candidates: this.init.candidates,
      findProviders: this.init.findProviders == null ? undefined : (signal) => this.init.findProviders!(release, signal),
      bucket: this.init.download,
      onPiece: this.init.onPiece,
      log: this.init.log,
      ...options
    }
    await downloadPieces(init)
  }

  /** known peers that hold chunk `key`, in any swarm (the upload scheduler's rarity) */
  holders (key: string): number {
    let n = 0
    for (const swarm of this.releases.values()) {
      const i = swarm.index.get(key)
      if (i !== undefined) n = Math.max(n, swarm.availability[i])
    }
    return n
  }

  /** swarms and sessions, for status */
  stats (): { releases: number, sessions: number } {
    let sessions = 0
    for (const s of this.releases.values()) sessions += s.peers.size
    return { releases: this.releases.size, sessions }
  }

  stop (): void {
    for (const s of this.releases.values()) s.close()
    this.releases.clear()
  }

  /** the swarm of a release, made when first needed; undefined when this node does not know the release */
  private async open (release: CID, known?: Pieces): Promise<ReleaseSwarm | undefined> {
    const key = release.toString()
    const existing = this.releases.get(key)
    if (existing != null) return existing
    const pending = this.opening.get(key)
    if (pending != null) return await pending
    const making = (async () => {
      const pieces = known ?? await this.init.resolve(release)
      if (pieces == null || pieces.cids.length === 0) return undefined
      const held = new Bitfield(pieces.cids.length)
      // looked up 256 at a time: one by one, a busy disk made this seconds on the way to the first request
      for (let at = 0; at < pieces.cids.length; at += 256) {
        const found = await Promise.all(pieces.cids.slice(at, at + 256).map(async cid => await this.init.store.has(cid)))
        found.forEach((has, i) => { if (has) held.set(at + i) })
      }
      const swarm = new ReleaseSwarm({ release, pieces, held, self: this.init.self, opener: this.init.opener, network: this.init.network, log: this.init.log })
      this.releases.set(key, swarm)
      this.evict()
      return swarm
    })()
    this.opening.set(key, making)
    try {
      return await making
    } finally {
      this.opening.delete(key)
    }
  }

  private evict (): void {
    if (this.releases.size <= MAX_RELEASES) return
    const idle = [...this.releases.values()].filter(s => s.listener == null).sort((a, b) => a.lastUsed - b.lastUsed)
    for (const s of idle.slice(0, this.releases.size - MAX_RELEASES)) {
      s.close()
      this.releases.delete(s.key)
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
