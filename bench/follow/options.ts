/**
 * The follow benchmark's command line, read once at start-up, and the
 * memory and speed targets its figures are read against. Bad values exit 2
 * naming the flag.
 */
import { parseArgs } from 'node:util'
import { intOpt } from '../procs.js'
import { DAEMON_NODE_FLAGS } from '../../src/util/memory-settings.js'

export const MiB = 1024 * 1024

export const IDLE_RSS_TARGET = 90e6
export const AFTER_INSTALL_RSS_TARGET = 120e6
/** back within this of idle a minute after the install */
export const SETTLED_RSS_MARGIN = 10e6
/** the serving node's RSS stays within this of where it started */
export const SERVE_RSS_BAND = 10e6
export const FOLLOW_MIBS_TARGET = 100

export const { values: opts } = parseArgs({
  options: {
    mib: { type: 'string', default: '256' },
    files: { type: 'string', default: '32' },
    idle: { type: 'string', default: '20' },
    after: { type: 'string', default: '60' },
    'serve-followers': { type: 'string', default: '4' },
    'sample-ms': { type: 'string', default: '500' },
    parts: { type: 'string', default: '1,2' },
    'plain-baseline': { type: 'string', default: '1' },
    'node-flags': { type: 'string' },
    help: { type: 'boolean', default: false }
  }
})

if (opts.help === true) {
  process.stdout.write('node dist/bench/follow/main.js [--mib 256] [--files 32] [--idle SECONDS(20)] [--after SECONDS(60)]\n' +
    '    [--serve-followers 4] [--sample-ms 500] [--parts 1,2] [--plain-baseline 1|0]\n' +
    '    [--node-flags="FLAGS"]   node\'s flags for the publisher and the follower with the memory settings\n' +
    '                           (default: the daemons\' own, src/util/memory-settings.ts), to try others A/B\n')
  process.exit(0)
}

/** the release: MIB MiB of seeded pseudo-random bytes in FILES files */
export const RELEASE_MIB = intOpt('mib', opts.mib, 1, 2048)
export const FILES = intOpt('files', opts.files, 1, 1024)
/** the follower is sampled this long, ready and connected, before the release is published */
export const IDLE_MS = intOpt('idle', opts.idle, 1, 120) * 1000
/** and this long after it installed the release */
export const AFTER_MS = intOpt('after', opts.after, 0, 300) * 1000
/** part 2: fresh followers that fetch the release from the publisher one after another */
export const SERVE_FOLLOWERS = intOpt('serve-followers', opts['serve-followers'], 1, 16)
export const SAMPLE_MS = intOpt('sample-ms', opts['sample-ms'], 100, 5_000)
export const PARTS = new Set(opts.parts.split(',').map(s => s.trim()))
for (const p of PARTS) {
  if (p !== '1' && p !== '2') { process.stderr.write(`--parts: expected a list of 1, 2, found "${opts.parts}"\n`); process.exit(2) }
}
/** part 1 runs a second time first, its follower started as a plain umesh node, without the memory settings (the same build's baseline) */
export const PLAIN_BASELINE = intOpt('plain-baseline', opts['plain-baseline'], 0, 1) === 1
/** node's flags for the publisher and the follower with the memory settings: the daemons' own unless --node-flags names others */
export const NODE_FLAGS = opts['node-flags'] != null ? opts['node-flags'].split(/\s+/).filter(f => f !== '') : DAEMON_NODE_FLAGS
for (const f of NODE_FLAGS) {
  if (!f.startsWith('--')) { process.stderr.write(`--node-flags: expected node flags each starting with --, found "${f}"\n`); process.exit(2) }
}
/** the idle RSS is the median of the samples in this last part of the idle window (V8 shrinks its young generation some seconds after start) */
export const IDLE_TAIL_MS = 5_000
/** one fetch (and install) may take this long before the part gives up */
export const FETCH_TIMEOUT_MS = 180_000
/** the whole run is cut off here, whatever happens */
export const HARD_LIMIT_MS = 60_000 + (PARTS.has('1') ? (PLAIN_BASELINE ? 2 : 1) * (IDLE_MS + AFTER_MS + 2 * FETCH_TIMEOUT_MS) : 0) + (PARTS.has('2') ? SERVE_FOLLOWERS * 60_000 : 0)

/** every daemon: loopback only, no mDNS; JSON log lines (their time marks the steps) */
export const DAEMON_ARGS = ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--log-format', 'json']
/** the component logs whose lines mark the steps of a follow */
export const DEBUG_NAMESPACES = 'umesh:follower,umesh:install,umesh:swarm,umesh:memory'
export const PACKAGE = 'app'
/** the baseline follower's package: a follower that starts later must not find its release already published */
export const BASELINE_PACKAGE = 'base'
