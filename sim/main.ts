/**
 * The fleet model: prints figures, asserts nothing.
 *
 *   npm run sim -- --nodes 100,1000,10000      (npm run build && node dist/sim/main.js)
 *   node dist/sim/main.js [--nodes 100,1000,10000] [--mib 32] [--seed 1] [--churn 0.02] [--loss 0.001]
 *       [--latency-ms 10] [--rate-mbit 20] [--report-interval 20] [--no-check]
 *
 * First the model against measurements (bench:swarm at N=8 and 16, and
 * bench:scale's 50 daemons when its figures are in sim/measured.ts), then a
 * fleet on machines of its own for each --nodes: time to fleet (every node
 * holding the release), publisher copies, control messages per node.
 */
import { parseArgs } from 'node:util'
import { fleetParams } from './params.js'
import { FleetSim } from './model.js'
import { cpuFromRuns, SCALE_POINTS, scaleScenario, swarmPoint, swarmScenario } from './measured.js'
import { heartbeatMs } from '../src/rollout/heartbeat.js'
import { table } from '../bench/report.js'
import type { SimResult } from './model.js'

const { values: opts } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100,1000,10000' },
    mib: { type: 'string', default: '32' },
    seed: { type: 'string', default: '1' },
    churn: { type: 'string', default: '0.02' },
    loss: { type: 'string', default: '0.001' },
    'latency-ms': { type: 'string', default: '10' },
    'rate-mbit': { type: 'string', default: '20' },
    'report-interval': { type: 'string', default: '20' },
    'no-check': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false }
  }
})

function num (name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v)
  if (!Number.isFinite(n) || n < min || n > max) {
    process.stderr.write(`--${name}: expected a number from ${min} to ${max}, found "${String(v)}"\n`)
    process.exit(2)
  }
  return n
}

if (opts.help === true) {
  process.stdout.write('node dist/sim/main.js [--nodes 100,1000,10000] [--mib 32] [--seed 1] [--churn 0.02] [--loss 0.001] [--latency-ms 10] [--rate-mbit 20] [--report-interval 20 (s, the heartbeat of a fleet of up to 1,000; 0: no rollout reports)] [--no-check]\n')
  process.exit(0)
}
const NODES = (opts.nodes ?? '').split(',').map(v => num('nodes', v, 1, 20_000))
const MIB = num('mib', opts.mib, 1, 1024)
const SEED = num('seed', opts.seed, 0, 2 ** 31)
const MiB = 1024 * 1024

const s = (ms: number | undefined): string => ms == null || !Number.isFinite(ms) ? '-' : `${(ms / 1000).toFixed(2)} s`
const median = (v: number[]): number => { const a = v.filter(Number.isFinite).sort((x, y) => x - y); return a.length === 0 ? NaN : a[Math.floor((a.length - 1) / 2)] }
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length
const err = (model: number, measured: number[]): string => {
  const worst = Math.max(...measured.map(m => Math.abs(model - m) / m))
  return `${((model - mean(measured)) / mean(measured) * 100).toFixed(1)} % (worst ${(worst * 100).toFixed(1)} %)`
}

function out (line = ''): void { process.stdout.write(line + '\n') }

out('update-mesh fleet model (figures only; nothing is asserted)')
out(`command: node dist/sim/main.js ${process.argv.slice(2).join(' ')}`)

