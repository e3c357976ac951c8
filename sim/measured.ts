/**
 * The measurements the model is checked against, and the scenarios that
 * reproduce them. bench:swarm (../shared/swarm-bench: a publisher and N
 * receivers in network namespaces on this 2-core machine, 32 MiB, every
 * link 20 Mbit/s by tbf): the runs in the README (2026-11-23) and in
 * bench/swarm/results/runs.jsonl (read at run time when present).
 * bench:scale (bench/scale: 50 daemons on loopback, 16 MiB): the figures of
 * its run noted below.
 *
 * CPU per MiB is not fitted to the times: it is what /proc said the
 * daemons spent in those same runs, divided by the chunk bytes each moved
 * (cpuFromRuns), so the model's only inputs from the runs are their
 * machines' costs, never their clocks.
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { fleetParams } from './params.js'
import type { SimParams } from './params.js'

const MiB = 1024 * 1024

export interface MeasuredPoint {
  name: string
  /** seconds from GO to the last / median node holding the release; seeder copies; CPU seconds of all daemons */
  maxS: number[]
  p50S: number[]
  copies: number[]
  /** wire bytes over payload bytes of each run (TCP/IP, Noise, Yamux, protobuf): the model moves payload */
  wire: number[]
  cpuS: number[]
  source: string
}

interface SwarmRun {
  n: number
  max_s: number
  p50_s: number
  wire?: { seeder_copies: number, overhead_factor: number, per_host_up_bytes: number[], per_host_down_bytes: number[] }
  cpu?: { seeder_cpu_s: number, receivers_cpu_s: number[], receivers_cpu_s_total: number }
}

const RUNS_FILE = fileURLToPath(new URL('../../bench/swarm/results/runs.jsonl', import.meta.url))

export function swarmRuns (): SwarmRun[] {
  if (!existsSync(RUNS_FILE)) return []
  return readFileSync(RUNS_FILE, 'utf8').split('\n').filter(l => l.trim() !== '').flatMap(l => {
    try {
      const r = JSON.parse(l)
      return r.scenario === 'swarm' && r.ok === true && r.s_bytes === 32 * MiB && r.rate_mbit === 20 ? [r as SwarmRun] : []
    } catch { return [] }
  })
}

/** README, Benchmarks, "Swarm distribution": update-mesh rounds 1 and 2 of 2026-11-23 */
const README_SWARM: Record<number, Omit<MeasuredPoint, 'name'>> = {
  8: { maxS: [23.98, 24.55], p50S: [23.32, 23.75], copies: [1.50, 1.52], wire: [1.137, 1.149], cpuS: [43.6, 45.0], source: 'README bench:swarm rounds 1, 2' },
  16: { maxS: [49.08, 46.06], p50S: [45.80, 43.44], copies: [1.95, 1.82], wire: [1.220, 1.207], cpuS: [87.1, 82.3], source: 'README bench:swarm rounds 1, 2' }
}

export function swarmPoint (n: 8 | 16): MeasuredPoint {
  const base = README_SWARM[n]
  const runs = swarmRuns().filter(r => r.n === n)
  return {
    name: `bench:swarm N=${n}`,
    maxS: [...base.maxS, ...runs.map(r => r.max_s)],
    p50S: [...base.p50S, ...runs.map(r => r.p50_s)],
    copies: [...base.copies, ...runs.flatMap(r => r.wire != null ? [r.wire.seeder_copies] : [])],
    wire: [...base.wire, ...runs.flatMap(r => r.wire != null ? [r.wire.overhead_factor] : [])],
    cpuS: [...base.cpuS, ...runs.flatMap(r => r.cpu != null ? [r.cpu.seeder_cpu_s + r.cpu.receivers_cpu_s_total] : [])],
    source: `${base.source}${runs.length > 0 ? ` + ${runs.length} in runs.jsonl` : ''}`
  }
}

/**
 * CPU ms per MiB sent and received on a 20 Mbit/s shaped link, from the
 * runs' /proc figures: the seeder only sends (ms per MiB out = its CPU / the
 * MiB it sent); each receiver's CPU less what its sending cost, over what it
 * received. Wire bytes, so framing counts as it costs.
 */
export function cpuFromRuns (): { inMsPerMiB: number, outMsPerMiB: number, runs: number } {
  const runs = swarmRuns().filter(r => r.cpu != null && r.wire != null)
  if (runs.length === 0) return { inMsPerMiB: 72, outMsPerMiB: 76, runs: 0 }
  let out = 0
  let inn = 0
  for (const r of runs) {
    const o = r.cpu!.seeder_cpu_s * 1000 / (r.wire!.per_host_up_bytes[0] / MiB)
    let cpu = 0
    let down = 0
    for (let i = 0; i < r.cpu!.receivers_cpu_s.length; i++) {
      cpu += r.cpu!.receivers_cpu_s[i] * 1000 - o * r.wire!.per_host_up_bytes[i + 1] / MiB
      down += r.wire!.per_host_down_bytes[i + 1] / MiB
    }
    out += o
    inn += cpu / down
  }
  return { inMsPerMiB: inn / runs.length, outMsPerMiB: out / runs.length, runs: runs.length }
}

