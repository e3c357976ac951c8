/**
 * Part 4's report: VmRSS of the two nodes of each round and the difference.
 */
import { mb, section, summarize, table, wrap } from '../report.js'
import { RSS_REQUESTS, RSS_TARGET_BYTES, SETTLE_MS } from './options.js'
import { out } from './output.js'
import type { MemoryResult } from './memory.js'

export function signedMb (bytes: number | undefined): string {
  return bytes == null || !Number.isFinite(bytes) ? '-' : `${bytes >= 0 ? '+' : '-'}${(Math.abs(bytes) / 1e6).toFixed(1)} MB`
}

/** the median differences, idle and after the requests */
export function memoryMedians (m: MemoryResult): { idle?: number, loaded?: number } {
  return {
    idle: summarize(m.rounds.map(r => r.idle.with - r.idle.without))?.median,
    loaded: summarize(m.rounds.map(r => r.loaded.with - r.loaded.without))?.median
  }
}

export function printMemory (m: MemoryResult): void {
  out(section('4. Resident memory the HTTP listener adds to a node'))
  out(wrap(`Per round two plain nodes started at once, the same command but for --http-listen (fresh data dirs; the first spawned alternates), both idle for ${SETTLE_MS / 1000} s, then VmRSS from /proc/PID/status ("idle"); then ${RSS_REQUESTS} requests at the one with the listener (${m.rounds[0]?.paths ?? '-'}, in turn, one keep-alive connection), 1 s, VmRSS again ("after requests"). Both run the same bundle; the node without a listener never runs the HTTP code (the http phase imports it, Fastify included, and builds the metrics registry, prom-client, only when --http-listen is set), so the difference is the listener and the metrics together.`))
  out()
  if (m.rounds.length === 0) { out(`  not measured: ${m.error ?? 'no round ran'}`); return }
  out(table(['round', 'spawned first', 'without: idle', 'with: idle', 'difference', 'without: after requests', 'with: after requests', 'difference'], m.rounds.map((r, i) => [
    String(i + 1), `${r.first} listener`, mb(r.idle.without), mb(r.idle.with), signedMb(r.idle.with - r.idle.without), mb(r.loaded.without), mb(r.loaded.with), signedMb(r.loaded.with - r.loaded.without) + (r.failed > 0 ? ` (${r.failed} requests not 200)` : '')
  ])))
  const med = memoryMedians(m)
  out(`\n  median difference: idle ${signedMb(med.idle)}, after requests ${signedMb(med.loaded)} (target <= ${mb(RSS_TARGET_BYTES)})`)
  if (m.error != null) out(`  stopped early: ${m.error}`)
}
