/**
 * Sections 1 and 2 of the rollout report: every run, and every wave of every
 * run, in times from `rollout start`.
 */
import { ms, section, seconds, table, wrap } from '../report.js'
import { NODES, POLL_MS, SOAK_MS, opts } from './options.js'
import { out } from './output.js'
import { clean } from './run.js'
import type { Run } from './run.js'

export function since (run: Run, at: number | undefined): number | undefined {
  return at == null ? undefined : at - run.t0
}

export function printRuns (runs: Run[]): void {
  out(section('1. Runs'))
  out(wrap(`Times from just before \`umesh rollout start\` is spawned. "held": release add spawned to the poll that saw every node hold the new version (before the timed part). "CLI": rollout start to its exit (signing the document). "wave 0 open": the coordinator's first event (it checks once a second). "canary wave": wave 0 opened to wave 1 opened (the canary installs, reports healthy, the gate soaks ${seconds(SOAK_MS)} and is judged on the next tick). "all healthy": the first poll (every ${POLL_MS} ms) in which every node ran the new version. "completed": the coordinator's completed event (after the last wave's soak). Wave sizes: nodes per wave, from the document the coordinator signed when it opened wave 0 (waveOf, as each node computes it); "listed": the nodes the coordinator put in count waves (canary:1); "governed": nodes with the mark a node writes in its install root once it has verified a rollout document (without it, plain autoUpdate installs a held release at once); * marks a run left out of the medians (see notes).`))
  const rows = runs.map(r => [
    `${r.round}`, r.variant + (clean(r) ? '' : ' *'), r.version, r.sizes.join('/') || '-', r.chosen !== undefined && r.chosen !== '' ? r.chosen : '-', r.governed == null ? '-' : `${r.governed}/${NODES}`, seconds(r.heldMs), ms(r.cliMs),
    seconds(since(r, r.waves[0]?.openedAt)), r.variant === 'waves' ? seconds(r.waves[1]?.openedAt != null && r.waves[0]?.openedAt != null ? r.waves[1].openedAt - r.waves[0].openedAt : undefined) : '-',
    seconds(since(r, r.allAt)), seconds(since(r, r.completedAt))
  ])
  out(table(['round', 'variant', 'version', 'wave sizes', 'listed', 'governed', 'held', 'CLI', 'wave 0 open', 'canary wave', 'all healthy', 'completed'], rows))
  for (const r of runs) {
    for (const s of [...r.stalls, ...r.early]) out(wrap(`* round ${r.round}, ${r.variant} (${r.version}, rollout ${r.id ?? '?'}): ${s}`))
    if (r.error != null) out(`* round ${r.round}, ${r.variant} (${r.version}): error: ${r.error}`)
  }
}

export function printWaves (runs: Run[]): void {
  out(section('2. Waves, per run'))
  out(wrap('From the coordinator\'s events (state.json) and each node\'s install history, all relative to rollout start. "opened": the wave-opened event; "first install": the earliest install start among the wave\'s nodes (the document reaching them, their 1 s rollout tick, their install slot); "last healthy": the latest install end (health check passed); "gate": the gate-passed event (soak after the wave\'s last change, then the next coordinator tick; the last wave\'s gate is the completed event); "open for": opened to the next wave opened (last wave: to completed). Install: the longest single install of the wave (staging + switch + health check). "healthy at gate": the wave\'s nodes whose install had ended when its gate passed.'))
  const rows: string[][] = []
  const early: string[] = []
  for (const r of runs) {
    r.waves.forEach((w, i) => {
      const next = i + 1 < r.waves.length ? r.waves[i + 1].openedAt : r.completedAt
      rows.push([
        i === 0 ? `${r.round} ${r.variant}${clean(r) ? '' : ' *'}` : '', w.label + (w.byHand === true ? ' (promoted by hand)' : ''), String(w.nodes),
        seconds(since(r, w.openedAt)), seconds(since(r, w.firstStart)), seconds(since(r, w.lastEnd)), seconds(since(r, w.gateAt)),
        seconds(next != null && w.openedAt != null ? next - w.openedAt : undefined), ms(w.installMs.length > 0 ? Math.max(...w.installMs) : undefined),
        gateOf(r, i) == null ? '-' : `${w.ends.filter(e => e <= gateOf(r, i)!).length}/${w.nodes}`
      ])
      const g = gateOf(r, i)
      if (g != null && w.ends.some(e => e > g)) early.push(`round ${r.round}, ${r.variant}: the gate of wave ${w.name} passed (${seconds(since(r, g))}) with ${w.ends.filter(e => e <= g).length} of its ${w.nodes} nodes healthy, ${seconds(Math.max(...w.ends) - g)} before its last install ended (${seconds(since(r, Math.max(...w.ends)))})`)
    })
  }
  out(table(['run', 'wave', 'nodes', 'opened', 'first install', 'last healthy', 'gate', 'open for', 'install', 'healthy at gate'], rows))
  if (early.length > 0) {
    out()
    out(wrap(`Gate passed before the wave was healthy (gate "${opts.gate}"): the coordinator counts only the nodes that have reported under this rollout (gateDecision gets expectedNodes = the nodes that reported), so a node that has not yet verified the new document, or whose report was lost, is left out of the tally rather than counted as not healthy:`))
    for (const e of early) out(wrap(`- ${e}`, 116, '    '))
  }
}

/** when the wave's gate passed: its gate-passed event, or for the last wave the completed event */
export function gateOf (r: Run, i: number): number | undefined {
  return r.waves[i]?.gateAt ?? (i === r.waves.length - 1 ? r.completedAt : undefined)
}
