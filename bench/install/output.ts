/**
 * Printing for the install benchmark: figures to stdout, progress to stderr
 * (so the figures can be piped on their own), and the units they are shown in.
 */
import { summarize } from '../report.js'
import { MiB } from './options.js'

export function out (text = ''): void {
  process.stdout.write(text + '\n')
}

export function progress (text: string): void {
  process.stderr.write(`# ${text}\n`)
}

export function fmtMs (v: number | undefined): string {
  if (v == null || !Number.isFinite(v)) return '-'
  if (v < 1) return `${Math.round(v * 1000)} µs`
  if (v < 10) return `${v.toFixed(2)} ms`
  if (v < 100) return `${v.toFixed(1)} ms`
  return `${Math.round(v)} ms`
}

export function mib (bytes: number | undefined): string {
  return bytes == null || !Number.isFinite(bytes) ? '-' : `${(bytes / MiB).toFixed(1)} MiB`
}

export function rate (bytes: number, ms: number | undefined): string {
  return ms == null || !Number.isFinite(ms) || ms <= 0 ? '-' : `${(bytes / MiB / (ms / 1000)).toFixed(0)} MiB/s`
}

/** nearest-rank percentile */
export function percentile (samples: number[], p: number): number {
  if (samples.length === 0) return NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]
}

export function med (samples: number[]): number {
  return summarize(samples)?.median ?? NaN
}

/** "median (min - max)" over rounds, or the one value */
export function spread (samples: number[], f: (v: number) => string = fmtMs): string {
  const s = summarize(samples)
  if (s == null) return '-'
  return s.n === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)} - ${f(s.max)})`
}
