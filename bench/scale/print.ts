/**
 * The scale benchmark's tables: time to held and to healthy per variant
 * against the targets, traffic per node (all protocols from status, per
 * protocol from the nodes with /metrics), and the processes' memory and CPU.
 */
import { mb, seconds, summarize, table } from '../report.js'
import { MIB, NODES } from './options.js'
import { out } from './output.js'
import type { Fleet } from './fleet.js'
import { minus } from './observe.js'
import type { Counters } from './observe.js'
import type { Round } from './round.js'

const MiB = 1024 * 1024
const f2 = (v: number | undefined): string => v == null || !Number.isFinite(v) ? '-' : v.toFixed(2)
const kib = (v: number | undefined): string => v == null || !Number.isFinite(v) ? '-' : `${(v / 1024).toFixed(1)} KiB`
const mib = (v: number | undefined): string => v == null || !Number.isFinite(v) ? '-' : `${(v / MiB).toFixed(2)} MiB`

function spread (values: number[], fmt: (v: number | undefined) => string): string {
  const s = summarize(values)
  return s == null ? '-' : `${fmt(s.min)} / ${fmt(s.median)} / ${fmt(s.max)}`
}

export function printTimes (rounds: Round[]): void {
  out(`\ntimes from \`release add\` spawned (the rollout started right after it returned), min / median / max over the ${NODES} nodes`)
  out(table(['variant', 'release add', 'held', 'installed healthy', 'all held', 'all healthy', 'completed', 'waves opened at'], rounds.map(r => [
    `${r.variant} ${r.version}`,
    seconds(r.publishMs),
    spread([...r.held.values()].map(t => t - r.t0), seconds),
    spread([...r.installs.values()].map(i => i.end - r.t0), seconds),
    seconds(r.allHeldAt != null ? r.allHeldAt - r.t0 : undefined),
    seconds(r.allHealthyAt != null ? r.allHealthyAt - r.t0 : undefined),
    seconds(r.completedAt != null ? r.completedAt - r.t0 : undefined),
    r.waves.map(w => `${w.name} ${seconds(w.openedAt != null ? w.openedAt - r.t0 : undefined)}`).join(', ')
  ])))
  for (const r of rounds) if (r.error != null) out(`  ${r.variant}: ${r.error}`)
}

function deltas (r: Round, names: string[]): Counters[] {
  const d: Counters[] = []
  for (const n of names) {
    const a = r.before?.get(n)
    const b = r.after?.get(n)
    if (a == null || b == null) continue
    const x = minus(b, a)
    d.push(x)
  }
  return d
}

export function printTraffic (rounds: Round[], fleet: Fleet): void {
  const nodes = fleet.nodes.map(n => n.name)
  const release = MIB * MiB
  out(`\ntraffic per node over each round, min / median / max over the nodes (status: every connection's bytes, encryption and multiplexing included; chunk data alone)`)
  out(table(['variant', 'bytes in', 'bytes out', 'chunk data down', 'chunk data up', 'publisher chunk up (copies)', 'bootstrap in / out'], rounds.map(r => {
    const d = deltas(r, nodes)
    const p = deltas(r, ['publisher'])[0]
    const b = deltas(r, ['bootstrap'])[0]
    return [r.variant, spread(d.map(x => x.bytesIn), mib), spread(d.map(x => x.bytesOut), mib), spread(d.map(x => x.chunkDown), mib), spread(d.map(x => x.chunkUp), mib),
      p == null ? '-' : `${mib(p.chunkUp)} (${f2(p.chunkUp / release)})`, b == null ? '-' : `${kib(b.bytesIn)} / ${kib(b.bytesOut)}`]
  })))
  const sampled = fleet.nodes.filter(n => n.httpPort != null).map(n => n.name)
  if (sampled.length === 0) return
  out(`\nper protocol, in + out per node over each round, median of the ${sampled.length} nodes with /metrics (${sampled.join(', ')}); pieces fetched, announcements received, and reports taken (new: forwarded) and dropped as stale (no newer than one held: not forwarded) per node`)
  const rows: string[][] = []
  for (const r of rounds) {
    const d = deltas(r, sampled)
    const protocols = new Set(d.flatMap(x => [...(x.protocols?.keys() ?? [])]))
    for (const proto of [...protocols].sort()) {
      const v = d.map(x => (x.protocols?.get(proto)?.in ?? 0) + (x.protocols?.get(proto)?.out ?? 0))
      if (v.every(x => x === 0)) continue
      rows.push([r.variant, proto, kib(summarize(v)?.median), kib(summarize(v)?.max)])
    }
    const count = (label: string, v: (x: Counters) => number | undefined): void => {
      const s = summarize(d.map(x => v(x) ?? 0))
      rows.push([r.variant, label, String(s?.median ?? '-'), String(s?.max ?? '-')])
    }
    count('pieces fetched (count)', x => x.piecesFetched)
    count('announcements received (count)', x => x.announcements)
    count('reports taken (count)', x => x.reports?.accepted)
    count('reports stale (count)', x => x.reports?.stale)
  }
  out(table(['variant', 'protocol', 'median', 'max'], rows))
}

