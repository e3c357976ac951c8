/**
 * Scale benchmark: prints figures, asserts nothing.
 *
 *   npm run bench:scale          (npm run build && node dist/bench/scale/main.js)
 *   node dist/bench/scale/main.js [--nodes 50] [--mib 16] [--batch 10] [--waves "canary:1,10%,50%,100%"]
 *       [--gate "success>=1,soak=2s"] [--max-parallel 10] [--metrics-every 5] [--poll-ms 1000]
 *       [--run-timeout 240] [--order waves,single]
 *
 * --nodes real `umesh node` daemons (the bundle, dist/umesh.mjs) on loopback,
 * mDNS off, with a bootstrap node and a publisher that coordinates rollouts,
 * all started by LocalMesh (so with the memory settings MeshProcess passes),
 * nodes in batches of --batch, each batch ready before the next spawns.
 * Node-1 is tagged canary; every --metrics-every-th node opens an HTTP
 * listener so its /metrics gives bytes per protocol (its RSS is reported
 * apart: the listener costs about 8 MB).
 *
 * Setup: a 1 MiB version 1.0.0 that every node installs, then rolled out
 * "100%" so every node is governed by rollouts. Then one round per variant
 * (--order): a fresh --mib MiB version is added and its rollout started at
 * once (the same gate and max-parallel for both): the waves under test, and
 * the single wave "100%" as the baseline. Each round is timed from `release
 * add` to every node holding the release and to every node running it
 * healthy; traffic per node from status and /metrics before and after the
 * round; CPU and RSS of every process from /proc.
 *
 * Between start-up and the first release the mesh is given time to settle
 * (settle.ts). Every wait is bounded (--run-timeout per round, 90 s per batch
 * to ready, --settle-timeout to settle,
 * a hard limit that adds those up plus 5 minutes); every process is stopped (finally, SIGINT,
 * SIGTERM) and the temp dir removed.
 */
import '../../src/polyfill.js'
import { mkdtempSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { CLI_PATH } from '../../src/demo/local-mesh.js'
import { MMAP_THRESHOLD_ENV } from '../../src/util/memory-settings.js'
import { createClientNode } from '../../src/network/client-node.js'
import { umeshOk, wallNow } from '../cli-runs.js'
import { machine } from '../machine.js'
import { runBenchmark, track, trackDir } from '../procs.js'
import { ms, seconds, summarize } from '../report.js'
import { requests } from '../status-requests.js'
import { startFleet } from './fleet.js'
import { BATCH, HARD_LIMIT_MS, KEEP, MAX_PARALLEL, MIB, MIN_CONNECTIONS, MMAP_THRESHOLD, NODE_FLAGS, NODES, ORDER, opts, SETTLE_TIMEOUT_MS } from './options.js'
import { out, progress } from './output.js'
import { printProcesses, printTargets, printTimes, printTraffic } from './print.js'
import { firstRelease, runRound } from './round.js'
import { settle } from './settle.js'
import type { Settled } from './settle.js'
import type { Fleet } from './fleet.js'
import type { Round } from './round.js'

async function main (): Promise<number> {
  const t0 = performance.now()
  const loadStart = loadavg()[0]
  const root = mkdtempSync(join(tmpdir(), 'umesh-bench-scale-'))
  if (!KEEP) trackDir(root)
  const argv = process.argv.slice(2)
  out('update-mesh scale benchmark (figures only; nothing is asserted)')
  out(`command: node dist/bench/scale/main.js${argv.length > 0 ? ' ' + argv.join(' ') : ''}   (npm run bench:scale = npm run build && node dist/bench/scale/main.js)`)
  for (const line of machine(CLI_PATH)) out(line)
  if (KEEP) out(`temp dir (kept): ${root}`)
  out(`plan: ${NODES} nodes (batches of ${BATCH}) + bootstrap + publisher/coordinator on loopback; ${MIB} MiB per release; gate "${opts.gate}", max-parallel ${MAX_PARALLEL}; rounds: ${ORDER.join(', ')}`)
  out(`daemons' memory settings: ${MMAP_THRESHOLD_ENV}=${MMAP_THRESHOLD}, node flags "${NODE_FLAGS.join(' ')}"`)

  const client = await createClientNode()
  track({ stop: async () => { await client.stop() }, kill: () => {} })
  const repo = join(root, 'repo')
  const rounds: Round[] = []
  let fleet: Fleet | undefined
  let error: string | undefined
  let from = 0
  let setup: Round | undefined
  let settled: Settled | undefined
  try {
    await umeshOk(['repo', 'init', '--repo', repo])
    progress(`starting a bootstrap node, the publisher and ${NODES} nodes in batches of ${BATCH}`)
    fleet = await startFleet(join(root, 'mesh'), repo)
    const ctx = { root, repo, client, fleet }
    if (SETTLE_TIMEOUT_MS > 0) {
      progress(`settling: until every node has ${MIN_CONNECTIONS} connections and the fleet's connections and CPU stop changing (at most ${SETTLE_TIMEOUT_MS / 1000} s)`)
      settled = await settle(client, fleet, { minConnections: Math.min(MIN_CONNECTIONS, NODES + 1), timeoutMs: SETTLE_TIMEOUT_MS, progress })
    }
    progress('setup: 1.0.0 (1 MiB) to every node, then rolled out "100%" so every node is governed by rollouts')
    setup = await firstRelease(ctx)
    from = wallNow()
    let seed = 2
    for (const variant of ORDER) {
      const r = await runRound(ctx, variant, `1.${seed - 1}.0`, seed)
      rounds.push(r)
      seed++
      if (r.error != null) progress(`${variant}: ${r.error}`)
    }
  } catch (err) {
    error = (err as Error).message.slice(0, 2000)
  } finally {
    progress('stopping every daemon')
    if (fleet != null) await fleet.stop()
  }

  if (fleet != null) {
    out(`\nstart: ${NODES} nodes + 2 ready ${seconds(fleet.readyMs)} after the first spawn; ${settled == null ? 'no wait to settle' : `${settled.settled ? 'settled' : 'NOT settled'} ${seconds(settled.ms)} later (connections per node min / median / max ${settled.connections.min} / ${settled.connections.median} / ${settled.connections.max}, the fleet's CPU ${settled.cores.toFixed(2)} cores, load ${settled.load.toFixed(1)})`}; setup (1.0.0 to all, installed, "100%" rollout): all held ${seconds(setup?.allHeldAt != null ? setup.allHeldAt - setup.t0 : undefined)}, all healthy ${seconds(setup?.allHealthyAt != null ? setup.allHealthyAt - setup.t0 : undefined)}`)
    if (rounds.length > 0) {
      printTimes(rounds)
      printTargets(rounds, fleet, from)
      printTraffic(rounds, fleet)
      printProcesses(rounds, fleet, from)
    }
  }
  if (error != null) out(`\nerror: ${error}`)
  const rt = summarize(requests.ms)
  out(`\nstatus requests: ${requests.made} (${requests.failed} failed${requests.errors.size > 0 ? ': ' + [...requests.errors].map(([e, c]) => `${c} x ${e}`).join('; ') : ''}); round trip median ${ms(rt?.median)}, max ${ms(rt?.max)}`)
  out(`benchmark wall time ${seconds(performance.now() - t0)}; load average at the end ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
  if (loadStart > 1) out(`note: the 1-minute load average was ${loadStart.toFixed(2)} on ${cpus().length} CPU(s) when the benchmark started: other work was running, and the figures include that contention`)
  return error != null || rounds.some(r => r.error != null) ? 1 : 0
}

await runBenchmark(main, HARD_LIMIT_MS)
