/**
 * Printing for the rollout benchmark: figures to stdout, progress to stderr
 * (so the figures can be piped on their own).
 */

export function progress (text: string): void {
  process.stderr.write(`# ${text}\n`)
}

export function out (text = ''): void {
  process.stdout.write(text + '\n')
}

/** seconds with a sign, for differences */
export function signed (v: number | undefined): string {
  return v == null || !Number.isFinite(v) ? '-' : `${v >= 0 ? '+' : '-'}${(Math.abs(v) / 1000).toFixed(2)} s`
}
