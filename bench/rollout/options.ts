/**
 * The rollout benchmark's command line, read once at start-up, and the run's
 * time budget: the variants it compares, their waves, gate and install
 * parallelism. Bad values exit 2 naming the flag.
 */
import { parseArgs } from 'node:util'
import { parseGate, parseWaves } from '../../src/rollout/document.js'
import { intOpt } from '../procs.js'
import { wallNow } from './processes.js'
import type { WaveSpec } from '../../src/rollout/types.js'

/** runs stop starting after this (from the start of the benchmark) */
export const BUDGET_MS = 230_000
/** the whole benchmark is cut off here */
export const HARD_LIMIT_MS = 290_000
const T_START = wallNow()

export const { values: opts } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10' },
    runs: { type: 'string', default: '2' },
    waves: { type: 'string', default: 'canary:1,10%,50%,100%' },
    gate: { type: 'string', default: 'success>=1,soak=2s' },
    'max-parallel': { type: 'string', default: '3' },
    'single-max-parallel': { type: 'string', default: '10' },
    'no-control': { type: 'boolean', default: false },
    'poll-ms': { type: 'string', default: '200' },
    'run-timeout': { type: 'string', default: '60' },
    stall: { type: 'string', default: '15' },
    help: { type: 'boolean', default: false }
  }
})

if (opts.help === true) {
  process.stdout.write('node dist/bench/rollout/main.js [--nodes 10] [--runs 2] [--waves "canary:1,10%,50%,100%"] [--gate "success>=1,soak=2s"]\n' +
    '    [--max-parallel 3] [--single-max-parallel 10] [--no-control] [--poll-ms 200] [--run-timeout SECONDS(60)] [--stall SECONDS(15)]\n')
  process.exit(0)
}
export const NODES = intOpt('nodes', opts.nodes, 2, 40)
export const RUNS = intOpt('runs', opts.runs, 1, 10)
export const MAX_PARALLEL = intOpt('max-parallel', opts['max-parallel'], 1, 10_000)
export const SINGLE_MAX_PARALLEL = intOpt('single-max-parallel', opts['single-max-parallel'], 1, 10_000)
export const POLL_MS = intOpt('poll-ms', opts['poll-ms'], 50, 5_000)
export const RUN_TIMEOUT_MS = intOpt('run-timeout', opts['run-timeout'], 10, 240) * 1000
export const STALL_MS = intOpt('stall', opts.stall, 1, 120) * 1000
export const CONTROL = opts['no-control'] !== true
/** the waves and the gate's soak time, or exit 2 with the parser's message */
function parseRollout (): { waves: WaveSpec[], soakMs: number } {
  try {
    return { waves: parseWaves(opts.waves), soakMs: parseGate(opts.gate).soakMs }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`)
    process.exit(2)
  }
}
export const { waves: WAVES, soakMs: SOAK_MS } = parseRollout()
export const PACKAGE = 'app'
export const CANARY_NODES = 1

export type Variant = 'waves' | 'single' | 'control'
export const VARIANTS: Record<Variant, { waves: string, maxParallel: number, label: string }> = {
  waves: { waves: opts.waves, maxParallel: MAX_PARALLEL, label: `waves "${opts.waves}", max-parallel ${MAX_PARALLEL}` },
  single: { waves: '100%', maxParallel: SINGLE_MAX_PARALLEL, label: `single wave "100%", max-parallel ${SINGLE_MAX_PARALLEL}` },
  control: { waves: '100%', maxParallel: MAX_PARALLEL, label: `single wave "100%", max-parallel ${MAX_PARALLEL}` }
}

export function budgetLeft (): number {
  return T_START + BUDGET_MS - wallNow()
}
