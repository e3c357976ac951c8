/**
 * Per-peer exponential backoff for dialling: a failed peer waits
 * min(base * 2^failures, max) before it is tried again; a success resets it.
 */
export interface BackoffInit {
  baseMs?: number
  maxMs?: number
  now?: () => number
}

export class Backoff {
  private readonly failures = new Map<string, { count: number, until: number }>()
  private readonly baseMs: number
  private readonly maxMs: number
  private readonly now: () => number

  constructor (init: BackoffInit = {}) {
    this.baseMs = init.baseMs ?? 1_000
    this.maxMs = init.maxMs ?? 60_000
    this.now = init.now ?? Date.now
  }

  /** true when the key may be tried now */
  ready (key: string): boolean {
    const entry = this.failures.get(key)
    return entry == null || entry.until <= this.now()
  }

  /** records a failure and returns the wait before the next try */
  fail (key: string): number {
    const count = (this.failures.get(key)?.count ?? 0) + 1
    const wait = Math.min(this.baseMs * 2 ** (count - 1), this.maxMs)
    this.failures.set(key, { count, until: this.now() + wait })
    return wait
  }

  succeed (key: string): void {
    this.failures.delete(key)
  }

  /** whether the key has failed since its last success */
  failing (key: string): boolean {
    return this.failures.has(key)
  }

  /** forgets every failure: the network changed, so every peer is worth a try now */
  clear (): void {
    this.failures.clear()
  }

  /** ms until the key may be tried, 0 when ready */
  waitFor (key: string): number {
    const entry = this.failures.get(key)
    return entry == null ? 0 : Math.max(0, entry.until - this.now())
  }

  /** ms until the last key in backoff may be tried, 0 when none waits */
  longestWait (): number {
    let longest = 0
    for (const entry of this.failures.values()) longest = Math.max(longest, entry.until - this.now())
    return longest
  }

  get size (): number {
    return this.failures.size
  }

  /** forget entries whose wait is over and that failed only a little, so the map stays small */
  prune (): void {
    for (const [key, entry] of this.failures) {
      if (entry.until + this.maxMs < this.now()) this.failures.delete(key)
    }
  }
}
