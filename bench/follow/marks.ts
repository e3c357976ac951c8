/**
 * The steps a daemon logs, as the benchmark sees them: each JSON log line on
 * its stderr is matched against named patterns (a message regexp, and the
 * component when given); a match is kept with the line's own time (the
 * daemon's clock, ms), the wall time it reached the benchmark, and a /proc
 * sample taken on arrival (so CPU between two steps is a difference of two
 * samples). A bounded number of matches is kept per pattern.
 */
import type { ProcSample } from './proc-sampler.js'
import type { Readable } from 'node:stream'
import { wallNow } from '../cli-runs.js'

export interface MarkPattern {
  message: RegExp
  component?: string
}

export interface Mark {
  /** the line's time field, wall ms of the daemon */
  time: number
  /** wall ms the line reached the benchmark */
  arrived: number
  match: RegExpExecArray
  sample?: ProcSample
}

const MAX_PER_PATTERN = 256
const MAX_LINE = 64 * 1024

export class LogMarks {
  private readonly found = new Map<string, Mark[]>()
  private readonly waiters = new Set<() => void>()
  private partial = ''

  constructor (stream: Readable, private readonly patterns: Record<string, MarkPattern>, private readonly sample: () => ProcSample | undefined) {
    stream.on('data', (chunk: Buffer) => { this.feed(chunk.toString()) })
  }

  /** every match of a pattern so far, oldest first */
  all (name: string): Mark[] {
    return this.found.get(name) ?? []
  }

  /** the first match of `name` that `accept` takes, waiting for it up to timeoutMs */
  async wait (name: string, timeoutMs: number, accept: (m: Mark) => boolean = () => true): Promise<Mark> {
    const have = this.all(name).find(accept)
    if (have != null) return have
    return await new Promise<Mark>((resolve, reject) => {
      const check = (): void => {
        const m = this.all(name).find(accept)
        if (m == null) return
        cleanup()
        resolve(m)
      }
      const timer = setTimeout(() => { cleanup(); reject(new Error(`no log line "${name}" within ${Math.round(timeoutMs / 1000)} s`)) }, timeoutMs)
      const cleanup = (): void => { clearTimeout(timer); this.waiters.delete(check) }
      this.waiters.add(check)
    })
  }

  private feed (text: string): void {
    const lines = (this.partial + text).split('\n')
    this.partial = (lines.pop() ?? '').slice(-MAX_LINE)
    let matched = false
    for (const line of lines) {
      if (!line.startsWith('{')) continue
      let record: { time?: string, component?: string, message?: string }
      try { record = JSON.parse(line) } catch { continue }
      for (const [name, p] of Object.entries(this.patterns)) {
        if (p.component != null && record.component !== p.component) continue
        const match = p.message.exec(record.message ?? '')
        if (match == null) continue
        const list = this.found.get(name) ?? []
        if (list.length >= MAX_PER_PATTERN) continue
        list.push({ time: Date.parse(record.time ?? ''), arrived: wallNow(), match, sample: this.sample() })
        this.found.set(name, list)
        matched = true
      }
    }
    if (matched) for (const w of [...this.waiters]) w()
  }
}
