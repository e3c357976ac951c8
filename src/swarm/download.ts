/**
 * Fetches the pieces of one release this node lacks from the peers in its
 * swarm. The picker chooses (random first pieces, then rarest first, stalled
 * pieces again elsewhere, end-game copies); this part talks to peers:
 *
 * - sessions are opened with every candidate peer (the connected ones that
 *   speak the have protocol, and DHT providers of the release), again every
 *   second for those that did not know the release yet;
 * - each peer gets several requests in flight, as many as its measured rate
 *   needs to stay busy (2 to 6 chunks; a fast peer up to 16);
 * - a request that overruns its deadline marks the piece stalled, so another
 *   peer is asked too; whichever copy arrives first wins and the others are
 *   cancelled;
 * - a peer that sends a wrong chunk is dropped for this release at once, one
 *   that fails three times in a row too; a peer that says it lacks a piece it
 *   announced no longer counts for it;
 * - the download cap (token bucket) is taken before each request;
 * - every chunk is verified (by the chunks client, then the store) before it
 *   counts, is stored at once and announced to every peer, so it is served
 *   while the rest is still coming; the next chunks are read from the peer
 *   while one is written (its write and fsync do not hold up the stream).
 */
import { MirrorPieces } from './mirror-pieces.js'
import { PiecePicker } from './picker.js'
import { sitePlan } from './peer-preference.js'
import { withTimeout } from '../../protocols/shared/timeout-signal.js'
import type { PieceFallback } from './mirror-pieces.js'
import type { ReleaseSwarm, SwarmListener, SwarmPeer } from './release-swarm.js'
import type { TokenBucket } from './token-bucket.js'
import type { ChunkSink, FetchedChunk } from './types.js'
import type { Logger, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

export interface DownloadInit {
  swarm: ReleaseSwarm
  store: ChunkSink
  /** asks one peer for chunks; yields those it has, verified; throws on a wrong chunk */
  get: (peer: PeerId, cids: CID[], signal: AbortSignal) => AsyncIterable<FetchedChunk>
  /** true when the error means the peer sent bad data */
  isBadData: (err: unknown) => boolean
  /** peers to open sessions with: connected peers that speak the have protocol */
  candidates: () => PeerId[]
  /** providers of the release from the DHT, dialable (their addresses known) */
  findProviders?: (signal: AbortSignal) => AsyncIterable<PeerId>
  bucket?: TokenBucket
  onProgress?: (held: number, total: number) => void
  /** a piece arrived: bytes, from whom */
  onPiece?: (bytes: number, from: PeerId) => void
  /** a peer sent bad data (isBadData): it is dropped for this release */
  onBadData?: (err: unknown, from: PeerId) => void
  log: Logger
  signal?: AbortSignal
  /** time for one request, the hard limit (default 30 s) */
  requestTimeoutMs?: number
  /** give up when nothing arrives and nothing is asked for this long (default 30 s) */
  idleMs?: number
  random?: () => number
  /** chunks may be asked of this peer now (default: any); false for a peer reached only through a relay (peer-preference.ts) */
  usable?: (peer: PeerId) => boolean
  /** the peer is on this node's site (default: none is); off-site peers are not asked for what a site peer holds or fetches */
  local?: (peer: PeerId) => boolean
  /** a static HTTP mirror for pieces no peer offers, or when the peers stall (mirror-pieces.ts) */
  fallback?: PieceFallback
}

export class ChunksUnavailableError extends Error {
  override readonly name = 'ChunksUnavailableError'
}

interface PeerStats {
  inflight: number
  failures: number
  bytes: number
  since: number
}

/** one GET to one peer for a few pieces */
interface Request {
  pieces: number[]
  peer: string
  started: number
  deadline: number
  stalled: boolean
  controller: AbortController
}

const TICK_MS = 250
const DISCOVER_MS = 1_000
const PROVIDERS_MS = 30_000
const MAX_SESSIONS = 32
const MIN_INFLIGHT = 2
const MAX_INFLIGHT = 6
/**
 * a fast peer (more than about 8 MiB/s) gets a fifth of a second of its rate
 * in flight, up to this many pieces: with 6 a follower fetching from one
 * publisher on loopback waited on each request's round trip (disk read,
 * stream set-up, store write)
 */
const MAX_FAST_INFLIGHT = 16
const FAST_WINDOW_S = 0.2
/**
 * pieces asked for in one GET: fewer streams (libp2p records every stream's
 * protocol in the peer store, a LevelDB write each), still two requests in
 * flight per peer at the smallest target
 */
const MAX_BATCH = 3
/** how long off-site peers wait, at the start of a download, for the have session of a connected site peer */
const SITE_GRACE_MS = 2_000
/** a guess of a new peer's rate until it has sent something */
const FIRST_RATE = 256 * 1024
/** the picker's name for the mirror, beside peer ids */
const MIRROR_KEY = 'mirror'

export async function downloadPieces (init: DownloadInit): Promise<void> {
  await new PieceDownload(init).run()
}

class PieceDownload implements SwarmListener {
  private readonly swarm: ReleaseSwarm
  private readonly picker: PiecePicker
  private readonly stats = new Map<string, PeerStats>()
  private readonly counted = new Set<string>()
  private readonly dropped = new Set<string>()
  private readonly requests = new Set<Request>()
  /** pieces being written to the store: a second copy arriving meanwhile is not stored again */
  private readonly storing = new Set<number>()
  private readonly retryAt = new Map<string, number>()
  private readonly controller = new AbortController()
  private readonly averageSize: number
  private lastProgress = Date.now()
  private readonly began = Date.now()
  private finish?: (err?: Error) => void
  private fallback?: MirrorPieces

  constructor (private readonly init: DownloadInit) {
    this.swarm = init.swarm
    this.picker = new PiecePicker(this.swarm.count, this.swarm.held, { random: init.random, fetching: (i) => this.swarm.fetching[i] })
    const sizes = this.swarm.pieces.sizes
    this.averageSize = sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length)
  }

  async run (): Promise<void> {
    // a caller that stopped before the swarm was open (the follower's stop) gets no download at all
    this.init.signal?.throwIfAborted()
    if (this.swarm.held.complete) return
    if (this.swarm.listener != null) throw new Error(`release ${this.swarm.key} is already being fetched`)
    this.swarm.listener = this
    for (const peer of this.swarm.peers.values()) this.peerJoined(peer)
    const done = new Promise<void>((resolve, reject) => { this.finish = (err) => { err == null ? resolve() : reject(err) } })
    const onAbort = (): void => { this.finish?.(this.init.signal!.reason as Error) }
    this.init.signal?.addEventListener('abort', onAbort, { once: true })
    this.fallback = this.mirrorPieces()
    const tick = setInterval(() => { this.tick() }, TICK_MS)
    const discover = setInterval(() => { this.discover() }, DISCOVER_MS)
    const providers = setInterval(() => { void this.providers() }, PROVIDERS_MS)
    const started = Date.now()
    this.init.log('fetching %s: %d of %d pieces held, %d peers in its swarm', this.swarm.key, this.swarm.held.count, this.swarm.count, this.swarm.peers.size)
    this.discover()
    void this.providers()
    this.schedule()
    try {
      await done
      const from = [...this.stats.entries()].filter(([, s]) => s.bytes > 0).map(([peer, s]) => `${peer.slice(-6)} ${(s.bytes / 1048576).toFixed(1)} MiB`)
      if (this.fallback != null) from.push(`mirror ${(this.fallback.bytes / 1048576).toFixed(1)} MiB`)
      this.init.log('held %s in %d ms; from %s', this.swarm.key, Date.now() - started, from.join(', '))
    } finally {
      clearInterval(tick)
      clearInterval(discover)
      clearInterval(providers)
      this.fallback?.stop()
      this.init.signal?.removeEventListener('abort', onAbort)
      this.controller.abort(new Error('download ended'))
      for (const r of this.requests) r.controller.abort(new Error('download ended'))
      this.swarm.listener = undefined
    }
  }

  peerJoined (peer: SwarmPeer): void {
    if (this.dropped.has(peer.key) || this.counted.has(peer.key)) return
    this.counted.add(peer.key)
    this.picker.peerAdded(peer.have)
    this.schedule()
  }

  peerHas (peer: SwarmPeer, piece: number): void {
    if (!this.counted.has(peer.key)) return
    this.picker.peerHas(piece)
    this.schedule()
  }

  peerLeft (peer: SwarmPeer): void {
    if (this.counted.delete(peer.key)) this.picker.peerRemoved(peer.have)
    for (const r of this.requests) if (r.peer === peer.key) r.controller.abort(new Error('the peer left the swarm'))
  }

  /** opens sessions with candidates that have none; those that did not know the release are asked again later */
  private discover (): void {
    const now = Date.now()
    for (const peer of this.init.candidates()) {
      const key = peer.toString()
      if (this.swarm.peers.size >= MAX_SESSIONS) return
      if (this.swarm.peers.has(key) || this.dropped.has(key) || (this.retryAt.get(key) ?? 0) > now) continue
      this.retryAt.set(key, now + DISCOVER_MS)
      this.swarm.connect(peer).catch(err => {
        this.retryAt.set(key, Date.now() + 10_000)
        this.init.log.trace('no have session with %p - %e', peer, err)
      })
    }
  }

  /** providers of the release from the DHT: those not connected are dialled by opening a session */
  private async providers (): Promise<void> {
    if (this.init.findProviders == null) return
    try {
      const signal = withTimeout(10_000, this.controller.signal)
      let n = 0
      for await (const peer of this.init.findProviders(signal)) {
        const key = peer.toString()
        if (this.swarm.peers.has(key) || this.dropped.has(key)) continue
        this.swarm.connect(peer).catch(err => { this.init.log.trace('no have session with provider %p - %e', peer, err) })
        if (++n >= MAX_SESSIONS) break
      }
    } catch (err) {
      if (!this.controller.signal.aborted) this.init.log.trace('provider lookup failed - %e', err)
    }
  }

  private tick (): void {
    const now = Date.now()
    for (const r of this.requests) {
      if (!r.stalled && now > r.deadline) {
        r.stalled = true
        for (const piece of r.pieces) this.picker.stall(piece)
      }
    }
    this.schedule()
    this.fallback?.tick(now)
    if (this.requests.size === 0 && (this.fallback?.active ?? 0) === 0 && now - this.lastProgress > (this.init.idleMs ?? 30_000)) {
      this.finish?.(new ChunksUnavailableError(`${this.picker.missing} of ${this.swarm.count} chunks: no peer of the ${this.swarm.peers.size} in the swarm sent any for ${Math.round((now - this.lastProgress) / 1000)} s; will retry when peers change`))
    }
  }

  private stat (key: string): PeerStats {
    let s = this.stats.get(key)
    if (s == null) {
      s = { inflight: 0, failures: 0, bytes: 0, since: Date.now() }
      this.stats.set(key, s)
    }
    return s
  }

  private rate (s: PeerStats): number {
    return s.bytes > 0 ? s.bytes / Math.max(1, (Date.now() - s.since) / 1000) : FIRST_RATE
  }

  /** pieces a peer should have in flight: about a second of its rate plus one, up to 6; a fast peer a fifth of a second of its rate, up to 16 */
  private target (s: PeerStats): number {
    const perSecond = this.rate(s) / this.averageSize
    return Math.max(MIN_INFLIGHT, Math.min(MAX_INFLIGHT, Math.ceil(perSecond) + 1), Math.min(MAX_FAST_INFLIGHT, Math.ceil(perSecond * FAST_WINDOW_S)))
  }

  private schedule (): void {
    if (this.swarm.held.complete) {
      this.finish?.()
      return
    }
    // site peers first; an off-site peer is kept off what a site peer holds or fetches
    const plan = sitePlan([...this.swarm.peers.values()].filter(p => !this.dropped.has(p.key) && this.counted.has(p.key)), this.swarm.count, this.init, this.siteSessionPending())
    for (const { peer, skip } of plan) {
      const s = this.stat(peer.key)
      for (let room = this.target(s) - s.inflight; room > 0;) {
        const pieces: number[] = []
        while (pieces.length < Math.min(room, MAX_BATCH)) {
          const piece = this.picker.pick(peer.key, peer.have, skip)
          if (piece === undefined) break
          // a seed (it holds everything: the publisher, mostly) is the swarm's bottleneck until every
          // piece has left it once: ask it for a piece others hold or fetch only one at a time
          if (peer.have.complete && !this.picker.endgame && this.picker.expected(piece) > 1 && s.inflight + pieces.length > 0) break
          // marked at once, so the next pick for this peer is another piece
          this.picker.requested(piece, peer.key)
          pieces.push(piece)
        }
        if (pieces.length === 0) break
        room -= pieces.length
        this.swarm.markFetching(pieces)
        this.request(peer, s, pieces)
      }
    }
  }

  /** early in a download, a connected site peer whose session is not open yet: off-site peers wait for it */
  private siteSessionPending (): boolean {
    const local = this.init.local
    if (local == null || Date.now() - this.began > SITE_GRACE_MS) return false
    return this.init.candidates().some(p => local(p) && !this.swarm.peers.has(p.toString()) && !this.dropped.has(p.toString()))
  }

  private request (peer: SwarmPeer, s: PeerStats, pieces: number[]): void {
    const bytes = pieces.reduce((sum, i) => sum + this.swarm.pieces.sizes[i], 0)
    const expectedMs = (s.inflight * this.averageSize + bytes) / this.rate(s) * 1000
    const r: Request = { pieces, peer: peer.key, started: Date.now(), deadline: Date.now() + 2_000 + 3 * expectedMs, stalled: false, controller: new AbortController() }
    this.requests.add(r)
    s.inflight += pieces.length
    this.swarm.requested += pieces.length
    void this.fetch(peer, s, r, bytes).finally(() => {
      this.requests.delete(r)
      s.inflight -= pieces.length
      this.swarm.requested -= pieces.length
      for (const piece of pieces) this.picker.finished(piece, peer.key)
      this.schedule()
    })
  }

  private async fetch (peer: SwarmPeer, s: PeerStats, r: Request, bytes: number): Promise<void> {
    const got = new Set<number>()
    /** chunks of this request being written; the request ends once they are */
    const stores: Array<Promise<void>> = []
    // the hard limit is a timer cleared when the request ends: an AbortSignal.timeout would stay in the timer list,
    // with whatever listens to its signal, for the whole 30 s after the request ended
    const timeoutMs = this.init.requestTimeoutMs ?? 30_000
    const timeout = new AbortController()
    const limit = setTimeout(() => { timeout.abort(new DOMException(`the chunk request took longer than ${timeoutMs} ms`, 'TimeoutError')) }, timeoutMs)
    try {
      const signal = AbortSignal.any([r.controller.signal, this.controller.signal, timeout.signal])
      await this.init.bucket?.take(bytes, signal)
      const cids = r.pieces.map(i => this.swarm.pieces.cids[i])
      for await (const chunk of this.init.get(peer.id, cids, signal)) {
        const piece = r.pieces[cids.indexOf(chunk.cid)]
        got.add(piece)
        s.bytes += chunk.bytes.byteLength
        s.failures = 0
        if (this.swarm.held.has(piece) || this.storing.has(piece)) continue
        // written while the next chunks arrive; a failed write fails the request below, as before
        const stored = this.keep(piece, chunk, peer, r)
        stored.catch(() => {})
        stores.push(stored)
      }
      await Promise.all(stores)
      for (const piece of r.pieces) {
        if (got.has(piece)) continue
        // the peer answered NOT_FOUND: it does not hold the piece after all
        this.swarm.peerLacks(peer, piece)
        if (this.counted.has(peer.key)) this.picker.peerLost(piece)
      }
    } catch (err) {
      if (this.controller.signal.aborted) return
      if (r.controller.signal.aborted) {
        // cancelled because others sent its pieces first: a strike only if it had overrun its deadline (a stalling peer)
        if (r.stalled && this.stats.get(peer.key) === s && ++s.failures >= 3) this.drop(peer, new Error(`three requests overran their deadlines`))
        return
      }
      if (this.init.isBadData(err)) {
        this.init.onBadData?.(err, peer.id)
        this.drop(peer, err)
      } else if (++s.failures >= 3) {
        this.drop(peer, err)
      } else {
        this.init.log('chunk request to %p failed (%d) - %e', peer.id, s.failures, err)
      }
    } finally {
      clearTimeout(limit)
      // the request (and its pieces' accounting) ends once its chunks are on disk or failed
      await Promise.allSettled(stores)
    }
  }

  /** stores a verified chunk, then counts it held and announces it */
  private async keep (piece: number, chunk: FetchedChunk, peer: SwarmPeer, r: Request): Promise<void> {
    this.storing.add(piece)
    try {
      // the chunks client hashed it against the CID asked for: stored without a second hash
      await this.init.store.put(chunk.cid, chunk.bytes, { verified: true })
    } finally {
      this.storing.delete(piece)
    }
    this.lastProgress = Date.now()
    // announced first: markHeld sets the bit the picker shares
    this.swarm.markHeld(piece)
    this.picker.received(piece, peer.key)
    this.cancelDuplicates(piece, r)
    this.init.onPiece?.(chunk.bytes.byteLength, peer.id)
    this.init.onProgress?.(this.swarm.held.count, this.swarm.count)
  }

  /** the mirror's side of this download: it sees the picker's counts and hands pieces over like a peer */
  private mirrorPieces (): MirrorPieces | undefined {
    const fallback = this.init.fallback
    if (fallback == null) return undefined
    const { pieces } = this.swarm
    return new MirrorPieces({
      cids: pieces.cids,
      sizes: pieces.sizes,
      held: i => this.swarm.held.has(i) || this.storing.has(i),
      offered: i => this.picker.expected(i),
      requested: i => this.requests.size > 0 && [...this.requests].some(r => r.pieces.includes(i)),
      lastProgress: () => this.lastProgress,
      claim: i => { this.picker.requested(i, MIRROR_KEY); this.swarm.markFetching([i]) },
      release: i => { this.picker.finished(i, MIRROR_KEY); this.schedule() },
      stall: i => { this.picker.stall(i) },
      deliver: async (i, bytes) => {
        if (this.swarm.held.has(i) || this.storing.has(i)) return false
        this.storing.add(i)
        try {
          // the mirror client hashed it against its CID
          await this.init.store.put(pieces.cids[i], bytes, { verified: true })
        } finally {
          this.storing.delete(i)
        }
        this.lastProgress = Date.now()
        this.swarm.markHeld(i)
        this.picker.received(i, MIRROR_KEY)
        this.cancelDuplicates(i)
        this.init.onProgress?.(this.swarm.held.count, this.swarm.count)
        return true
      },
      take: this.init.bucket == null ? undefined : async (bytes, signal) => { await this.init.bucket!.take(bytes, signal) },
      log: this.init.log
    }, fallback, this.init.random)
  }

  /** other requests for a piece that just arrived are cancelled once every piece they ask for is held */
  private cancelDuplicates (piece: number, from?: Request): void {
    for (const r of this.requests) {
      if (r === from || !r.pieces.includes(piece)) continue
      if (r.pieces.every(i => this.swarm.held.has(i))) r.controller.abort(new Error('other peers sent these pieces first'))
    }
  }

  private drop (peer: SwarmPeer, err: unknown): void {
    this.init.log('dropping %p for release %s - %e', peer.id, this.swarm.key, err)
    this.dropped.add(peer.key)
    if (this.counted.delete(peer.key)) this.picker.peerRemoved(peer.have)
    for (const r of this.requests) if (r.peer === peer.key) r.controller.abort(new Error('peer dropped'))
  }
}
