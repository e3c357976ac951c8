/**
 * Rollout benchmark: prints figures, asserts nothing.
 *
 *   npm run bench:rollout          (npm run build && node dist/bench/rollout/main.js)
 *   node dist/bench/rollout/main.js [--nodes 10] [--runs 2] [--waves "canary:1,10%,50%,100%"]
 *       [--gate "success>=1,soak=2s"] [--max-parallel 3] [--single-max-parallel 10] [--no-control]
 *       [--poll-ms 200] [--run-timeout 60] [--stall 15]
 *
 * All processes are real `umesh` daemons (the bundle, dist/umesh.mjs) on
 * loopback, mDNS off, started with LocalMesh: a bootstrap node, a publisher
 * that coordinates (--repo --coordinator) and --nodes nodes that follow and
 * install `app` (health check `/bin/sh bin/health`, no hooks), node-1 tagged
 * canary. Version 1.0.0 goes to everyone first (waves "100%"), so every later
 * release is governed by rollouts. Then --runs rounds, each of:
 *
 *   waves    the rollout under test: --waves, --gate, --max-parallel;
 *   single   the baseline: one wave "100%", the same gate, --single-max-parallel;
 *   control  (unless --no-control) one wave "100%", the same gate and the
 *            waves' --max-parallel: splits the overhead into install
 *            staggering and waves proper;
 *
 * in alternating order (round 1 waves first, round 2 waves last, ...), so a
 * drift in machine load hits all alike. Each run publishes a new version
 * (`umesh release add` of releaseSource from test/helpers/install-fixture:
 * 8 files of 128 KiB, one changed per version), waits until every node holds
 * it (status protocol), then times `umesh rollout start` (origin: just before
 * the CLI is spawned) to the first poll (every --poll-ms, all nodes at once)
 * in which every node reports current = the new version; and to the
 * coordinator's "completed" event. Wave open and gate times come from the
 * coordinator's state file (<repo>/coordinator/state.json), install start and
 * end from each node's install history (history.jsonl); all are wall-clock
 * times of the same machine.
 *
 * Runs that stall are marked, explained and left out of the medians, and
 * up to 3 more runs are made for a variant short of --runs good ones:
 *   - a node still on the old version --stall seconds after its wave opened
 *     (seen from here): the run is given up, the rollout halted (no
 *     rollback), and the node's last follower error quoted. On loopback this
 *     has been "could not read the rollout ... no peer holds
 *     metadata/N.rollouts.json": followers do not mirror the delegated
 *     rollouts role's metadata and a node asks at most 8 peers per file, so
 *     a node whose 8 do not include the publisher keeps the old document
 *     (see the printed note);
 *   - a node that installed the version before `rollout start` (plain
 *     autoUpdate: a node that has never verified a rollout document is not
 *     governed by rollouts);
 *   - a wave with no node (percentage waves are drawn by a hash of peer id
 *     and rollout id, so on a small fleet a draw can leave one empty): the
 *     coordinator passes it once its soak time is over; should it not have
 *     moved on after the soak time + --stall, the benchmark promotes it as
 *     an operator would (`umesh rollout promote`), and halts an empty last
 *     wave (no rollback) once every node is healthy. Each node's wave is
 *     predicted from the signed document (waveOf), as the node computes it.
 *
 * Each run is bounded by --run-timeout, new runs stop starting after a budget
 * and the whole run is cut off at a hard limit; every process is stopped
 * (finally, SIGINT, SIGTERM) and the temp dir removed.
 */
