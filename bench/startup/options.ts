/**
 * The start-up benchmark's command line, read once at start-up, and what it
 * measures against: the targets, the two daemons it starts (compiled modules
 * and the bundle) and the packages its import baseline loads.
 */
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { specFor } from '../../src/config/schema.js'
import { intOpt } from '../procs.js'

export const COMPILED_CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))
export const BUNDLED_CLI = fileURLToPath(new URL('../../umesh.mjs', import.meta.url))

export const READY_TARGET_MS = 1500
export const RSS_TARGET_BYTES = 120e6
export const TARGET_PEERS = specFor('targetPeers')!.default as number

/** the specifiers the daemon imports from node_modules (create-node.ts, daemon.ts, identity, the status protocol) */
export const LIBP2P_MODULES = [
  'libp2p', '@libp2p/tcp', '@chainsafe/libp2p-noise', '@chainsafe/libp2p-yamux', '@libp2p/identify',
  '@libp2p/ping', '@libp2p/kad-dht', '@libp2p/gossipsub', '@libp2p/mdns', '@libp2p/bootstrap',
  '@libp2p/logger', '@libp2p/peer-id', '@libp2p/crypto/keys', '@libp2p/utils', '@multiformats/multiaddr',
  'datastore-level', 'protons-runtime'
]

export const SINGLE_NODE_ARGS = ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns']

export const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    nodes: { type: 'string', default: '20' },
    'discovery-timeout': { type: 'string', default: '100' },
    'poll-ms': { type: 'string', default: '500' },
    'idle-ms': { type: 'string', default: '3000' },
    stall: { type: 'string', default: '30' },
    'skip-bundle': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false }
  }
})

if (opts.help === true) {
  process.stdout.write('node dist/bench/startup/main.js [--runs 7] [--nodes 20] [--discovery-timeout SECONDS(100)] [--poll-ms 500] [--idle-ms 3000] [--stall SECONDS(30)] [--skip-bundle]\n')
  process.exit(0)
}
export const RUNS = intOpt('runs', opts.runs, 1, 100)
export const NODES = intOpt('nodes', opts.nodes, 2, 200)
export const DISCOVERY_TIMEOUT_MS = intOpt('discovery-timeout', opts['discovery-timeout'], 1, 3600) * 1000
export const POLL_MS = intOpt('poll-ms', opts['poll-ms'], 50, 60_000)
export const IDLE_MS = intOpt('idle-ms', opts['idle-ms'], 0, 600_000)
export const STALL_MS = intOpt('stall', opts.stall, 1, 3600) * 1000
