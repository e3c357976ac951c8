/**
 * Part 1's report: start times against the baselines and the target, and
 * where the time goes, phase by phase, from each run's status response.
 */
import { mb, ms, section, summarize, table, wrap } from '../report.js'
import { LIBP2P_MODULES, READY_TARGET_MS, RUNS, SINGLE_NODE_ARGS } from './options.js'
import { out } from './output.js'
import { readyVerdict } from './verdicts.js'
import type { Bundle } from '../procs.js'
import type { Summary } from '../report.js'
import type { Series, StartRun } from './single-node.js'

export function row (label: string, s: Summary | undefined, extra: string[] = []): string[] {
  return [label, ms(s?.min), ms(s?.median), ms(s?.max), ...extra]
}

export function phaseMedians (runs: StartRun[]): Map<string, number> {
  const names = runs[0]?.phases.map(p => p.name) ?? []
  return new Map(names.map(n => [n, summarize(runs.map(r => r.phases.find(p => p.name === n)?.durationMs ?? NaN))!.median]))
}

export function phaseStates (runs: StartRun[]): Map<string, string> {
  return new Map((runs[0]?.phases ?? []).map(p => [p.name, p.state]))
}

export function printSingle (baselines: Array<{ label: string, samples: number[] }>, series: Series[], bundle: Bundle | string | undefined): void {
  out(section(`1. One node: spawn() to "ready:" (all start-up phases done), ${RUNS} runs each`))
  out(`  one daemon at a time: \`node <cli> node --data-dir DIR ${SINGLE_NODE_ARGS.join(' ')}\` (no bootstrap peers), timed in this`)
  out('  process from just before spawn() to the stderr chunk carrying its ready line; one warm-up start per variant is')
  out('  not counted. "fresh" = new empty data dir (key created, LevelDB created); "existing" = the same dir started again.')
  out(wrap(`Baselines run in this same benchmark, on this machine, ${RUNS} rounds taking turns (spawn() to exit). The libp2p import loads the polyfill, then ${LIBP2P_MODULES.join(', ')}; the module graph import loads dist/src/cli/commands/node.js (everything \`umesh node\` loads) without running it.`))
  out()
  const rows: string[][] = []
  for (const b of baselines) rows.push(row(b.label, summarize(b.samples), ['', '']))
  for (const s of series) {
    const fresh = summarize(s.fresh.map(r => r.readyMs))
    const existing = summarize(s.existing.map(r => r.readyMs))
    rows.push(row(`${s.label}, fresh data dir`, fresh, [`< ${READY_TARGET_MS} ms`, readyVerdict(fresh)]))
    rows.push(row(`${s.label}, existing data dir`, existing, [`< ${READY_TARGET_MS} ms`, readyVerdict(existing)]))
  }
  out(table(['', 'min', 'median', 'max', 'target', 'verdict'], rows))
  if (typeof bundle === 'string') out(`\n  bundled daemon: not measured: ${bundle}`)
  else if (bundle != null) out(`\n  bundle: ${bundle.file} (esbuild, by npm run build), ${mb(bundle.bytes)}; the mesh below runs it too (LocalMesh starts umesh)`)

  out('\n  Where the time goes (medians, ms; phase durations from each run\'s status response):')
  const cols = series.flatMap(s => [[`${s.label} fresh`, s.fresh], [`${s.label} existing`, s.existing]] as Array<[string, StartRun[]]>)
  const med = (xs: number[]): string => ms(summarize(xs)?.median)
  const breakdown: string[][] = [
    ['spawn -> daemon constructed (node boot + module loading)', ...cols.map(([, r]) => med(r.map(x => x.constructedMs)))]
  ]
  const names = cols[0]?.[1][0]?.phases.map(p => p.name) ?? []
  const medians = cols.map(([, r]) => phaseMedians(r))
  const states = cols.map(([, r]) => phaseStates(r))
  for (const n of names) {
    breakdown.push([`  phase ${n}${states[0].get(n) === 'skipped' ? ' (skipped)' : ''}`, ...medians.map(m => ms(m.get(n)))])
  }
  breakdown.push(['  sum of phases', ...cols.map(([, r]) => med(r.map(x => x.phases.reduce((a, p) => a + p.durationMs, 0))))])
  breakdown.push(['spawn -> ready line (total)', ...cols.map(([, r]) => med(r.map(x => x.readyMs)))])
  breakdown.push(['stop: SIGTERM -> exit', ...cols.map(([, r]) => med(r.map(x => x.stopMs)))])
  out(table(['', ...cols.map(([l]) => l)], breakdown))
  const imports = baselines.find(b => b.label.startsWith('import libp2p'))
  const e0 = baselines.find(b => b.label.startsWith('node -e 0'))
  const unb = series[0]
  if (imports != null && e0 != null && unb != null) {
    const total = summarize(unb.fresh.map(r => r.readyMs))!.median
    const imp = summarize(imports.samples)!.median
    const proc = summarize(e0.samples)!.median
    out(`\n  Of the ${ms(total)} median fresh start: bare node process ${ms(proc)} (${pct(proc, total)}), importing the libp2p packages alone`)
    out(`  ${ms(imp)} (${pct(imp, total)}, process included), spawn -> daemon constructed ${med(unb.fresh.map(x => x.constructedMs))}, all phases ${med(unb.fresh.map(x => x.phases.reduce((a, p) => a + p.durationMs, 0)))}.`)
  }
}

export function pct (part: number, whole: number): string {
  return `${Math.round(100 * part / whole)}%`
}
