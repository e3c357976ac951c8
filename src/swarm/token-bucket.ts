/**
 * A token bucket for bytes: `rate` bytes a second, at most `burst` saved up.
 * `take(n)` waits until the bucket is not in debt, then takes n, so one
 * chunk larger than the burst still passes and the average rate holds over
 * any stretch longer than a burst. Rate 0 means no limit. Waiters are served
 * in order, so a large take cannot be overtaken forever by small ones.
 */
export class TokenBucket {
  private tokens: number
  private last: number
  private rateBps: number
  private burstBytes: number
  private queue: Promise<void> = Promise.resolve()
  /** the waiter sleeping for tokens, woken early by a new rate */
  private wake?: () => void
  /** bytes taken since the start, for status */
  total = 0

  constructor (rate: number, burst?: number, private readonly now: () => number = () => performance.now()) {
    this.rateBps = rate
    this.burstBytes = burst ?? defaultBurst(rate)
    this.tokens = this.burstBytes
    this.last = now()
  }

  get rate (): number {
    return this.rateBps
  }

  /** a new rate (config reload); what was saved up is kept within the new burst */
  setRate (rate: number, burst?: number): void {
    this.refill()
    this.rateBps = rate
    this.burstBytes = burst ?? defaultBurst(rate)
    this.tokens = Math.min(this.tokens, this.burstBytes)
    this.wake?.()
  }

  /** waits for its turn and for the bucket to be out of debt, then takes `bytes` */
  async take (bytes: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    const turn = this.queue.then(async () => {
      await this.wait(signal)
      this.tokens -= bytes
      this.total += bytes
    })
    // a waiter that gives up must not block the ones after it
    this.queue = turn.catch(() => {})
    if (signal == null) {
      await turn
      return
    }
    // a take aborted while it waits for its turn rejects at once
    let onAbort: (() => void) | undefined
    try {
      await Promise.race([turn, new Promise<never>((_resolve, reject) => {
        onAbort = () => { reject(signal.reason) }
        signal.addEventListener('abort', onAbort, { once: true })
      })])
    } finally {
      signal.removeEventListener('abort', onAbort!)
    }
  }

  /** ms until a take could proceed now (0 when unlimited or not in debt) */
  delayMs (): number {
    if (this.rateBps <= 0) return 0
    this.refill()
    return this.tokens >= 0 ? 0 : Math.ceil(-this.tokens / this.rateBps * 1000)
  }

  private async wait (signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted()
      const ms = this.delayMs()
      if (ms === 0) return
      await sleep(ms, signal, (wake) => { this.wake = wake })
      this.wake = undefined
    }
  }

  private refill (): void {
    const now = this.now()
    if (this.rateBps > 0) this.tokens = Math.min(this.burstBytes, this.tokens + (now - this.last) / 1000 * this.rateBps)
    else this.tokens = this.burstBytes
    this.last = now
  }
}

/** a quarter second of traffic, at least 64 KiB: short bursts, an average that holds within seconds */
function defaultBurst (rate: number): number {
  return Math.max(64 * 1024, Math.round(rate / 4))
}

async function sleep (ms: number, signal: AbortSignal | undefined, onWake: (wake: () => void) => void): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(done, ms)
    onWake(() => { clearTimeout(timer); done() })
    function done (): void {
      signal?.removeEventListener('abort', abort)
      resolve()
    }
    function abort (): void {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', abort, { once: true })
  })
}
