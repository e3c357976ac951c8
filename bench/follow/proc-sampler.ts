/**
 * A process's resident memory and CPU time read from /proc: one sample on
 * demand, or a series every few hundred ms for as long as the benchmark
 * watches it. RSS is VmRSS, split into its anonymous part (heaps, buffers,
 * stacks: RssAnon) and its file-backed part (the node binary's and
 * libraries' pages as they are first touched: RssFile + RssShmem); CPU is
 * utime + stime of /proc/<pid>/stat, in
 * clock ticks (10 ms here), so CPU figures are good to about 10 ms.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { wallNow } from '../cli-runs.js'

export interface ProcSample {
  /** wall ms */
  at: number
  rss: number
  /** RssAnon */
  anon: number
  cpuMs: number
}

let tickMs: number | undefined

function ticks (): number {
  if (tickMs == null) {
    let hz = 100
    try { hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100 } catch {}
    tickMs = 1000 / hz
  }
  return tickMs
}

/** one sample, or undefined when the process is gone */
export function sampleProc (pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const rss = /VmRSS:\s+(\d+) kB/.exec(status)
    const anon = /RssAnon:\s+(\d+) kB/.exec(status)
    // fields after the command name, which may hold spaces and parentheses: state is field 3, utime 14, stime 15
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (rss == null) return undefined
    return { at: wallNow(), rss: Number(rss[1]) * 1024, anon: Number(anon?.[1] ?? NaN) * 1024, cpuMs: (Number(rest[11]) + Number(rest[12])) * ticks() }
  } catch {
    return undefined
  }
}

/** samples a process every intervalMs until stopped (at most maxSamples kept) */
export class ProcSampler {
  readonly samples: ProcSample[] = []
  private timer?: NodeJS.Timeout

  constructor (readonly pid: number, private readonly intervalMs: number, private readonly maxSamples = 10_000) {}

  start (): this {
    this.take()
    this.timer = setInterval(() => { this.take() }, this.intervalMs)
    return this
  }

  stop (): void {
    clearInterval(this.timer)
  }

  take (): ProcSample | undefined {
    const s = sampleProc(this.pid)
    if (s != null && this.samples.length < this.maxSamples) this.samples.push(s)
    return s
  }

  /** samples taken from `from` to `to` (wall ms) */
  between (from: number, to = Infinity): ProcSample[] {
    return this.samples.filter(s => s.at >= from && s.at <= to)
  }

  /** the last sample at or before `at` */
  at (at: number): ProcSample | undefined {
    let found: ProcSample | undefined
    for (const s of this.samples) {
      if (s.at > at) break
      found = s
    }
    return found
  }
}
