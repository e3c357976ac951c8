/**
 * The pieces a download takes from a static HTTP mirror (a seed that never
 * leaves): only those no peer offers, or when the peers stall.
 *
 * - a piece that no peer in the swarm holds or says it is fetching, for
 *   `afterMs` on end, is asked of the mirror;
 * - when nothing at all arrived from peers for `afterMs`, any missing piece
 *   may be asked of it (those no peer was asked for first);
 * - pieces are chosen at random among those, and marked as fetching in the
 *   have exchange at once, so the other nodes of the swarm wait for this one
 *   instead of asking the mirror for the same piece: a swarm with no seed
 *   but the mirror takes about one copy from it and trades the rest;
 * - a mirror request still out after `afterMs` lets the picker ask peers for
 *   that piece too (the first copy wins);
 * - at most `parallel` requests at once; a piece the mirror failed is not
 *   asked of it again for a while (a minute when the mirror served wrong or
 *   oversized bytes), and every failure is logged by the mirror with its URL.
 *
 * Every piece is verified against its CID by the source before it is handed
 * over; the download stores it and counts it like a peer's.
 */
import type { Logger } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/** where the mirror's chunks come from: the HTTP mirror (src/trust/http-mirror.ts) */
export interface PieceSource {
  /** false while the source is not to be asked */
  readonly available: boolean
  /** a chunk of `size` bytes, resolved only once it hashes to `cid` */
  fetchChunk: (cid: CID, size: number, signal?: AbortSignal) => Promise<Uint8Array>
}

/** a download's fallback to a mirror (DownloadInit.fallback) */
export interface PieceFallback {
  source: PieceSource
  /** how long a piece goes unoffered, or the peers send nothing, before the mirror is asked (ms) */
  afterMs: number
  /** mirror requests at once (default 4) */
  parallel?: number
  /** a piece came from the mirror */
  onPiece?: (bytes: number) => void
}

/** what a download lets its fallback see and do */
export interface FallbackHost {
  cids: CID[]
  sizes: number[]
  held: (i: number) => boolean
  /** peers that hold piece i or said they are fetching it */
  offered: (i: number) => number
  /** a request for piece i is out to a peer */
  requested: (i: number) => boolean
  /** when the last piece arrived (or the download started) */
  lastProgress: () => number
  /** piece i is being fetched from the mirror: the picker and the swarm hear of it */
  claim: (i: number) => void
  /** the mirror request for piece i ended */
  release: (i: number) => void
  /** the mirror is slow with piece i: peers that hold it may be asked too */
  stall: (i: number) => void
  /** piece i arrived, verified: store it and count it; false when a peer's copy was first */
  deliver: (i: number, bytes: Uint8Array) => Promise<boolean>
  /** waits for the download cap */
  take?: (bytes: number, signal: AbortSignal) => Promise<void>
  log: Logger
}

const RETRY_MS = 5_000
const BAD_DATA_RETRY_MS = 60_000
export const DEFAULT_FALLBACK_PARALLEL = 4

export class MirrorPieces {
  /** verified bytes this download took from the mirror */
  bytes = 0
  /** piece -> when its mirror request started (0 once marked stalled) */
  private readonly inflight = new Map<number, number>()
  private readonly unofferedSince: Float64Array
  private readonly retryAt: Float64Array
  private readonly controller = new AbortController()
  private readonly started = Date.now()

  constructor (private readonly host: FallbackHost, private readonly init: PieceFallback, private readonly random: () => number = Math.random) {
    this.unofferedSince = new Float64Array(host.cids.length)
    this.retryAt = new Float64Array(host.cids.length)
  }

  /** mirror requests out now */
  get active (): number {
    return this.inflight.size
  }

  /** pieces the mirror should be asked for now, at most `room`, chosen at random (pure but for the clock given) */
  choose (now: number, room: number): number[] {
    const { host } = this
    const stalled = now - Math.max(host.lastProgress(), this.started) >= this.init.afterMs
    const unoffered: number[] = []
    const others: number[] = []
    for (let i = 0; i < host.cids.length; i++) {
      if (host.held(i) || this.inflight.has(i)) continue
      if (host.offered(i) > 0) {
        this.unofferedSince[i] = 0
      } else if (this.unofferedSince[i] === 0) {
        this.unofferedSince[i] = now
      }
      if (this.retryAt[i] > now) continue
      if (this.unofferedSince[i] > 0 && now - Math.max(this.unofferedSince[i], this.started) >= this.init.afterMs) unoffered.push(i)
      else if (stalled) others.push(i)
    }
    const pick = (list: number[], n: number): number[] => {
      const out: number[] = []
      while (out.length < n && list.length > 0) out.push(list.splice(Math.floor(this.random() * list.length), 1)[0])
      return out
    }
    const chosen = pick(unoffered, room)
    if (chosen.length < room) {
      // when the peers stall: pieces no peer was asked for first
      const free = others.filter(i => !host.requested(i))
      chosen.push(...pick(free, room - chosen.length))
      chosen.push(...pick(others.filter(i => host.requested(i)), room - chosen.length))
    }
    return chosen
  }

  tick (now = Date.now()): void {
    if (this.controller.signal.aborted) return
    // a slow mirror must not hold up a piece a peer now holds: after afterMs, the picker may ask peers too
    for (const [i, since] of this.inflight) {
      if (since > 0 && now - since >= this.init.afterMs) {
        this.inflight.set(i, 0)
        this.host.stall(i)
      }
    }
    if (!this.init.source.available) return
    const room = (this.init.parallel ?? DEFAULT_FALLBACK_PARALLEL) - this.inflight.size
    if (room <= 0) return
    for (const i of this.choose(now, room)) void this.fetch(i)
  }

  stop (): void {
    this.controller.abort(new Error('download ended'))
  }

  private async fetch (i: number): Promise<void> {
    const { host } = this
    this.inflight.set(i, Date.now())
    host.claim(i)
    try {
      await host.take?.(host.sizes[i], this.controller.signal)
      const bytes = await this.init.source.fetchChunk(host.cids[i], host.sizes[i], this.controller.signal)
      if (await host.deliver(i, bytes)) {
        this.bytes += bytes.byteLength
        this.init.onPiece?.(bytes.byteLength)
      }
    } catch (err) {
      if (this.controller.signal.aborted) return
      const name = (err as Error).name
      this.retryAt[i] = Date.now() + (name === 'MirrorHashError' || name === 'MirrorTooLargeError' ? BAD_DATA_RETRY_MS : RETRY_MS)
      host.log.trace('piece %d not fetched from the mirror - %e', i, err)
    } finally {
      this.inflight.delete(i)
      host.release(i)
    }
  }
}