import '../../src/polyfill.js'
import { mkdtempSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { CLI_PATH } from '../../src/demo/local-mesh.js'
import { createClientNode } from '../../src/network/client-node.js'
import { CANARY_TAG } from '../../src/rollout/waves.js'
import { machine } from '../machine.js'
import { runBenchmark, track, trackDir } from '../procs.js'
import { ms, seconds, summarize } from '../report.js'
import { CANARY_NODES, CONTROL, HARD_LIMIT_MS, NODES, PACKAGE, RUNS, SINGLE_MAX_PARALLEL, SOAK_MS, STALL_MS, VARIANTS, budgetLeft, opts } from './options.js'
import { out, progress } from './output.js'
import { printRuns, printWaves } from './print-runs.js'
import { printStalls } from './print-stalls.js'
import { printSummary } from './print-summary.js'
import { startMesh, umesh, umeshOk, wallNow } from './processes.js'
import { rolloutRun } from './rollout-run.js'
import { governed, publish, readDoc, settle, waitHeld } from './rollouts.js'
import { clean } from './run.js'
import { currentOf, pollUntil, requests, watch } from './status.js'
import type { Variant } from './options.js'
import type { Run } from './run.js'

async function main (): Promise<number> {
  const t0 = performance.now()
  const loadStart = loadavg()[0]
  const root = mkdtempSync(join(tmpdir(), 'umesh-bench-rollout-'))
  trackDir(root)
  const argv = process.argv.slice(2)
  out('update-mesh rollout benchmark (figures only; nothing is asserted)')
  out(`command: node dist/bench/rollout/main.js${argv.length > 0 ? ' ' + argv.join(' ') : ''}   (npm run bench:rollout = npm run build && node dist/bench/rollout/main.js)`)
  for (const line of machine(CLI_PATH)) out(line)
  out(`temp dir: ${root} (removed at the end)`)

  const client = await createClientNode()
  track({ stop: async () => { await client.stop() }, kill: () => {} })

  const repo = join(root, 'repo')
  const variants: Variant[] = CONTROL ? ['waves', 'single', 'control'] : ['waves', 'single']
  const runs: Run[] = []
  let setupError: string | undefined
  let setup: { readyMs: number, firstMs?: number, firstAllMs?: number, governed?: string[] } | undefined
  const mesh = startMesh(join(root, 'mesh'))
  try {
    progress('repo init, release add 1.0.0')
    await umeshOk(['repo', 'init', '--repo', repo])
    await publish(root, repo, '1.0.0', 0)
    progress(`starting a bootstrap node, a publisher (--repo --coordinator) and ${NODES} nodes (node-1 tagged canary)`)
    const tMesh = performance.now()
    await mesh.start(60_000)
    const publisher = mesh.addNode('publisher', ['--repo', repo, '--coordinator'])
    const packages = JSON.stringify({ [PACKAGE]: { health: { command: ['/bin/sh', 'bin/health'], timeoutMs: 5_000, retries: 1, intervalMs: 200 } } })
    const procs = Array.from({ length: NODES }, (_x, i) => mesh.addNode(`node-${i + 1}`, ['--trusted-root', join(repo, 'metadata', '1.root.json'), '--follow', PACKAGE, '--packages', packages, ...(i < CANARY_NODES ? ['--tag', CANARY_TAG] : [])]))
    await Promise.all([publisher, ...procs].map(async p => { await p.waitReady(60_000) }))
    setup = { readyMs: performance.now() - tMesh }
    const nodes = procs.map((p, i) => watch(p, i < CANARY_NODES ? [CANARY_TAG] : []))
    const ctx = { root, repo, client, nodes, publisher, publisherId: readDaemonFile(publisher.dataDir).peerId }

    progress('every node holding 1.0.0, then rolling it out to all at once (waves "100%")')
    await waitHeld(client, nodes, '1.0.0', 60_000)
    const tFirst = wallNow()
    await umeshOk(['rollout', 'start', '--repo', repo, '--package', PACKAGE, '--version', '1.0.0', '--waves', '100%', '--gate', opts.gate, '--max-parallel', String(SINGLE_MAX_PARALLEL)])
    const behind = await pollUntil(client, nodes, tFirst + 90_000, (_n, s) => currentOf(s) === '1.0.0')
    if (behind.length > 0) throw new Error(`1.0.0 did not reach ${behind.map(n => n.name).join(', ')} within 90 s`)
    setup.firstAllMs = wallNow() - tFirst
    const first = readDoc(repo)
    if (first != null) await settle(repo, first.id, SOAK_MS + STALL_MS + 5_000)
    setup.firstMs = wallNow() - tFirst
    setup.governed = nodes.filter(governed).map(n => n.name)

    let index = 1
    const plan: Array<{ round: number, variant: Variant }> = []
    for (let round = 1; round <= RUNS; round++) {
      const order = round % 2 === 1 ? variants : [...variants].reverse()
      for (const variant of order) plan.push({ round, variant })
    }
    const runOne = async (round: number, variant: Variant): Promise<void> => {
      const run: Run = { round, variant, version: `1.${index}.0`, t0: wallNow(), waves: [], sizes: [], stalls: [], emptyGates: [], early: [] }
      runs.push(run)
      try {
        await rolloutRun(ctx, run, index)
      } catch (err) {
        run.error = (err as Error).message.slice(0, 1500)
        // leave nothing running for the next run
        const d = readDoc(repo)
        if (d?.state === 'running' || d?.state === 'paused') await umesh(['rollout', 'halt', '--repo', repo, '--package', PACKAGE])
      }
      index++
    }
    for (const { round, variant } of plan) {
      if (budgetLeft() < (variant === 'waves' ? 45_000 : 25_000)) {
        progress(`skipping round ${round}, ${variant}: ${seconds(budgetLeft())} of the budget left`)
        continue
      }
      await runOne(round, variant)
    }
    // runs that stalled are left out of the medians: up to 3 more runs, for the variants short of --runs good ones, while the budget lasts
    for (let extra = 1; extra <= 3; extra++) {
      const short = variants.map(v => ({ v, good: runs.filter(r => r.variant === v && clean(r)).length })).filter(x => x.good < RUNS).sort((x, y) => x.good - y.good)[0]
      if (short == null || budgetLeft() < (short.v === 'waves' ? 45_000 : 25_000)) break
      await runOne(RUNS + extra, short.v)
    }
  } catch (err) {
    setupError = (err as Error).message.slice(0, 2000)
  } finally {
    progress('stopping the mesh')
    await mesh.stop()
  }

  out(`setup: bootstrap, publisher and ${NODES} nodes ready in ${seconds(setup?.readyMs)}; 1.0.0 to every node at once (waves "100%", gate "${opts.gate}", max-parallel ${SINGLE_MAX_PARALLEL}; first install, nothing to compare): all healthy after ${seconds(setup?.firstAllMs)}, settled after ${seconds(setup?.firstMs)}; then ${setup?.governed?.length ?? '-'} of ${NODES} nodes governed by rollouts (the mark in the install root)`)
  out(`plan: per round, in alternating order: ${variants.map(v => `${v} = ${VARIANTS[v].label}`).join('; ')}; gate "${opts.gate}" for all; ${RUNS} round(s)`)
  if (runs.length > 0) {
    printRuns(runs)
    printWaves(runs)
    printSummary(runs, variants)
    printStalls(runs)
  }
  if (setupError != null) out(`\nerror: ${setupError}`)
  out(`\nstatus requests: ${requests.made} (${requests.failed} failed${requests.errors.size > 0 ? ': ' + [...requests.errors].map(([e, c]) => `${c} x ${e}`).join('; ') : ''}); round trip median ${ms(summarize(requests.ms)?.median)}, max ${ms(summarize(requests.ms)?.max)}`)
  out(`benchmark wall time ${seconds(performance.now() - t0)}; load average at the end ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
  if (loadStart > 1) out(`note: the 1-minute load average was ${loadStart.toFixed(2)} on ${cpus().length} CPU(s) when the benchmark started: other work was running, and the figures include that contention`)
  return setupError != null || runs.some(r => r.error != null) ? 1 : 0
}

await runBenchmark(main, HARD_LIMIT_MS)
