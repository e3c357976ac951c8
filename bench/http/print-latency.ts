/**
 * Parts 1 and 2's report: each route's round trips (p50, p99, max) beside
 * /healthz on the same daemon, the response size, and the target.
 */
import { section, table, wrap } from '../report.js'
import { percentile } from './client.js'
import { FLEET_P99_TARGET_MS, METRICS_P99_TARGET_MS, NODES, REQUESTS, WARM_UP } from './options.js'
import { out } from './output.js'
import type { Series } from './client.js'
import type { CoordinatorResult } from './coordinator-run.js'
import type { NodeResult } from './node-run.js'

/** milliseconds with decimals: the routes answer in well under one */
export function msd (v: number | undefined): string {
  return v == null || !Number.isFinite(v) ? '-' : `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`
}

export function size (bytes: number | undefined): string {
  return bytes == null || !Number.isFinite(bytes) ? '-' : bytes >= 1000 ? `${(bytes / 1000).toFixed(1)} kB` : `${bytes} B`
}

/** the p99 target a route is read against, if it has one */
export function targetOf (label: string): number | undefined {
  if (label.startsWith('GET /api/v1/fleet')) return FLEET_P99_TARGET_MS
  if (label.startsWith('GET /metrics')) return METRICS_P99_TARGET_MS
  return undefined
}

export function verdict (value: number | undefined, target: number | undefined): string {
  if (target == null) return ''
  if (value == null || !Number.isFinite(value)) return '-'
  return value <= target ? 'within target' : 'over target'
}

function rows (series: Series[]): string[][] {
  return series.map(s => {
    const p99 = percentile(s.ms, 99)
    const target = targetOf(s.label)
    return [s.label, `${s.ms.length}${s.errors > 0 ? ` (${s.errors} not 200)` : ''}`, msd(percentile(s.ms, 50)), msd(p99), msd(Math.max(...s.ms)), size(s.bytes), target != null ? `p99 <= ${target} ms` : '', verdict(p99, target)]
  })
}

const HEADER = ['', 'timed', 'p50', 'p99', 'max', 'response', 'target', 'verdict']

export function printCoordinator (c: CoordinatorResult): void {
  out(section(`1. A coordinator holding ${NODES} nodes' reports: /api/v1/fleet and /api/v1/rollouts`))
  out(wrap(`\`umesh node --repo R --coordinator --http-listen 127.0.0.1:PORT --listen /ip4/127.0.0.1/tcp/0 --no-mdns\`, its report book loaded from a state file written beforehand: ${NODES} real Ed25519 peer ids, two reports each (an older rollout, healthy, and the running rollout of the package: installing in wave 0, waiting or deferred elsewhere), seen within the last 20 s. Per route ${WARM_UP} warm-up requests, then ${REQUESTS} timed, one after the other on one keep-alive connection from this process (node:http), each from the request's write to the body's last byte. The coordinator's one-second pass (which rewrites the state file) runs meanwhile.`))
  out()
  if (c.error != null && c.series.length === 0) { out(`  not measured: ${c.error}`); return }
  out(`  state file ${size(c.stateBytes)}; coordinator start to its management API answering ${msd(c.readyMs)}; fleet response: ${c.rows ?? '-'} rows (${c.unreachable ?? '-'} unreachable), rollout view: ${c.rolloutNodes ?? '-'} nodes; coordinator RSS after the series ${c.rssBytes != null ? `${(c.rssBytes / 1e6).toFixed(1)} MB` : '-'}`)
  out()
  out(table(HEADER, rows(c.series)))
  if (c.metricsWired === false) out('\n  /metrics on the coordinator: metrics not wired (GET /metrics answered 404)')
}

export function printNode (n: NodeResult): void {
  out(section('2. A node (not a coordinator): /metrics and /api/v1/status'))
  out(wrap(`\`umesh node --http-listen 127.0.0.1:PORT --listen /ip4/127.0.0.1/tcp/0 --no-mdns\`, no peers; the same ${WARM_UP} + ${REQUESTS} requests per route on one keep-alive connection.`))
  out()
  if (n.error != null && n.series.length === 0) { out(`  not measured: ${n.error}`); return }
  out(table(HEADER, rows(n.series)))
  if (n.metricsWired === false) out('\n  /metrics on the node: metrics not wired (GET /metrics answered 404)')
  if (n.error != null) out(`\n  error: ${n.error}`)
}
