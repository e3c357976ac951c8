/**
 * One full garbage collection once a burst of chunk traffic is over. While
 * a release moves, V8 promotes objects that were alive for a request or two
 * (promises, frames, buffers in flight), and after the burst an idle daemon
 * allocates too little for V8 to collect them: bench/follow measured a
 * follower 12-13 MB above its idle RSS a minute after installing 256 MiB,
 * and 6 MB above with a full collection every 10 s. So when at least
 * BURST_BYTES of chunks moved and then nothing moved (and no install ran)
 * for QUIET_MS, the collector runs V8's full collection once, then waits for
 * the next burst.
 *
 * Node.js offers the collection only to processes started with
 * --expose-gc; the flag is set for the moment it takes to fetch the
 * function from a fresh context, the first time a burst is over (about
 * 0.2 MB, once). A collection of a daemon's heap takes a few ms.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { Logger } from '@libp2p/interface'

export interface IdleCollectorInit {
  /** chunk bytes moved since start, sent and fetched */
  moved: () => number
  /** true while an install runs (staging allocates like a transfer) */
  busy?: () => boolean
  /** the collection (default: V8's full collection) */
  collect?: () => void
  /** bytes that make a burst (default 16 MiB) */
  burstBytes?: number
  /** quiet time after a burst before collecting (default 10 s) */
  quietMs?: number
  /** how often traffic is looked at (default 5 s) */
  checkMs?: number
  log: Logger
}

export const BURST_BYTES = 16 * 1024 * 1024
export const QUIET_MS = 10_000

export class IdleCollector {
  private timer?: NodeJS.Timeout
  private last = 0
  /** bytes moved since the last collection */
  private burst = 0
  private quietSince = Date.now()
  private collect?: () => void
  /** collections run, for tests and logs */
  collections = 0

  constructor (private readonly init: IdleCollectorInit) {}

  start (): void {
    this.last = this.init.moved()
    this.timer = setInterval(() => { this.check() }, this.init.checkMs ?? 5_000)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** looks at the traffic since the last check; collects once a burst has been quiet long enough */
  check (now = Date.now()): void {
    const moved = this.init.moved()
    const delta = moved - this.last
    this.last = moved
    if (delta > 0 || this.init.busy?.() === true) {
      this.burst += Math.max(0, delta)
      this.quietSince = now
      return
    }
    if (this.burst < (this.init.burstBytes ?? BURST_BYTES) || now - this.quietSince < (this.init.quietMs ?? QUIET_MS)) return
    const collect = this.collect ??= this.init.collect ?? fullCollection()
    const started = performance.now()
    try {
      collect()
      this.collections++
      this.init.log('collected garbage after %d MiB of chunk traffic in %d ms', Math.round(this.burst / 1048576), Math.round(performance.now() - started))
    } catch (err) {
      this.init.log.error('garbage collection after a transfer failed - %e', err)
    }
    this.burst = 0
  }
}

/** V8's full collection, fetched from a context made while --expose-gc is set; a no-op where that fails */
function fullCollection (): () => void {
  if (typeof (globalThis as any).gc === 'function') return (globalThis as any).gc
  try {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc')
    return typeof gc === 'function' ? gc : () => {}
  } catch {
    return () => {}
  } finally {
    setFlagsFromString('--no-expose-gc')
  }
}
