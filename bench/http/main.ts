/**
 * HTTP listener benchmark: prints figures, asserts nothing.
 *
 *   npm run bench:http             (npm run build && node dist/bench/http/main.js)
 *   node dist/bench/http/main.js [--nodes 1000] [--requests 500] [--warm-up 50] [--changes 20]
 *       [--rss-rounds 3] [--settle 5] [--rss-requests 100]
 *
 * Real `umesh` daemons (the bundle, dist/umesh.mjs) on loopback, mDNS off,
 * no bootstrap peers, each with --http-listen 127.0.0.1:PORT where the
 * listener is measured:
 *
 * 1. a coordinator holding --nodes nodes' reports (a state file written
 *    before it starts: fleet-state.ts): GET /api/v1/fleet and GET
 *    /api/v1/rollouts/<package> p50 / p99 over --requests sequential
 *    requests after --warm-up, beside /healthz on the same listener, and
 *    the response sizes; /metrics too once it is wired;
 * 2. a plain node: /metrics (when wired; "metrics not wired" when it
 *    answers 404), /api/v1/status, /healthz;
 * 3. the event stream on the coordinator: a rollout started, paused and
 *    resumed through the API, each change timed to its `changed` event and
 *    from the coordinator's `at` to the `rollout` event's arrival;
 * 4. the resident memory the listener adds: the same node without and with
 *    --http-listen side by side, --rss-rounds rounds.
 *
 * Every process it starts is stopped (finally, SIGINT, SIGTERM, a hard
 * limit) and its temp dir removed.
 */
import '../../src/polyfill.js'
import { mkdtempSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { CLI_PATH } from '../../src/demo/local-mesh.js'
import { machine } from '../machine.js'
import { runBenchmark, trackDir } from '../procs.js'
import { mb, section, seconds, table } from '../report.js'
import { percentile } from './client.js'
import { coordinatorRun } from './coordinator-run.js'
import { memoryRun } from './memory.js'
import { nodeRun } from './node-run.js'
import { HARD_LIMIT_MS, NODES, RSS_TARGET_BYTES, SSE_TARGET_MS } from './options.js'
import { out, progress } from './output.js'
import { printEvents } from './print-events.js'
import { msd, printCoordinator, printNode, size, targetOf, verdict } from './print-latency.js'
import { memoryMedians, printMemory, signedMb } from './print-memory.js'
import type { Series } from './client.js'

function p99Row (s: Series | undefined, label: string, baseline?: Series): string[] {
  const target = s != null ? targetOf(s.label) : undefined
  const p99 = s != null ? percentile(s.ms, 99) : undefined
  return [label, target != null ? `p99 <= ${target} ms` : '', baseline != null ? `${msd(percentile(baseline.ms, 50))} / ${msd(percentile(baseline.ms, 99))}` : '', s != null ? `${msd(percentile(s.ms, 50))} / ${msd(p99)}${s.bytes > 0 ? `, ${size(s.bytes)}` : ''}` : 'not measured', verdict(p99, target)]
}

async function main (): Promise<number> {
  const t0 = performance.now()
  const loadStart = loadavg()[0]
  const root = mkdtempSync(join(tmpdir(), 'umesh-bench-http-'))
  trackDir(root)
  const argv = process.argv.slice(2)
  out('update-mesh HTTP listener benchmark (figures only; nothing is asserted)')
  out(`command: node dist/bench/http/main.js${argv.length > 0 ? ' ' + argv.join(' ') : ''}   (npm run bench:http = npm run build && node dist/bench/http/main.js)`)
  for (const line of machine(CLI_PATH)) out(line)

  const coordinator = await coordinatorRun(root)
  const node = await nodeRun(root)
  const memory = await memoryRun(root, node.metricsWired === true)

  printCoordinator(coordinator)
  printNode(node)
  printEvents(coordinator.steering)
  printMemory(memory)

  out(section('Summary against the targets'))
  const find = (series: Series[], prefix: string): Series | undefined => series.find(s => s.label.startsWith(prefix))
  const steered = coordinator.steering?.changes.filter(c => c.action !== 'start') ?? []
  const atMax = steered.length > 0 ? Math.max(...steered.map(c => c.atToArrivalMs)) : undefined
  const changedMax = steered.length > 0 ? Math.max(...steered.map(c => c.changedMs)) : undefined
  const med = memoryMedians(memory)
  const maxDiff = memory.rounds.length > 0 ? Math.max(...memory.rounds.map(r => r.loaded.with - r.loaded.without)) : undefined
  const notWired = 'metrics not wired'
  out(table(['', 'target', 'baseline: /healthz p50 / p99', 'measured', 'verdict'], [
    p99Row(find(coordinator.series, 'GET /api/v1/fleet'), `GET /api/v1/fleet, ${NODES} nodes (p50 / p99, size)`, find(coordinator.series, 'GET /healthz')),
    p99Row(find(coordinator.series, 'GET /api/v1/rollouts'), `GET /api/v1/rollouts/<package>, ${NODES} nodes`, find(coordinator.series, 'GET /healthz')),
    node.metricsWired === false ? ['/metrics on a node', `p99 <= ${targetOf('GET /metrics')} ms`, '', notWired, '-'] : p99Row(find(node.series, 'GET /metrics'), '/metrics on a node', find(node.series, 'GET /healthz')),
    coordinator.metricsWired === false ? [`/metrics on the ${NODES}-node coordinator`, `p99 <= ${targetOf('GET /metrics')} ms`, '', notWired, '-'] : p99Row(find(coordinator.series, 'GET /metrics'), `/metrics on the ${NODES}-node coordinator`, find(coordinator.series, 'GET /healthz')),
    p99Row(find(node.series, 'GET /api/v1/status'), '/api/v1/status on a node', find(node.series, 'GET /healthz')),
    ['event stream: `rollout` event, coordinator `at` -> client (p50 / max)', `<= ${SSE_TARGET_MS} ms`, '', steered.length > 0 ? `${msd(percentile(steered.map(c => c.atToArrivalMs), 50))} / ${msd(atMax)}` : 'not measured', verdict(atMax, SSE_TARGET_MS)],
    ['event stream: POST -> `changed` event (p50 / max)', `<= ${SSE_TARGET_MS} ms`, '', steered.length > 0 ? `${msd(percentile(steered.map(c => c.changedMs), 50))} / ${msd(changedMax)}` : 'not measured', verdict(changedMax, SSE_TARGET_MS)],
    ['RSS added by the listener, after requests (median; max of rounds)', `<= ${mb(RSS_TARGET_BYTES)}`, '', memory.rounds.length > 0 ? `${signedMb(med.loaded)}; ${signedMb(maxDiff)}` : 'not measured', maxDiff != null ? verdict(maxDiff, RSS_TARGET_BYTES) : '-'],
    ['RSS added by the listener, idle (median)', '', '', signedMb(med.idle), '']
  ]))
  const errors = [coordinator.error, node.error, memory.error, coordinator.steering?.error].filter(e => e != null)
  for (const e of errors) out(`\nerror: ${e}`)
  out(`\nbenchmark wall time ${seconds(performance.now() - t0)}; load average at the end ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
  if (loadStart > 1) out(`note: the 1-minute load average was ${loadStart.toFixed(2)} on ${cpus().length} CPU(s) when the benchmark started: other work was running, and the figures include that contention`)
  progress('done')
  return errors.length > 0 ? 1 : 0
}

await runBenchmark(main, HARD_LIMIT_MS)
