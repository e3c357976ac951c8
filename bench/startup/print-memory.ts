/**
 * Part 3's report: resident memory per daemon, single and in the mesh,
 * against the target; the verdicts go on to the summary.
 */
import { mb, section, seconds, summarize, table } from '../report.js'
import { IDLE_MS, RSS_TARGET_BYTES, RUNS } from './options.js'
import { out } from './output.js'
import { rssVerdict } from './verdicts.js'
import type { MeshResult } from './mesh-run.js'
import type { Series } from './single-node.js'

export function printMemory (series: Series[], m: MeshResult | undefined): Array<[string, string, string]> {
  out(section('3. Resident memory (RSS) per daemon, from status (resources.rssBytes); MB = 10^6 bytes'))
  const rows: string[][] = []
  const verdicts: Array<[string, string, string]> = []
  for (const s of series) {
    if (s.idle == null) continue
    rows.push([`single ${s.label} node, idle ${IDLE_MS} ms after ready`, '', mb(s.idle.rssBytes), '', `< ${mb(RSS_TARGET_BYTES)}`, rssVerdict(s.idle.rssBytes), mb(s.idle.heapUsedBytes)])
    verdicts.push([`RSS, single idle ${s.label} node`, mb(s.idle.rssBytes), rssVerdict(s.idle.rssBytes)])
    const fresh = summarize(s.fresh.map(r => r.rssBytes))
    rows.push([`single ${s.label} node, just after ready (${RUNS} fresh runs)`, mb(fresh?.min), mb(fresh?.median), mb(fresh?.max), `< ${mb(RSS_TARGET_BYTES)}`, rssVerdict(fresh?.max), mb(summarize(s.fresh.map(r => r.heapUsedBytes))?.median)])
  }
  if (m != null && m.final.length > 0) {
    const rss = summarize(m.final.map(c => c.rssBytes).filter(Number.isFinite))
    const when = `+${seconds(m.lastRoundMs)} after all ready`
    rows.push([`mesh nodes (${m.final.length}), ${m.converged ? `at full discovery, ${when}` : `at give-up, ${when} (not converged)`}`, mb(rss?.min), mb(rss?.median), mb(rss?.max), `< ${mb(RSS_TARGET_BYTES)}`, rssVerdict(rss?.max), mb(summarize(m.final.map(c => c.heapUsedBytes).filter(Number.isFinite))?.median)])
    verdicts.push([`RSS, ${m.final.length}-node mesh, max of nodes`, mb(rss?.max), rssVerdict(rss?.max)])
    if (m.bootstrap != null) rows.push([`mesh bootstrap node (${m.bootstrap.connections} peers)`, '', mb(m.bootstrap.rssBytes), '', `< ${mb(RSS_TARGET_BYTES)}`, rssVerdict(m.bootstrap.rssBytes), mb(m.bootstrap.heapUsedBytes)])
  }
  out(table(['', 'min', 'median', 'max', 'target', 'verdict', 'JS heap used (median)'], rows))
  return verdicts
}