export function printProcesses (rounds: Round[], fleet: Fleet, from: number): void {
  const maxRss = (name: string): number | undefined => {
    const m = [fleet.bootstrap, fleet.publisher, ...fleet.nodes].find(x => x.name === name)
    const s = m?.sampler.between(from)
    return s == null || s.length === 0 ? undefined : Math.max(...s.map(x => x.rss))
  }
  const plain = fleet.nodes.filter(n => n.httpPort == null).map(n => maxRss(n.name)).filter((x): x is number => x != null)
  const listening = fleet.nodes.filter(n => n.httpPort != null).map(n => maxRss(n.name)).filter((x): x is number => x != null)
  out('\nprocesses (RSS: the most each daemon held from the first round on, sampled from /proc every second)')
  out(table(['figure', 'target', 'measured'], [
    [`RSS per node, ${plain.length} nodes without an HTTP listener: min / median / max`, '<= 120 MB', spread(plain, mb)],
    [`RSS per node, ${listening.length} nodes with one (/metrics): min / median / max`, '', spread(listening, mb)],
    ['RSS, bootstrap node / publisher', '', `${mb(maxRss('bootstrap'))} / ${mb(maxRss('publisher'))}`],
    ['bootstrap node connections in the rounds: min / max', '', spread(rounds.flatMap(r => r.bootstrapConnections), v => String(v ?? '-'))],
    ...rounds.map(r => [`CPU over the ${r.variant} round: bootstrap / publisher / nodes min, median, max / all`, '',
      `${seconds(r.cpuMs.get('bootstrap'))} / ${seconds(r.cpuMs.get('publisher'))} / ${spread(fleet.nodes.map(n => r.cpuMs.get(n.name) ?? NaN).filter(Number.isFinite), seconds)} / ${seconds([...r.cpuMs.values()].reduce((a, b) => a + b, 0))}`]),
    ...rounds.map(r => {
      const d = deltas(r, fleet.nodes.map(n => n.name))
      const moved = d.reduce((a, x) => a + x.chunkDown, 0) / MiB
      const cpu = [...r.cpuMs.values()].reduce((a, b) => a + b, 0)
      return [`${r.variant}: CPU per MiB of chunk data moved (all processes / MiB fetched by the nodes)`, '', moved > 0 ? `${(cpu / moved).toFixed(1)} ms (${moved.toFixed(0)} MiB)` : '-']
    })
  ]))
}

export function printTargets (rounds: Round[], fleet: Fleet, from: number): void {
  const waves = rounds.find(r => r.variant === 'waves')
  const single = rounds.find(r => r.variant === 'single')
  const t = (r?: Round): number | undefined => r?.allHealthyAt != null ? r.allHealthyAt - r.t0 : undefined
  const ratio = t(waves) != null && t(single) != null ? t(waves)! / t(single)! : undefined
  const rss = fleet.nodes.filter(n => n.httpPort == null).map(n => Math.max(...n.sampler.between(from).map(x => x.rss)))
  const maxRss = rss.length > 0 ? Math.max(...rss) : undefined
  out('\ntargets')
  out(table(['target', 'measured', ''], [
    ['waved rollout all healthy within 3x the single wave', `${seconds(t(waves))} vs ${seconds(t(single))}: ${f2(ratio)}x`, ratio == null ? '-' : ratio <= 3 ? 'met' : 'missed'],
    ['RSS per daemon <= 120 MB (nodes without a listener, max)', mb(maxRss), maxRss == null ? '-' : maxRss <= 120e6 ? 'met' : 'missed']
  ]))
}
