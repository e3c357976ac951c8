/**
 * Printing for the release benchmark: figures to stdout, progress to stderr
 * (so the figures can be piped on their own), and the units they are shown in.
 */
import { MiB } from './options.js'

export function progress (text: string): void {
  process.stderr.write(`# ${text}\n`)
}

export function out (text = ''): void {
  process.stdout.write(text + '\n')
}

export function mib (bytes: number | undefined): string {
  return bytes == null || !Number.isFinite(bytes) ? '-' : `${(bytes / MiB).toFixed(2)} MiB`
}

export function pct (x: number | undefined): string {
  return x == null || !Number.isFinite(x) ? '-' : `${(x * 100).toFixed(2)} %`
}

export function times (x: number | undefined): string {
  return x == null || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}x`
}

export function rate (bytes: number, msTaken: number): string {
  return Number.isFinite(msTaken) && msTaken > 0 ? `${(bytes / MiB / (msTaken / 1000)).toFixed(0)} MiB/s` : '-'
}

/** nearest-rank percentile */
export function percentile (samples: number[], p: number): number {
  if (samples.length === 0) return NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]
}
