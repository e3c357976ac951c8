/**
 * The install benchmark's command line, read once at start-up, and the
 * package it installs: how many 1 MiB files, the versions, how many files
 * each version rewrites. Bad values exit 2 naming the flag.
 */
import { parseArgs } from 'node:util'
import { intOpt } from '../procs.js'

export const MiB = 1024 * 1024
export const PKG = 'bench-app'
export const VERSIONS = ['1.0.0', '1.1.0', '1.2.0'] as const
export const HARD_LIMIT_MS = 10 * 60_000

export const { values: opts } = parseArgs({
  options: {
    mib: { type: 'string', default: process.env.BENCH_MIB ?? '200' },
    runs: { type: 'string', default: '5' },
    swaps: { type: 'string', default: '200' },
    help: { type: 'boolean', default: false }
  }
})

if (opts.help === true) {
  process.stdout.write('node dist/bench/install/main.js [--mib 200 (or BENCH_MIB)] [--runs 5] [--swaps 200]\n')
  process.exit(0)
}
export const FILES = intOpt('mib', opts.mib, 1, 4096)
export const RUNS = intOpt('runs', opts.runs, 1, 50)
export const SWAPS = intOpt('swaps', opts.swaps, 1, 100_000)
/** files each version rewrites: 1%, at least one */
export const CHANGED = Math.max(1, Math.round(FILES / 100))
