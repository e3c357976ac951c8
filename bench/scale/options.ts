/**
 * The scale benchmark's command line, read once at start-up, and its time
 * limits. Bad values exit 2 naming the flag.
 */
import { parseArgs } from 'node:util'
import { parseGate, parseWaves } from '../../src/rollout/document.js'
import { DAEMON_NODE_FLAGS, MMAP_THRESHOLD_BYTES, MMAP_THRESHOLD_ENV } from '../../src/util/memory-settings.js'
import { intOpt } from '../procs.js'

export const { values: opts } = parseArgs({
  options: {
    nodes: { type: 'string', default: '50' },
    mib: { type: 'string', default: '16' },
    batch: { type: 'string', default: '10' },
    waves: { type: 'string', default: 'canary:1,10%,50%,100%' },
    gate: { type: 'string', default: 'success>=1,soak=2s' },
    'max-parallel': { type: 'string', default: '10' },
    'metrics-every': { type: 'string', default: '5' },
    'poll-ms': { type: 'string', default: '1000' },
    'run-timeout': { type: 'string', default: '240' },
    order: { type: 'string', default: 'waves,single' },
    'settle-timeout': { type: 'string', default: '600' },
    'min-connections': { type: 'string', default: '4' },
    keep: { type: 'boolean', default: false },
    'node-flags': { type: 'string' },
    help: { type: 'boolean', default: false }
  }
})

if (opts.help === true) {
  process.stdout.write('node dist/bench/scale/main.js [--nodes 50] [--mib 16] [--batch 10] [--waves "canary:1,10%,50%,100%"] [--gate "success>=1,soak=2s"]\n' +
    '    [--max-parallel 10] [--metrics-every 5] [--poll-ms 1000] [--run-timeout SECONDS(240)] [--order waves,single] [--keep]\n' +
    '    [--settle-timeout SECONDS(600), 0: none] [--min-connections 4]   after start-up, wait until every node has that many connections\n' +
    '                           and the fleet\'s connections and CPU stopped changing (at most that long) before the first release\n' +
    `    [--node-flags="FLAGS"]  node's flags for every daemon (default "${DAEMON_NODE_FLAGS.join(' ')}"); ${MMAP_THRESHOLD_ENV} in the environment sets the daemons' malloc threshold (default ${MMAP_THRESHOLD_BYTES})\n`)
  process.exit(0)
}

export const NODES = intOpt('nodes', opts.nodes, 2, 200)
export const MIB = intOpt('mib', opts.mib, 1, 256)
export const BATCH = intOpt('batch', opts.batch, 1, 200)
export const MAX_PARALLEL = intOpt('max-parallel', opts['max-parallel'], 1, 10_000)
/** every k-th node opens an HTTP listener so its /metrics (bytes per protocol) can be read; 0: none */
export const METRICS_EVERY = intOpt('metrics-every', opts['metrics-every'], 0, 200)
export const POLL_MS = intOpt('poll-ms', opts['poll-ms'], 100, 10_000)
export const RUN_TIMEOUT_MS = intOpt('run-timeout', opts['run-timeout'], 20, 900) * 1000
/** how long to wait for the mesh to settle after start-up; 0: not at all */
export const SETTLE_TIMEOUT_MS = intOpt('settle-timeout', opts['settle-timeout'], 0, 3600) * 1000
export const MIN_CONNECTIONS = intOpt('min-connections', opts['min-connections'], 1, 200)
export const PACKAGE = 'app'
/** node's flags for every daemon */
export const NODE_FLAGS = opts['node-flags'] != null ? opts['node-flags'].split(/\s+/).filter(f => f !== '') : DAEMON_NODE_FLAGS
/** the daemons' malloc mmap threshold, as they will see it */
export const MMAP_THRESHOLD = process.env[MMAP_THRESHOLD_ENV] ?? String(MMAP_THRESHOLD_BYTES)
/** keep the temp dir (data dirs and logs) */
export const KEEP = opts.keep === true
export type Variant = 'waves' | 'single'
export const ORDER: Variant[] = opts.order.split(',').map(v => {
  if (v !== 'waves' && v !== 'single') {
    process.stderr.write(`--order: expected a comma-separated list of waves and single, found "${opts.order}"\n`)
    process.exit(2)
  }
  return v
})
try {
  parseWaves(opts.waves)
  parseGate(opts.gate)
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`)
  process.exit(2)
}
export const VARIANTS: Record<Variant, { waves: string, label: string }> = {
  waves: { waves: opts.waves, label: `waves "${opts.waves}"` },
  single: { waves: '100%', label: 'single wave "100%"' }
}
/**
 * the whole benchmark is cut off here: every batch's 90 s to ready, the
 * set-up round and each timed round at --run-timeout, and 5 minutes for
 * publishing, reading counters and stopping
 */
export const HARD_LIMIT_MS = Math.ceil(NODES / BATCH) * 90_000 + SETTLE_TIMEOUT_MS + 60_000 + (1 + ORDER.length) * RUN_TIMEOUT_MS + 5 * 60_000
