/**
 * Section 3 of the rollout report: medians over the clean runs, and the
 * coordination overhead of waves against a single wave, split into the
 * configured soak and the rest.
 */
import { section, seconds, summarize, table, wrap } from '../report.js'
import { MAX_PARALLEL, NODES, SINGLE_MAX_PARALLEL, SOAK_MS, VARIANTS, WAVES } from './options.js'
import { out, signed } from './output.js'
import { since } from './print-runs.js'
import { clean } from './run.js'
import type { Variant } from './options.js'
import type { Run } from './run.js'

export function median (xs: Array<number | undefined>): number | undefined {
  return summarize(xs.filter((x): x is number => x != null && Number.isFinite(x)))?.median
}

export function range (xs: Array<number | undefined>): string {
  const s = summarize(xs.filter((x): x is number => x != null && Number.isFinite(x)))
  return s == null ? '-' : s.n === 1 ? `${seconds(s.median)} (1 run)` : `${seconds(s.median)} (${seconds(s.min)} - ${seconds(s.max)}, ${s.n} runs)`
}

export function printSummary (runs: Run[], variants: Variant[]): void {
  out(section('3. Summary: medians over the runs without *'))
  const ok = runs.filter(clean)
  const of = (v: Variant): Run[] => ok.filter(r => r.variant === v)
  const rows = variants.map(v => [
    VARIANTS[v].label.replace(/"/g, ''), `${of(v).length}`,
    range(of(v).map(r => since(r, r.allAt))), range(of(v).map(r => since(r, r.completedAt))),
    range(of(v).map(r => since(r, r.waves[0]?.openedAt)))
  ])
  out(table(['variant', 'runs', 'start to all healthy (median, min - max)', 'start to completed', 'start to wave 0 open'], rows))
  // the canary wave is not affected by an empty later wave, so every waves run counts here
  const canary = runs.filter(r => r.variant === 'waves' && r.waves[1]?.openedAt != null && r.waves[0]?.openedAt != null).map(r => r.waves[1].openedAt! - r.waves[0].openedAt!)
  out()
  out(`  canary wave (wave 0 opened to wave 1 opened, every waves run): ${range(canary)}`)

  const wavesAll = median(of('waves').map(r => since(r, r.allAt)))
  const singleAll = median(of('single').map(r => since(r, r.allAt)))
  const wavesDone = median(of('waves').map(r => since(r, r.completedAt)))
  const singleDone = median(of('single').map(r => since(r, r.completedAt)))
  const overhead = wavesAll != null && singleAll != null ? wavesAll - singleAll : undefined
  const paired = [...new Set(ok.map(r => r.round))].flatMap(round => {
    const w = ok.find(r => r.round === round && r.variant === 'waves')
    const s = ok.find(r => r.round === round && r.variant === 'single')
    return w?.allAt != null && s?.allAt != null ? [{ round, d: (w.allAt - w.t0) - (s.allAt - s.t0) }] : []
  })
  const gatedBefore = WAVES.length - 1
  const soakPart = gatedBefore * SOAK_MS
  out()
  out('  Coordination overhead (waves - single wave):')
  out(`    start to all healthy: ${seconds(wavesAll)} - ${seconds(singleAll)} = ${signed(overhead)} (medians)${paired.length > 0 ? `; per round: ${paired.map(p => `round ${p.round} ${signed(p.d)}`).join(', ')}` : ''}`)
  out(`    start to completed:   ${seconds(wavesDone)} - ${seconds(singleDone)} = ${signed(wavesDone != null && singleDone != null ? wavesDone - singleDone : undefined)} (medians)`)
  out(wrap(`of which the configured soak: ${gatedBefore} x ${seconds(SOAK_MS)} = ${seconds(soakPart)}. The ${WAVES.length} waves soak ${WAVES.length} x ${seconds(SOAK_MS)}, the single wave once, and in both the last soak comes after every node is healthy, so the soak accounts for ${gatedBefore} soaks of the difference, to all healthy and to completed alike. The rest, ${signed(overhead != null ? overhead - soakPart : undefined)} (to all healthy), is per wave: the coordinator's 1 s tick (up to 1 s before it judges a soaked gate), re-signing the rollout document and announcing it, each node's verification and 1 s rollout tick, and its install slot (max-parallel ${MAX_PARALLEL} against ${SINGLE_MAX_PARALLEL}).`, 116, '    '))
  if (variants.includes('control')) {
    const controlAll = median(of('control').map(r => since(r, r.allAt)))
    const stagger = controlAll != null && singleAll != null ? controlAll - singleAll : undefined
    out(wrap(`Control, one wave at max-parallel ${MAX_PARALLEL}: ${seconds(controlAll)} to all healthy, so staggering all ${NODES} nodes ${MAX_PARALLEL} at a time costs ${signed(stagger)} over ${SINGLE_MAX_PARALLEL} at a time (install slots of 2 s: slot = floor(rank / max-parallel)); waves at max-parallel ${MAX_PARALLEL} against one wave at max-parallel ${MAX_PARALLEL}: ${signed(wavesAll != null && controlAll != null ? wavesAll - controlAll : undefined)}. Inside a wave the slots are fewer (a wave of 4 at max-parallel ${MAX_PARALLEL} has 2), so the two parts do not simply add up.`, 116, '    '))
  }
}
