/**
 * A coordinator's metrics, from its report book and the rollout documents:
 * the fleet by package, version and state, each rollout's state, and each
 * wave's nodes by outcome (the numbers `umesh rollout status` shows, from
 * the same rolloutView). One pass over the book for the fleet, one view per
 * rollout document (one per package).
 *
 * Versions come from the nodes' reports, so their number is bounded here:
 * the versions rollouts name first, then the most common, at most
 * MAX_FLEET_VERSIONS (package, version) pairs; the rest are counted as
 * version `other` (and a package with no kept pair as package `other`).
 */
import { UNREACHABLE_MS, rolloutView } from '../rollout/index.js'
import { stateLabel } from './collector.js'
import type { CollectedInit } from './collector.js'
import type { CoordinatorSample, MetricsSources } from './sources.js'

export const MAX_FLEET_VERSIONS = 50
export const ROLLOUT_STATES = ['running', 'paused', 'halted', 'completed']
export const WAVE_STATES = ['healthy', 'failed', 'pending', 'installing', 'deferred', 'rolled_back'] as const

interface FleetCount { package: string, version: string, state: string, nodes: number }

/** the fleet's nodes by package, version (`none`: nothing installed) and state (the last outcome, or `unreachable`), versions bounded */
export function fleetCounts (c: CoordinatorSample, maxVersions = MAX_FLEET_VERSIONS): FleetCount[] {
  const now = c.now ?? Date.now()
  const cells = new Map<string, FleetCount>()
  const pairs = new Map<string, number>()
  // one row per node and package: a node installing several packages counts in each
  const silent = c.book.unreachableAfterMs()
  for (const n of c.book.rows()) {
    const r = n.report
    const version = r.current === '' ? 'none' : r.current
    const state = now - n.lastSeen > silent ? 'unreachable' : stateLabel(r.outcome)
    const pair = `${r.package}\0${version}`
    pairs.set(pair, (pairs.get(pair) ?? 0) + 1)
    const key = `${pair}\0${state}`
    const cell = cells.get(key)
    if (cell != null) cell.nodes++
    else cells.set(key, { package: r.package, version, state, nodes: 1 })
  }
  if (pairs.size <= maxVersions) return [...cells.values()]
  const named = new Set(c.rollouts.map(d => `${d.package}\0${d.version}`))
  const ranked = [...pairs].sort(([a, na], [b, nb]) => Number(named.has(b)) - Number(named.has(a)) || nb - na || (a < b ? -1 : 1))
  const kept = new Set(ranked.slice(0, maxVersions).map(([pair]) => pair))
  const packages = new Set([...kept].map(pair => pair.split('\0')[0]))
  const out = new Map<string, FleetCount>()
  for (const cell of cells.values()) {
    const keep = kept.has(`${cell.package}\0${cell.version}`)
    const pkg = keep || packages.has(cell.package) ? cell.package : 'other'
    const version = keep ? cell.version : 'other'
    const key = `${pkg}\0${version}\0${cell.state}`
    const merged = out.get(key)
    if (merged != null) merged.nodes += cell.nodes
    else out.set(key, { package: pkg, version, state: cell.state, nodes: cell.nodes })
  }
  return [...out.values()]
}

export function fleetMetrics (s: MetricsSources): CollectedInit[] {
  return [
    {
      name: 'umesh_fleet_nodes',
      help: `Nodes the coordinator heard of, by package, the version they run (none: nothing installed; other: beyond the ${MAX_FLEET_VERSIONS} kept) and state (their last outcome, or unreachable after ${UNREACHABLE_MS / 1000} s without a report, longer in a fleet of over 1,000 nodes)`,
      type: 'gauge',
      labelNames: ['package', 'version', 'state'],
      collect: emit => {
        const c = s.coordinator?.()
        if (c == null) return
        for (const f of fleetCounts(c)) emit({ package: f.package, version: f.version, state: f.state }, f.nodes)
      }
    },
    {
      name: 'umesh_rollout_info',
      help: 'Always 1: the version each package\'s rollout (the one in effect, or the last) installs',
      type: 'gauge',
      labelNames: ['package', 'version'],
      collect: emit => {
        for (const doc of s.coordinator?.()?.rollouts ?? []) emit({ package: doc.package, version: doc.version }, 1)
      }
    },
    {
      name: 'umesh_rollout_state',
      help: 'Per package: 1 for the state of its rollout (running, paused, halted, completed), 0 for the others',
      type: 'gauge',
      labelNames: ['package', 'state'],
      collect: emit => {
        for (const doc of s.coordinator?.()?.rollouts ?? []) {
          for (const st of ROLLOUT_STATES) emit({ package: doc.package, state: st }, doc.state === st ? 1 : 0)
        }
      }
    },
    {
      name: 'umesh_rollout_wave_open',
      help: 'Per wave of each package\'s rollout: 1 once the wave is open',
      type: 'gauge',
      labelNames: ['package', 'wave'],
      collect: emit => {
        for (const doc of s.coordinator?.()?.rollouts ?? []) {
          doc.waves.forEach((w, i) => { emit({ package: doc.package, wave: w.name }, i <= doc.open ? 1 : 0) })
        }
      }
    },
    {
      name: 'umesh_rollout_wave_nodes',
      help: 'Nodes of each wave of each package\'s rollout by state: healthy, failed, pending (not yet installing, deferred left out), installing, deferred (waiting for a maintenance window), rolled_back',
      type: 'gauge',
      labelNames: ['package', 'wave', 'state'],
      collect: emit => {
        const c = s.coordinator?.()
        if (c == null) return
        for (const doc of c.rollouts) {
          for (const w of rolloutView(c.book, doc, []).waves) {
            const by: Record<typeof WAVE_STATES[number], number> = { healthy: w.healthy, failed: w.failed, pending: w.pending, installing: w.installing, deferred: w.deferred, rolled_back: w.rolledBack }
            for (const st of WAVE_STATES) emit({ package: doc.package, wave: w.name, state: st }, by[st])
          }
        }
      }
    }
  ]
}
