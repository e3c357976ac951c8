/**
 * The HTTP benchmark's command line, read once at start-up, and the targets
 * its figures are read against. Bad values exit 2 naming the flag.
 */
import { parseArgs } from 'node:util'
import { intOpt } from '../procs.js'

/** the whole benchmark is cut off here (every process stopped) */
export const HARD_LIMIT_MS = 175_000

export const FLEET_P99_TARGET_MS = 50
export const METRICS_P99_TARGET_MS = 20
export const SSE_TARGET_MS = 500
export const RSS_TARGET_BYTES = 10e6

export const { values: opts } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    requests: { type: 'string', default: '500' },
    'warm-up': { type: 'string', default: '50' },
    changes: { type: 'string', default: '20' },
    'rss-rounds': { type: 'string', default: '3' },
    settle: { type: 'string', default: '5' },
    'rss-requests': { type: 'string', default: '100' },
    help: { type: 'boolean', default: false }
  }
})

if (opts.help === true) {
  process.stdout.write('node dist/bench/http/main.js [--nodes 1000] [--requests 500] [--warm-up 50] [--changes 20]\n' +
    '    [--rss-rounds 3] [--settle SECONDS(5)] [--rss-requests 100]\n')
  process.exit(0)
}
/** reports in the coordinator's book */
export const NODES = intOpt('nodes', opts.nodes, 1, 10_000)
/** timed requests per route, one after the other on one keep-alive connection */
export const REQUESTS = intOpt('requests', opts.requests, 10, 5_000)
export const WARM_UP = intOpt('warm-up', opts['warm-up'], 0, 1_000)
/** pause / resume changes timed on the event stream */
export const CHANGES = intOpt('changes', opts.changes, 2, 100)
export const RSS_ROUNDS = intOpt('rss-rounds', opts['rss-rounds'], 1, 10)
export const SETTLE_MS = intOpt('settle', opts.settle, 0, 60) * 1000
export const RSS_REQUESTS = intOpt('rss-requests', opts['rss-requests'], 0, 10_000)

/** every daemon: loopback only, no mDNS, no bootstrap peers */
export const DAEMON_ARGS = ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns']
/** the package whose rollout the 1,000 reports belong to, and the one steered for the event stream */
export const FLEET_PACKAGE = 'app'
export const STEERED_PACKAGE = 'tool'