if (opts['no-check'] !== true) {
  const cpu = cpuFromRuns()
  out(`\nmodel against measurements. CPU per MiB on a 20 Mbit/s link from the runs' own /proc figures (${cpu.runs} runs of runs.jsonl): ${cpu.inMsPerMiB.toFixed(1)} ms received, ${cpu.outMsPerMiB.toFixed(1)} ms sent`)
  const rows: string[][] = []
  for (const n of [8, 16] as const) {
    const pt = swarmPoint(n)
    const r = new FleetSim(swarmScenario(n, cpu, { seed: SEED })).run()
    rows.push([pt.name, 'last node (s)', pt.maxS.map(v => v.toFixed(2)).join(', '), (r.fleetMs / 1000).toFixed(2), err(r.fleetMs / 1000, pt.maxS)])
    rows.push([pt.name, 'median node (s)', pt.p50S.map(v => v.toFixed(2)).join(', '), (median(r.heldAt) / 1000).toFixed(2), err(median(r.heldAt) / 1000, pt.p50S)])
    // the runs count the seeder's bytes on the wire; the model counts chunk payload: each run's copies over its wire/payload factor
    const payload = pt.copies.map((c, i) => c / (pt.wire[i] ?? 1))
    rows.push([pt.name, 'publisher copies (payload)', payload.map(v => v.toFixed(2)).join(', '), r.publisherCopies.toFixed(2), err(r.publisherCopies, payload)])
    rows.push([pt.name, 'CPU seconds, all', pt.cpuS.map(v => v.toFixed(1)).join(', '), r.cpuSeconds.toFixed(1), err(r.cpuSeconds, pt.cpuS)])
  }
  for (const sp of SCALE_POINTS) {
    const w = new FleetSim(scaleScenario(sp, 'waves', { seed: SEED })).run()
    const single = new FleetSim(scaleScenario(sp, 'single', { seed: SEED })).run()
    rows.push([sp.name, 'all held (s), waves / single rounds', sp.allHeldS.map(v => v.toFixed(2)).join(', '), `${(w.fleetMs / 1000).toFixed(2)}, ${(single.fleetMs / 1000).toFixed(2)}`, err(mean([w.fleetMs, single.fleetMs]) / 1000, sp.allHeldS)])
    rows.push([sp.name, 'all healthy, waves (s)', sp.wavesHealthyS.toFixed(2), s(w.allHealthyMs).replace(' s', ''), err((w.allHealthyMs ?? NaN) / 1000, [sp.wavesHealthyS])])
    rows.push([sp.name, 'all healthy, single wave (s)', sp.singleHealthyS.toFixed(2), s(single.allHealthyMs).replace(' s', ''), err((single.allHealthyMs ?? NaN) / 1000, [sp.singleHealthyS])])
    rows.push([sp.name, 'publisher copies', sp.copies.map(v => v.toFixed(2)).join(', '), `${w.publisherCopies.toFixed(2)}, ${single.publisherCopies.toFixed(2)}`, err(mean([w.publisherCopies, single.publisherCopies]), sp.copies)])
  }
  out(table(['measured point', 'figure', 'measured (runs)', 'model', 'error vs mean (worst run)'], rows))
}

const results: SimResult[] = []
out(`\na fleet on machines of its own: ${MIB} MiB, links ${opts['rate-mbit']} Mbit/s each way, ${opts['latency-ms']} ms to the core (RTT ${2 * 2 * Number(opts['latency-ms'])} ms), loss ${opts.loss}, ${Number(opts.churn) * 100} % of nodes away 5-30 s once, ${Number(opts['report-interval']) > 0 ? `every node's report heartbeat gossiped to all, every ${opts['report-interval']} s or as the fleet's size stretches it (a rollout in effect)` : 'no rollout reports'}`)
for (const n of NODES) {
  const rate = num('rate-mbit', opts['rate-mbit'], 0.1, 100_000) * 1e6 / 8
  const reportFloorMs = num('report-interval', opts['report-interval'], 0, 3_600) * 1000
  const p = fleetParams(n, {
    bytes: MIB * MiB,
    seed: SEED,
    link: { upBps: rate, downBps: rate, latencyMs: num('latency-ms', opts['latency-ms'], 0, 10_000), loss: num('loss', opts.loss, 0, 0.5) },
    churn: { fraction: num('churn', opts.churn, 0, 1), leaveByMs: 20_000, downMinMs: 5_000, downMaxMs: 30_000 },
    // the project's own heartbeat by fleet size (src/rollout/heartbeat.ts), the option its floor
    reportIntervalMs: reportFloorMs > 0 ? heartbeatMs(n, reportFloorMs) : 0,
    dtMs: n > 2_000 ? 50 : 20
  })
  process.stderr.write(`# ${n} nodes ...\n`)
  results.push(new FleetSim(p).run())
}
const bound = (MIB * MiB) / (num('rate-mbit', opts['rate-mbit'], 0.1, 100_000) * 1e6 / 8) * 1000
out(table(['nodes', 'pieces', 'time to fleet', 'nodes never away', 'median node', 'fleet / (S/B)', 'publisher copies', 'control msgs / node', 'of which report forwards', 'CPU s / node', 'model wall time', 'events'], results.map(r => [
  String(r.params.nodes), String(r.pieces), s(r.fleetMs), s(r.stayedMs), s(median(r.heldAt)), (r.fleetMs / bound).toFixed(2), r.publisherCopies.toFixed(2),
  r.messagesPerNode.toFixed(0), r.reportForwardsPerNode.toFixed(0), (r.cpuSeconds / r.params.nodes).toFixed(2), s(r.wallMs), String(r.events)
])))
const k1 = results.find(r => r.params.nodes === 1000)
const k10 = results.find(r => r.params.nodes === 10000)
if (k1 != null && k10 != null) out(`\ntime to fleet at 10,000 / at 1,000: ${(k10.fleetMs / k1.fleetMs).toFixed(2)} (target <= 2); nodes never away: ${(k10.stayedMs / k1.stayedMs).toFixed(2)}`)
