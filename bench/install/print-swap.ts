/**
 * Section 1 of the install benchmark's output: the symlink swap against its
 * two parts done alone.
 */
import { section, table, wrap } from '../report.js'
import { SWAPS } from './options.js'
import { fmtMs, med, out, percentile } from './output.js'
import type { SwapResult } from './swap.js'

export function printSwap (swap: SwapResult): void {
  out(section('1. Switch: the symlink swap alone (switchCurrent between two version folders)'))
  out(wrap(`${SWAPS} swaps (after 20 not counted), each followed by its parts done alone on another link in the same folder: symlink() + rename() of a temporary link over a second link, then open + fsync + close of the install root (which commits that rename, as switchCurrent's fsync commits its own). switchCurrent also lstats the target and the link and draws 4 random bytes for the temporary name.`))
  out()
  const swapRow = (label: string, s: number[]): string[] => [label, fmtMs(med(s)), fmtMs(percentile(s, 90)), fmtMs(percentile(s, 99)), fmtMs(Math.max(...s))]
  out(table(['what', 'median', 'p90', 'p99', 'max'], [
    swapRow('switchCurrent (symlink, rename, fsync of the root)', swap.swap),
    swapRow('baseline: symlink + rename, no fsync', swap.bare),
    swapRow('baseline: fsync of the install root alone, after it', swap.fsync)
  ]))
}
