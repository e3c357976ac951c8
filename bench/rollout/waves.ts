/**
 * Waves as the report shows them, and the odds that a hash draw leaves a
 * percentage wave with no node: why a run on a small fleet may need the
 * operator.
 */
import type { WaveSpec } from '../../src/rollout/types.js'

export function waveLabel (w: WaveSpec): string {
  return w.fraction != null ? `${w.name} (${Number((w.fraction * 100).toFixed(4))}%)` : `${w.name} (${String(w.count)})`
}

/**
 * The chance that a draw leaves some percentage wave with no node: `n` nodes
 * placed by hash, uniformly, into the bins [previous fraction, fraction);
 * inclusion-exclusion over the sets of bins left empty.
 */
export function emptyWaveChance (waves: WaveSpec[], n: number): number {
  const bins: number[] = []
  let previous = 0
  for (const w of waves) {
    if (w.fraction == null) continue
    bins.push(w.fraction - previous)
    previous = w.fraction
  }
  let p = 0
  for (let mask = 1; mask < 1 << bins.length; mask++) {
    let share = 0
    let size = 0
    bins.forEach((b, i) => { if ((mask & (1 << i)) !== 0) { share += b; size++ } })
    p += (size % 2 === 1 ? 1 : -1) * Math.max(0, 1 - share) ** n
  }
  return p
}
