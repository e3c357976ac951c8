/**
 * Which piece to ask a peer for next. Pure bookkeeping, no I/O, so every rule
 * is unit-tested:
 *
 * - the first few pieces are picked at random, so a new node soon holds
 *   something the others lack and can trade;
 * - after that, rarest first: the piece the fewest known peers hold or are
 *   fetching (their hint), ties broken at random so nodes do not all chase
 *   the same piece;
 * - a piece is asked of one peer at a time, except a stalled one (the fetcher
 *   saw its request overrun) and, in the end-game (every missing piece is
 *   requested), any missing piece: up to `endgameCopies` peers, and the
 *   losers are cancelled when the first copy arrives;
 * - a peer is never asked twice for the same piece at once;
 * - a caller may keep a peer off some pieces (`skip`): a peer off-site is
 *   not asked for what a peer on the site holds or fetches; a stalled piece
 *   is never kept off.
 */
import { Bitfield } from '../../protocols/shared/index.js'

export interface PickerOptions {
  /** pieces picked at random before rarest-first takes over (default 4) */
  randomFirst?: number
  /** requests for one piece at once in the end-game or when stalled (default 2) */
  endgameCopies?: number
  /** a source of numbers in [0, 1) (default Math.random) */
  random?: () => number
  /**
   * peers that said they are fetching piece i (default none): added to its
   * availability, since they will hold it soon, so nodes spread their
   * requests over the pieces instead of asking the seeder for the same ones
   */
  fetching?: (i: number) => number
}

export class PiecePicker {
  readonly held: Bitfield
  private readonly availability: Uint32Array
  private readonly requests: Uint8Array
  private readonly stalled: Uint8Array
  private readonly requestedBy = new Map<number, Set<string>>()
  private readonly randomFirst: number
  private readonly endgameCopies: number
  private readonly random: () => number
  private readonly fetching: (i: number) => number
  /** missing pieces with no request out */
  private unrequested: number

  constructor (readonly size: number, held?: Bitfield, options: PickerOptions = {}) {
    this.held = held ?? new Bitfield(size)
    this.availability = new Uint32Array(size)
    this.requests = new Uint8Array(size)
    this.stalled = new Uint8Array(size)
    this.randomFirst = options.randomFirst ?? 4
    this.endgameCopies = options.endgameCopies ?? 2
    this.random = options.random ?? Math.random
    this.fetching = options.fetching ?? (() => 0)
    this.unrequested = size - this.held.count
  }

  /** a peer's whole bitfield became known */
  peerAdded (have: Bitfield): void {
    for (let i = 0; i < this.size; i++) if (have.has(i)) this.availability[i]++
  }

  /** a peer left: its pieces no longer count */
  peerRemoved (have: Bitfield): void {
    for (let i = 0; i < this.size; i++) if (have.has(i) && this.availability[i] > 0) this.availability[i]--
  }

  /** a known peer now holds piece i */
  peerHas (i: number): void {
    if (i >= 0 && i < this.size) this.availability[i]++
  }

  /** a peer said it held piece i but did not: it no longer counts */
  peerLost (i: number): void {
    if (i >= 0 && i < this.size && this.availability[i] > 0) this.availability[i]--
  }

  /** peers that hold piece i or said they are fetching it */
  expected (i: number): number {
    return this.availability[i] + this.fetching(i)
  }

  /** how many known peers hold piece i */
  holders (i: number): number {
    return this.availability[i]
  }

  /** true once every missing piece has a request out */
  get endgame (): boolean {
    return this.unrequested === 0 && !this.held.complete
  }

  get missing (): number {
    return this.size - this.held.count
  }

  /** the next piece to ask `peer` (which holds `have`) for, or undefined when it has nothing more to give now; `skip` keeps it off pieces not stalled */
  pick (peer: string, have: Bitfield, skip?: (i: number) => boolean): number | undefined {
    const random = this.held.count < this.randomFirst
    let best: number | undefined
    let bestScore = Infinity
    let ties = 0
    for (let i = 0; i < this.size; i++) {
      if (this.held.has(i) || !have.has(i) || this.requests[i] >= this.endgameCopies || this.requestedBy.get(i)?.has(peer) === true) continue
      let score: number
      if (this.requests[i] === 0) {
        if (skip?.(i) === true) continue
        score = (random ? 0 : this.availability[i]) + this.fetching(i)
      } else if (this.stalled[i] === 1) score = -1 // a stalled piece holds the download up: it goes first
      else continue
      if (score < bestScore) {
        best = i
        bestScore = score
        ties = 1
      } else if (score === bestScore && this.random() * ++ties < 1) {
        best = i
      }
    }
    if (best !== undefined || !this.endgame) return best
    // end-game: every missing piece is requested; ask this peer too, fewest requests first
    for (let i = 0; i < this.size; i++) {
      if (this.held.has(i) || !have.has(i) || this.requests[i] >= this.endgameCopies || this.requestedBy.get(i)?.has(peer) === true) continue
      if (this.stalled[i] === 0 && skip?.(i) === true) continue
      const score = this.requests[i]
      if (score < bestScore) {
        best = i
        bestScore = score
        ties = 1
      } else if (score === bestScore && this.random() * ++ties < 1) {
        best = i
      }
    }
    return best
  }

  /** a request for piece i went out to `peer` */
  requested (i: number, peer: string): void {
    const by = this.requestedBy.get(i) ?? new Set<string>()
    if (by.has(peer)) return
    by.add(peer)
    this.requestedBy.set(i, by)
    if (this.requests[i]++ === 0 && !this.held.has(i)) this.unrequested--
    this.stalled[i] = 0
  }

  /** the request for piece i to `peer` ended without the piece (failed, not held, cancelled) */
  finished (i: number, peer: string): void {
    const by = this.requestedBy.get(i)
    if (by?.delete(peer) !== true) return
    if (by.size === 0) this.requestedBy.delete(i)
    if (--this.requests[i] === 0) {
      this.stalled[i] = 0
      if (!this.held.has(i)) this.unrequested++
    }
  }

  /** the request for piece i is overdue: another peer may be asked too */
  stall (i: number): void {
    if (!this.held.has(i) && this.requests[i] > 0) this.stalled[i] = 1
  }

  /** piece i arrived verified; returns the other peers still asked for it, to cancel */
  received (i: number, from?: string): string[] {
    const others = [...(this.requestedBy.get(i) ?? [])].filter(p => p !== from)
    this.requestedBy.delete(i)
    if (this.held.set(i) && this.requests[i] === 0) this.unrequested--
    this.requests[i] = 0
    this.stalled[i] = 0
    return others
  }
}
