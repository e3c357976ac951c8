/**
 * The data-plane benchmark's tables: one per environment, a row per layer
 * and variant, the median of the runs in every column, CPU per MiB beside
 * the raw layer's of the same environment and run.
 */
import { section, summarize, table } from '../report.js'
import type { Row, Sample } from './measure.js'

export function out (line = ''): void {
  process.stdout.write(line + '\n')
}

function median (samples: Sample[], pick: (s: Sample) => number): number {
  return summarize(samples.map(pick).filter(Number.isFinite))?.median ?? NaN
}

const fixed = (v: number, digits = 1): string => Number.isFinite(v) ? v.toFixed(digits) : '-'

export function printEnvironment (title: string, rows: Row[]): void {
  out(section(title))
  const raw = rows.find(r => r.layer === 'raw' && r.samples.length > 0)
  const rawRx = raw != null ? median(raw.samples, s => s.receiverMsPerMiB) : NaN
  const rawBoth = raw != null ? median(raw.samples, s => s.receiverMsPerMiB + s.senderMsPerMiB) : NaN
  const body = rows.map(r => {
    const s = r.samples
    if (s.length === 0) return [r.layer, r.variant, 'failed', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-']
    const rx = summarize(s.map(x => x.receiverMsPerMiB))!
    const both = median(s, x => x.receiverMsPerMiB + x.senderMsPerMiB)
    return [
      r.layer,
      r.variant,
      fixed(median(s, x => x.mib), 0),
      fixed(median(s, x => x.wallMs / 1000), 2),
      fixed(median(s, x => x.mib / (x.wallMs / 1000))),
      fixed(rx.median, 2),
      fixed(median(s, x => x.receiverSystemMsPerMiB), 2),
      s.length > 1 ? `${fixed(rx.min, 2)}-${fixed(rx.max, 2)}` : '-',
      fixed(median(s, x => x.senderMsPerMiB), 2),
      fixed(both, 2),
      r.layer === 'raw' ? '1.0' : fixed(rx.median / rawRx),
      r.layer === 'raw' ? '1.0' : fixed(both / rawBoth),
      median(s, x => x.readsPerMiB) > 0 ? fixed(median(s, x => x.readsPerMiB), 0) : '-',
      fixed(median(s, x => x.bytesPerRead), 0),
      median(s, x => x.readsPerMiB) > 0 ? fixed(median(s, x => x.writesPerMiB), 0) : '-'
    ]
  })
  out(table(['layer', 'variant', 'MiB', 'wall s', 'MiB/s', 'rx ms/MiB', 'rx sys', 'rx min-max', 'tx ms/MiB', 'both ms/MiB', 'rx x raw', 'both x raw', 'reads/MiB', 'B/read', 'writes/MiB'], body))
  const idle = rows.flatMap(r => r.samples)
  if (idle.length > 0) {
    out(`  idle CPU subtracted (median over rows and runs): receiver ${fixed(median(idle, x => x.receiverIdle), 2)} ms/s, sender ${fixed(median(idle, x => x.senderIdle), 2)} ms/s`)
  }
  for (const r of rows.filter(r => r.error != null)) out(`  ${r.layer}/${r.variant} failed: ${r.error!.replace(/\n/g, '\n    ')}`)
}
