/**
 * Data-plane benchmark: what each layer of the stack costs in CPU per MiB
 * moved, and how many socket reads it takes. Prints figures, asserts nothing.
 *
 *   npm run bench:dataplane            (npm run build && node dist/bench/dataplane/main.js)
 *   node dist/bench/dataplane/main.js [--quick] [--runs 3] [--size 64] [--rates 20,1000] [--link-seconds 8]
 *     [--max-seconds 30] [--variants stock,...] [--layers raw,noise,yamux,chunks] [--no-loopback]
 *     [--idle-ms 2000] [--write-kib 64] [--chunk-kib 256] [--batch 3] [--inflight 5] [--store-mib 256]
 *     [--profile DIR] [--profile-layers chunks]
 *
 * Each row moves data from a sender process to a receiver process (end.ts,
 * each its own child, so each end's CPU is its own) through one layer,
 * cumulative: `raw` (a net.Socket, 64 KiB writes with backpressure),
 * `noise` (the same through @libp2p/tcp's connection and Noise, no muxer),
 * `yamux` (two libp2p nodes, TCP + Noise + Yamux, one stream), `chunks` (the
 * chunks protocol from a real chunk store, fetched as the swarm fetches,
 * every chunk verified). yamux and chunks run once per --variants entry
 * (variants.ts; `stock` is libp2p's as it comes). Per row, the median of
 * --runs transfers: CPU ms per MiB of payload at the receiver, the sender and
 * both (process.cpuUsage() inside each end over its window, less its idle
 * rate measured for --idle-ms just before), the same as a ratio of the raw
 * layer's in the same environment, the receiver's TCP reads per MiB and
 * bytes per read ('data' events of its sockets) and its socket writes per
 * MiB (requests, window updates), throughput and wall time.
 *
 * Environments: loopback (127.0.0.1), then, as root, each --rates entry in
 * Mbit/s: two network namespaces (dpb-<pid>-s, dpb-<pid>-r) joined by a veth
 * pair with tbf on both ends: burst 1 ms at the rate (at least 4 KiB),
 * latency 50 ms (netns.ts says why). Not root: loopback only, and it says
 * so. Sizes: --size MiB on loopback; on a link what its rate moves in
 * --link-seconds (at most 1 GiB); every transfer stops asking for more after
 * --max-seconds. --quick is a sanity run of under a minute (1 run, 16 MiB,
 * 2 s links). --profile DIR adds one uncounted run per row with both ends
 * under the V8 profiler (over the transfer only) and prints their top self
 * time (--profile-layers picks the rows; profile-summary.js reads a saved
 * profile again). Namespaces, processes and temp folders are removed at the
 * end, on Ctrl-C and on exit.
 */
import '../../src/polyfill.js'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { machine } from '../machine.js'
import { runBenchmark, track } from '../procs.js'
import { wrap } from '../report.js'
import { LIBP2P_LAYERS } from './messages.js'
import { measureRow } from './measure.js'
import { cannotShape, createShapedLink, removeStaleNamespaces, tbfParams } from './netns.js'
import {
  BATCH, CHUNK_BYTES, IDLE_MS, INFLIGHT, LINK_SECONDS, LOOPBACK, LOOPBACK_BYTES, MAX_MS, MiB, PROFILE_DIR, PROFILE_LAYERS,
  QUICK, RATES, RUNS, SELECTED_LAYERS, STORE_BYTES, VARIANT_NAMES, WRITE_BYTES, linkBytes
} from './options.js'
import { out, printEnvironment } from './output.js'
import { summarizeProfile } from './profile-summary.js'
import { VARIANTS } from './variants.js'
import type { Environment, Row } from './measure.js'
import type { Layer } from './messages.js'

/** every (layer, variant) row of one environment, in order */
function plan (): Array<[Layer, string]> {
  return SELECTED_LAYERS.flatMap(layer => LIBP2P_LAYERS.includes(layer) ? VARIANT_NAMES.map(v => [layer, v] as [Layer, string]) : [[layer, 'stock'] as [Layer, string]])
}

