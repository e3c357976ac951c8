/**
 * Small helpers for the benchmarks' printed output: summaries of samples and
 * plain-text tables. Figures only; nothing here judges or asserts.
 */

export interface Summary {
  n: number
  min: number
  median: number
  max: number
}

export function summarize (samples: number[]): Summary | undefined {
  if (samples.length === 0) return undefined
  const sorted = [...samples].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return { n: sorted.length, min: sorted[0], median, max: sorted[sorted.length - 1] }
}

export function ms (v: number | undefined): string {
  return v == null || !Number.isFinite(v) ? '-' : `${Math.round(v)} ms`
}

export function seconds (v: number | undefined): string {
  return v == null || !Number.isFinite(v) ? '-' : `${(v / 1000).toFixed(2)} s`
}

/** decimal megabytes, as the target is stated in MB */
export function mb (bytes: number | undefined): string {
  return bytes == null || !Number.isFinite(bytes) ? '-' : `${(bytes / 1e6).toFixed(1)} MB`
}

/** columns after the first are right-aligned when they start with a digit or a dash */
export function table (header: string[], rows: string[][], indent = '  '): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const numeric = header.map((_h, i) => i > 0 && rows.every(r => /^[-\d<>~]/.test(r[i] ?? '-')))
  const line = (r: string[]): string => indent + r.map((c, i) => numeric[i] ? (c ?? '').padStart(widths[i]) : (c ?? '').padEnd(widths[i])).join('  ').trimEnd()
  return [line(header), line(widths.map(w => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

export function section (title: string): string {
  return `\n${title}\n${'='.repeat(title.length)}`
}

/** word-wraps text to lines of at most width characters, each starting with indent */
export function wrap (text: string, width = 116, indent = '  '): string {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/).filter(w => w !== '')) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line)
      line = word
    } else {
      line = line === '' ? word : `${line} ${word}`
    }
  }
  if (line !== '') lines.push(indent + line)
  return lines.join('\n')
}