/** bench:swarm as the model sees it: every process on this 2-core machine, tbf links */
export function swarmScenario (n: number, cpu = cpuFromRuns(), overrides: Partial<SimParams> = {}): SimParams {
  return fleetParams(n, {
    bytes: 32 * MiB,
    // tbf at 20 Mbit/s with a 400 ms queue limit: a loaded link's queue delays each message (half full, as an estimate)
    link: { upBps: 2.5e6, downBps: 2.5e6, latencyMs: 100, loss: 0 },
    cpu: { mode: 'shared', cores: 2, inMsPerMiB: cpu.inMsPerMiB, outMsPerMiB: cpu.outMsPerMiB, requestMs: 0, metadataMs: 150 },
    churn: { fraction: 0, leaveByMs: 0, downMinMs: 0, downMaxMs: 0 },
    // every receiver dials the seeder first (its bootstrap peer) and then the others: a full mesh at N <= 16
    targetPeers: n,
    publishDelayMs: 67,
    reportIntervalMs: 0,
    ...overrides
  })
}

/**
 * bench:scale (bench/scale), 50 nodes, 16 MiB on loopback, 2026-12-03:
 * filled in from its printed figures (see the report); CPU per MiB is the
 * run's own (all daemons' CPU over the MiB the nodes fetched).
 */
export interface ScalePoint {
  name: string
  nodes: number
  mib: number
  /** s from release add spawned: all held, all healthy (waves, single) */
  allHeldS: number[]
  wavesHealthyS: number
  singleHealthyS: number
  publishS: number
  copies: number[]
  /** all processes' CPU ms per MiB fetched by the nodes, measured in the same run */
  cpuMsPerMiB: number
  installS: number
  source: string
}

/**
 * bench:scale runs that completed, on this 2-core machine:
 * - N=20: 2026-12-03 14:33, commit f48d05f's bench, `--nodes 20 --run-timeout 150`; load average
 *   8 at its start, 36 at its end: other work shared the cores.
 * - N=50: 2026-12-03 19:38, commit bc7ba98, `--nodes 50 --run-timeout 840`; load 12 at its start
 *   (an earlier run winding down), 53-60 during the rounds, all of it the fleet's own 52 daemons.
 */
export const SCALE_POINTS: ScalePoint[] = [{
  name: 'bench:scale N=20',
  nodes: 20,
  mib: 16,
  allHeldS: [83.14, 83.85],
  wavesHealthyS: 120.85,
  singleHealthyS: 93.68,
  publishS: 1.2,
  copies: [62.15 / 16, 60.44 / 16],
  // all processes' CPU over each round / MiB the nodes fetched: 585.8 and 459.8 ms
  cpuMsPerMiB: (585.8 + 459.8) / 2,
  installS: 1,
  source: 'bench:scale --nodes 20, one run'
}, {
  name: 'bench:scale N=50',
  nodes: 50,
  mib: 16,
  allHeldS: [501.64, 331.42],
  wavesHealthyS: 673.64,
  singleHealthyS: 450.92,
  // release add took 1.75 and 7.16 s
  publishS: (1.75 + 7.16) / 2,
  copies: [97.46 / 16, 74.19 / 16],
  // all processes' CPU over each round / MiB the nodes fetched: 1742.8 and 1067.8 ms
  cpuMsPerMiB: (1742.8 + 1067.8) / 2,
  installS: 1,
  source: 'bench:scale --nodes 50, one run'
}]

export function scaleScenario (pt: ScalePoint, variant: 'waves' | 'single', overrides: Partial<SimParams> = {}): SimParams {
  return fleetParams(pt.nodes, {
    bytes: pt.mib * MiB,
    link: { upBps: Infinity, downBps: Infinity, latencyMs: 0.05, loss: 0 },
    // loopback: CPU per MiB of the whole run split evenly between the ends
    cpu: { mode: 'shared', cores: 2, inMsPerMiB: pt.cpuMsPerMiB / 2, outMsPerMiB: pt.cpuMsPerMiB / 2, requestMs: 0, metadataMs: 150 },
    churn: { fraction: 0, leaveByMs: 0, downMinMs: 0, downMaxMs: 0 },
    publishDelayMs: pt.publishS * 1000,
    reportIntervalMs: 20_000,
    // a CPU-bound 50-daemon round runs past the default 10 simulated minutes
    maxSimMs: 3_600_000,
    rollout: { waves: variant === 'waves' ? 'canary:1,10%,50%,100%' : '100%', gate: 'success>=1,soak=2s', maxParallel: 10, installMs: pt.installS * 1000, startAtMs: pt.publishS * 1000 + 500 },
    ...overrides
  })
}
