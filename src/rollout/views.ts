/**
 * The fleet and a rollout as operators see them, from the coordinator's
 * report book: `umesh fleet --json`, `umesh rollout status --json`, and
 * the HTTP API's /api/v1/fleet and /api/v1/rollouts give these same objects
 * (the CLI from the coordinator's state file, the API from the running
 * coordinator).
 */
import { waveTally } from './waves.js'
import { matches } from './selector.js'
import type { Selector } from './selector.js'
import type { Labels } from './labels.js'
import type { ReportBook } from './reports.js'
import type { NodeOutcome, NodeReport, RolloutDocument } from './types.js'

/** one row of `umesh fleet --json` */
export interface FleetRow {
  peerId: string
  package: string
  current: string
  outcome: NodeOutcome
  rolloutId: string
  wave: number
  tags: string[]
  labels: Labels
  lastReport: string
  unreachable: boolean
}

export interface FleetFilter {
  package?: string
  /** the version the node runs */
  version?: string
  /** the last outcome, or `unreachable` */
  state?: string
  tag?: string
  /** nodes whose reported labels match */
  select?: Selector
}

export function fleetRows (book: ReportBook, filter: FleetFilter = {}, now = Date.now()): FleetRow[] {
  const rows: FleetRow[] = []
  // one row per node and package: a node that installs several packages shows once for each
  const silent = book.unreachableAfterMs()
  for (const n of book.rows()) {
    const r = n.report
    const unreachable = now - n.lastSeen > silent
    if (filter.package != null && r.package !== filter.package) continue
    if (filter.version != null && r.current !== filter.version) continue
    if (filter.state != null && (filter.state === 'unreachable' ? !unreachable : unreachable || r.outcome !== filter.state)) continue
    if (filter.tag != null && !r.tags.includes(filter.tag)) continue
    if (filter.select != null && !matches(filter.select, r.labels ?? {})) continue
    rows.push({ peerId: n.peerId, package: r.package, current: r.current, outcome: r.outcome, rolloutId: r.rolloutId, wave: r.wave, tags: r.tags, labels: r.labels ?? {}, lastReport: new Date(n.lastSeen).toISOString(), unreachable })
  }
  return rows
}

export interface WaveView {
  name: string
  open: boolean
  nodes: number
  healthy: number
  failed: number
  installing: number
  pending: number
  rolledBack: number
  deferred: number
}

/** `unreachable`: silent longer than the fleet's heartbeat allows (heartbeat.ts) */
export interface RolloutNodeRow { peerId: string, wave: number, outcome: string, current: string, reason: string, tags: string[], labels: Labels, lastSeen: number, unreachable: boolean }

export interface CoordinatorEvent { at: string, event: string, detail: string }

/** what `umesh rollout status --json` prints */
export interface RolloutView {
  doc: RolloutDocument
  waves: WaveView[]
  nodes: RolloutNodeRow[]
  events: CoordinatorEvent[]
}

/** `select`: only the nodes whose reported labels match, in the node list and in the wave counts */
export function rolloutView (book: ReportBook, doc: RolloutDocument, events: CoordinatorEvent[], select?: Selector, now = Date.now()): RolloutView {
  const silent = book.unreachableAfterMs()
  const lastSeen = new Map(book.nodes().map(n => [n.peerId, n.lastSeen]))
  const reports = book.latest(doc.id).filter(r => select == null || matches(select, r.labels ?? {}))
  const nodes: RolloutNodeRow[] = reports.map(r => ({ peerId: r.peerId, wave: r.wave, outcome: r.outcome, current: r.current, reason: r.reason, tags: r.tags, labels: r.labels ?? {}, lastSeen: lastSeen.get(r.peerId) ?? r.at, unreachable: now - (lastSeen.get(r.peerId) ?? r.at) > silent }))
  const tally = waveTally(doc, reports.map(r => ({ peerId: r.peerId, wave: r.wave, outcome: r.outcome })))
  const deferred = new Map<number, number>()
  for (const r of reports) if (r.outcome === 'deferred') deferred.set(r.wave, (deferred.get(r.wave) ?? 0) + 1)
  // pending here leaves out the deferred (waiting for a maintenance window), shown apart
  const waves = doc.waves.map((w, i) => {
    const t = tally[i] ?? { nodes: 0, healthy: 0, failed: 0, installing: 0, pending: 0, rolledBack: 0 }
    const d = deferred.get(i) ?? 0
    return { name: w.name, open: i <= doc.open, ...t, pending: t.pending - d, deferred: d }
  })
  return { doc, waves, nodes: nodes.sort((a, b) => a.wave - b.wave || a.peerId.localeCompare(b.peerId)), events }
}

/** one node as the coordinator knows it: its newest row, its report per rollout (newest first) and the events naming it */
export interface NodeView {
  node: FleetRow
  reports: NodeReport[]
  events: Array<CoordinatorEvent & { rolloutId: string }>
}

export function nodeView (book: ReportBook, peerId: string, events: (rolloutId: string) => CoordinatorEvent[], now = Date.now()): NodeView | undefined {
  const node = fleetRows(book, {}, now).find(r => r.peerId === peerId)
  if (node == null) return undefined
  const reports = book.reportsOf(peerId).sort((a, b) => b.seq - a.seq)
  const named = reports.flatMap(r => events(r.rolloutId).filter(e => e.detail.includes(peerId)).map(e => ({ ...e, rolloutId: r.rolloutId })))
  return { node, reports, events: named.sort((a, b) => a.at.localeCompare(b.at)) }
}
