/**
 * The data-plane benchmark's command line, read once at start-up.
 */
import { parseArgs } from 'node:util'
import { intOpt } from '../procs.js'
import { LAYERS } from './messages.js'
import { DEFAULT_VARIANT, VARIANTS } from './variants.js'
import type { Layer } from './messages.js'

export const MiB = 1024 * 1024

const USAGE = `node dist/bench/dataplane/main.js [--quick] [--runs 3] [--size MiB(64)] [--rates 20,1000] [--link-seconds 8]
  [--max-seconds 30] [--variants stock,...] [--layers raw,noise,yamux,chunks] [--no-loopback] [--idle-ms 2000]
  [--write-kib 64] [--chunk-kib 256] [--batch 3] [--inflight 5] [--store-mib 256] [--profile DIR] [--profile-layers chunks]
`

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    size: { type: 'string' },
    rates: { type: 'string', default: '20,1000' },
    'link-seconds': { type: 'string' },
    'max-seconds': { type: 'string' },
    variants: { type: 'string', default: DEFAULT_VARIANT },
    layers: { type: 'string', default: LAYERS.join(',') },
    'no-loopback': { type: 'boolean', default: false },
    'idle-ms': { type: 'string' },
    'write-kib': { type: 'string', default: '64' },
    'chunk-kib': { type: 'string', default: '256' },
    batch: { type: 'string', default: '3' },
    inflight: { type: 'string', default: '5' },
    'store-mib': { type: 'string', default: '256' },
    profile: { type: 'string' },
    'profile-layers': { type: 'string', default: LAYERS.join(',') },
    help: { type: 'boolean', default: false }
  }
})

if (opts.help === true) {
  process.stdout.write(USAGE)
  process.exit(0)
}

function list<T extends string> (name: string, value: string, allowed: readonly T[]): T[] {
  const items = value.split(',').map(s => s.trim()).filter(s => s !== '')
  const bad = items.filter(i => !allowed.includes(i as T))
  if (bad.length > 0 || items.length === 0) {
    process.stderr.write(`--${name}: expected some of ${allowed.join(', ')}, found "${value}"\n`)
    process.exit(2)
  }
  return items as T[]
}

const quick = opts.quick === true
export const QUICK = quick
export const RUNS = intOpt('runs', opts.runs ?? (quick ? '1' : '3'), 1, 50)
/** bytes moved per transfer on loopback */
export const LOOPBACK_BYTES = intOpt('size', opts.size ?? (quick ? '16' : '64'), 1, 16384) * MiB
export const RATES = opts.rates === '' ? [] : opts.rates.split(',').map(r => intOpt('rates', r, 1, 10_000))
/** on a shaped link a transfer is what the rate moves in this many seconds, at most 1 GiB */
export const LINK_SECONDS = intOpt('link-seconds', opts['link-seconds'] ?? (quick ? '2' : '8'), 1, 600)
export const MAX_LINK_BYTES = 1024 * MiB
/** every transfer stops asking for more after this long */
export const MAX_MS = intOpt('max-seconds', opts['max-seconds'] ?? (quick ? '5' : '30'), 1, 600) * 1000
export const VARIANT_NAMES = list('variants', opts.variants, Object.keys(VARIANTS))
export const SELECTED_LAYERS = list<Layer>('layers', opts.layers, LAYERS)
export const LOOPBACK = opts['no-loopback'] !== true
export const IDLE_MS = intOpt('idle-ms', opts['idle-ms'] ?? (quick ? '500' : '2000'), 0, 60_000)
export const WRITE_BYTES = intOpt('write-kib', opts['write-kib'], 1, 1024) * 1024
export const CHUNK_BYTES = intOpt('chunk-kib', opts['chunk-kib'], 1, 1024) * 1024
export const BATCH = intOpt('batch', opts.batch, 1, 32)
export const INFLIGHT = intOpt('inflight', opts.inflight, 1, 8)
export const STORE_BYTES = intOpt('store-mib', opts['store-mib'], 1, 4096) * MiB
export const PROFILE_DIR = opts.profile
export const PROFILE_LAYERS = list<Layer>('profile-layers', opts['profile-layers'], LAYERS)

/** bytes moved per transfer on a link of `mbit` */
export function linkBytes (mbit: number): number {
  return Math.min(MAX_LINK_BYTES, Math.max(MiB, Math.round(mbit * 1e6 / 8 * LINK_SECONDS / MiB) * MiB))
}
