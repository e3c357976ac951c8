/**
 * The release benchmark's command line, read once at start-up: the sizes,
 * counts and waits of every part, and the run's time budget. Bad values
 * exit 2 naming the flag.
 */
import { parseArgs } from 'node:util'
import { intOpt } from '../procs.js'
import { wallNow } from './processes.js'

export const MiB = 1024 * 1024
/** parts stop starting new work after this (from the start of the run) */
export const BUDGET_MS = 250_000
/** the whole run is cut off here, whatever the per-part limits say */
export const HARD_LIMIT_MS = 290_000
export const budgetEnd = wallNow() + BUDGET_MS

export const { values: opts } = parseArgs({
  options: {
    size: { type: 'string', default: '64' },
    followers: { type: 'string', default: '8' },
    'announce-followers': { type: 'string', default: '20' },
    releases: { type: 'string', default: '10' },
    'poll-ms': { type: 'string', default: '200' },
    'announce-poll-ms': { type: 'string', default: '150' },
    'part-timeout': { type: 'string', default: '180' },
    'release-wait': { type: 'string', default: '6' },
    'straggler-wait': { type: 'string', default: '15' },
    'control-followers': { type: 'string', default: '10' },
    'reconnect-per-poll': { type: 'boolean', default: false },
    parts: { type: 'string', default: '1,2,3' },
    help: { type: 'boolean', default: false }
  }
})

if (opts.help === true) {
  process.stdout.write('node dist/bench/releases/main.js [--size MiB(64)] [--followers 8] [--announce-followers 20] [--control-followers 10 (0: none)] [--releases 10]\n' +
    '    [--release-wait SECONDS(6)] [--straggler-wait SECONDS(15)] [--poll-ms 200] [--announce-poll-ms 150] [--reconnect-per-poll] [--part-timeout SECONDS(180)] [--parts 1,2,3]\n')
  process.exit(0)
}
export const SIZE = intOpt('size', opts.size, 2, 1024) * MiB
export const FOLLOWERS = intOpt('followers', opts.followers, 1, 50)
export const ANNOUNCE_FOLLOWERS = intOpt('announce-followers', opts['announce-followers'], 1, 60)
export const RELEASES = intOpt('releases', opts.releases, 1, 100)
export const POLL_MS = intOpt('poll-ms', opts['poll-ms'], 50, 5_000)
export const ANNOUNCE_POLL_MS = intOpt('announce-poll-ms', opts['announce-poll-ms'], 50, 5_000)
export const PART_TIMEOUT_MS = intOpt('part-timeout', opts['part-timeout'], 10, 280) * 1000
export const RELEASE_WAIT_MS = intOpt('release-wait', opts['release-wait'], 1, 120) * 1000
export const STRAGGLER_WAIT_MS = intOpt('straggler-wait', opts['straggler-wait'], 0, 120) * 1000
export const CONTROL_FOLLOWERS = intOpt('control-followers', opts['control-followers'], 0, 60)
export const RECONNECT = opts['reconnect-per-poll'] === true
export const PARTS = new Set(opts.parts.split(',').map(s => s.trim()))
for (const p of PARTS) {
  if (!['1', '2', '3'].includes(p)) { process.stderr.write(`--parts: expected a list of 1, 2, 3, found "${opts.parts}"\n`); process.exit(2) }
}
if (PARTS.has('3') && !PARTS.has('1')) { process.stderr.write('--parts: part 3 runs on the mesh of part 1; add 1\n'); process.exit(2) }
export const INSERT_BYTES = 1 * MiB