async function runEnvironment (env: Environment, title: string): Promise<void> {
  const rows: Row[] = []
  const profiles: string[] = []
  for (const [layer, variant] of plan()) {
    const t0 = performance.now()
    const profile = PROFILE_DIR != null && PROFILE_LAYERS.includes(layer) ? join(PROFILE_DIR, `${env.name}-${layer}-${variant}`) : undefined
    const row = await measureRow(env, layer, variant, RUNS, profile)
    rows.push(row)
    if (profile != null && row.error == null) profiles.push(`${profile}-receiver.cpuprofile`, `${profile}-sender.cpuprofile`)
    process.stderr.write(`# ${env.name} ${layer}/${variant}: ${row.error != null ? 'failed' : 'done'} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
  }
  printEnvironment(title, rows)
  for (const file of profiles) {
    out(`\n  ${/-sender\./.test(file) ? 'sender' : 'receiver'} profile (one extra run, not counted): ${file}`)
    out(summarizeProfile(file, 12))
  }
}

async function main (): Promise<number> {
  const argv = process.argv.slice(2)
  out('update-mesh data-plane benchmark (figures only; nothing is asserted)')
  out(`command: node dist/bench/dataplane/main.js${argv.length > 0 ? ' ' + argv.join(' ') : ''}   (npm run bench:dataplane = npm run build && node dist/bench/dataplane/main.js)`)
  for (const line of machine()) out(line)
  out('targets: CPU per MiB moved <= 20 ms over the shaped links, <= 8 ms on loopback (first of all the receiver\'s: rx ms/MiB)')
  out(wrap(`each row: ${RUNS} run(s), median; writes of ${WRITE_BYTES / 1024} KiB (raw, noise, yamux); chunks of ${CHUNK_BYTES / 1024} KiB, ${BATCH} per GET, ${INFLIGHT} GETs in flight, from a store of up to ${STORE_BYTES / MiB} MiB; idle CPU measured for ${IDLE_MS} ms before each run; transfers stop asking after ${MAX_MS / 1000} s${QUICK ? '; --quick' : ''}`, 116, ''))
  for (const name of VARIANT_NAMES) out(`variant ${name}: ${VARIANTS[name].description}`)
  out(wrap('columns: rx/tx = receiver/sender CPU (user+system, less idle) per MiB of payload, rx sys its kernel part (the user/system split is sampled at the scheduler tick, the sum is exact); x raw = the same over the raw row\'s; reads and writes = the receiver\'s TCP \'data\' events and socket.write calls (its requests, window updates)', 116, ''))
  if (PROFILE_DIR != null) mkdirSync(resolve(PROFILE_DIR), { recursive: true })

  if (LOOPBACK) await runEnvironment({ name: 'loopback', senderIp: '127.0.0.1', bytes: LOOPBACK_BYTES }, `loopback (127.0.0.1), ${LOOPBACK_BYTES / MiB} MiB per transfer`)
  if (RATES.length === 0) return 0
  const why = cannotShape()
  if (why != null) {
    out(`\nshaped links (${RATES.join(', ')} Mbit/s) skipped: ${why}; loopback only`)
    return 0
  }
  removeStaleNamespaces()
  const link = createShapedLink()
  track({ stop: async () => { link.remove() }, kill: () => { link.remove() } })
  for (const mbit of RATES) {
    const qdisc = link.shape(mbit)
    const { burst, latencyMs } = tbfParams(mbit)
    const bytes = linkBytes(mbit)
    const title = `${mbit} Mbit/s (veth between two namespaces, tbf rate ${mbit}mbit burst ${burst} latency ${latencyMs}ms both ways), ${bytes / MiB} MiB per transfer (${LINK_SECONDS} s at the rate)`
    process.stderr.write(`# ${qdisc}\n`)
    await runEnvironment({ name: `${mbit}mbit`, senderIp: link.senderIp, senderNs: link.senderNs, receiverNs: link.receiverNs, bytes }, title)
  }
  return 0
}

/** each row: (runs + 1) transfers of at most MAX_MS plus time to start, warm up and idle */
const rowsPerEnv = SELECTED_LAYERS.reduce((n, l) => n + (LIBP2P_LAYERS.includes(l) ? VARIANT_NAMES.length : 1), 0)
const hardLimitMs = (RATES.length + 1) * rowsPerEnv * ((RUNS + 1) * (MAX_MS + IDLE_MS + 10_000) + 60_000)
await runBenchmark(main, hardLimitMs)
