/**
 * The start-up benchmark's figures against its targets: ready within
 * READY_TARGET_MS, resident memory under RSS_TARGET_BYTES.
 */
import { READY_TARGET_MS, RSS_TARGET_BYTES } from './options.js'
import type { Summary } from '../report.js'

export function readyVerdict (s: Summary | undefined): string {
  if (s == null) return '-'
  if (s.max < READY_TARGET_MS) return 'under target in every run'
  if (s.median < READY_TARGET_MS) return 'median under, some runs over'
  return 'over target'
}

export function rssVerdict (max: number | undefined): string {
  if (max == null || !Number.isFinite(max)) return '-'
  return max < RSS_TARGET_BYTES ? 'under target' : 'over target'
}
