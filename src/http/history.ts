/**
 * The fleet's version breakdown over time, for the dashboard's chart:
 * every interval, how many reachable nodes run each package version, from
 * the coordinator's report book. Kept in memory, the newest samples only
 * (default 1,440: four hours at 10 s); a restart starts it again.
 */
import { fleetRows } from '../rollout/index.js'
import type { ReportBook } from '../rollout/index.js'

export interface HistorySample {
  at: string
  /** "<package> <version>" → nodes */
  versions: Record<string, number>
}

/** distinct package versions one sample keeps; the rest are counted as "<package> other" */
export const MAX_SERIES = 32

export class FleetHistory {
  readonly samples: HistorySample[] = []
  private timer?: NodeJS.Timeout

  constructor (readonly intervalMs = 10_000, readonly maxSamples = 1_440) {}

  start (book: () => ReportBook | undefined): void {
    const take = (): void => {
      const b = book()
      if (b != null) this.sample(b)
    }
    take()
    this.timer = setInterval(take, this.intervalMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
  }

  sample (book: ReportBook, now = Date.now()): HistorySample {
    const counts = new Map<string, number>()
    for (const row of fleetRows(book, {}, now)) {
      if (row.unreachable || row.current === '') continue
      const key = `${row.package} ${row.current}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    const versions: Record<string, number> = {}
    const sorted = [...counts].sort((a, b) => b[1] - a[1])
    for (const [i, [key, n]] of sorted.entries()) {
      const name = i < MAX_SERIES ? key : `${key.split(' ')[0]} other`
      versions[name] = (versions[name] ?? 0) + n
    }
    const sample = { at: new Date(now).toISOString(), versions }
    this.samples.push(sample)
    if (this.samples.length > this.maxSamples) this.samples.splice(0, this.samples.length - this.maxSamples)
    return sample
  }
}
