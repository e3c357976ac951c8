/**
 * Start-up benchmark: prints figures, asserts nothing.
 *
 *   npm run bench                      (npm run build && node dist/bench/startup/main.js)
 *   node dist/bench/startup/main.js [--runs 7] [--nodes 20] [--discovery-timeout 100] [--skip-bundle]
 *
 * 1. one node, spawn() to its "ready:" line (all start-up phases done), with a
 *    fresh data dir and again on the same data dir, beside baselines measured
 *    in the same run: `node -e 0`, importing the libp2p packages the daemon
 *    loads, and importing the daemon's whole module graph; both for the
 *    compiled modules and for the bundle `umesh` runs (dist/umesh.mjs);
 *    per-phase durations from status.
 * 2. a mesh of N nodes and a bootstrap node (LocalMesh) until full discovery
 *    (defined in the output), polled over the status protocol, bounded.
 * 3. resident memory per daemon from status: idle single node and every node
 *    of the converged mesh.
 *
 * Every process it starts is stopped (finally, SIGINT, SIGTERM) and its temp
 * dir removed.
 */
import '../../src/polyfill.js'
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { createClientNode } from '../../src/network/client-node.js'
import { PROJECT_ROOT, machine } from '../machine.js'
import { runBenchmark, track, trackDir } from '../procs.js'
import { mb, ms, section, seconds, summarize, table } from '../report.js'
import { meshRun } from './mesh-run.js'
import { BUNDLED_CLI, COMPILED_CLI, LIBP2P_MODULES, NODES, READY_TARGET_MS, RSS_TARGET_BYTES, opts } from './options.js'
import { out } from './output.js'
import { printMemory } from './print-memory.js'
import { printMesh } from './print-mesh.js'
import { printSingle } from './print-single.js'
import { baselines, startSeries } from './single-node.js'
import { readyVerdict } from './verdicts.js'
import type { Bundle } from '../procs.js'
import type { MeshResult } from './mesh-run.js'
import type { Series } from './single-node.js'

async function main (): Promise<number> {
  const t0 = performance.now()
  const loadStart = loadavg()[0]
  const root = mkdtempSync(join(tmpdir(), 'umesh-bench-'))
  trackDir(root)
  const argv = process.argv.slice(2)
  out('update-mesh start-up benchmark (figures only; nothing is asserted)')
  out(`command: node dist/bench/startup/main.js${argv.length > 0 ? ' ' + argv.join(' ') : ''}   (npm run bench = npm run build && node dist/bench/startup/main.js)`)
  for (const line of machine()) out(line)
  out(`targets: ready in under ${READY_TARGET_MS / 1000} s after process start; under ${mb(RSS_TARGET_BYTES)} resident per daemon`)

  const client = await createClientNode()
  track({ stop: async () => { await client.stop() }, kill: () => {} })

  const polyfill = pathToFileURL(join(PROJECT_ROOT, 'dist', 'src', 'polyfill.js')).href
  const nodeCommand = pathToFileURL(join(PROJECT_ROOT, 'dist', 'src', 'cli', 'commands', 'node.js')).href
  const base = await baselines([
    { label: 'node -e 0 (process only)', args: ['-e', '0'] },
    {
      label: `import libp2p packages (${LIBP2P_MODULES.length}), then exit`,
      args: ['--input-type=module', '-e', `await import(${JSON.stringify(polyfill)}); await Promise.all(${JSON.stringify(LIBP2P_MODULES)}.map(m => import(m))); process.exit(0)`]
    },
    {
      label: 'import the daemon\'s module graph, then exit',
      args: ['--input-type=module', '-e', `await import(${JSON.stringify(polyfill)}); await import(${JSON.stringify(nodeCommand)}); process.exit(0)`]
    }
  ])

  // the compiled modules, as `node dist/node/main.js` runs them, and the
  // bundle that `umesh` runs (dist/umesh.mjs, built by npm run build)
  const series: Series[] = [await startSeries('daemon, compiled modules', COMPILED_CLI, join(root, 'single'), client)]
  let bundle: Bundle | string | undefined
  if (opts['skip-bundle'] === true) {
    bundle = 'skipped (--skip-bundle)'
  } else if (!existsSync(BUNDLED_CLI)) {
    bundle = `${BUNDLED_CLI} is missing: run npm run build`
  } else {
    // the entry file and its chunks (each command, the HTTP listener), which it loads on use
    const chunks = join(dirname(BUNDLED_CLI), 'chunks')
    const chunkBytes = existsSync(chunks) ? readdirSync(chunks).reduce((n, f) => n + statSync(join(chunks, f)).size, 0) : 0
    bundle = { file: `${BUNDLED_CLI} + chunks/`, bytes: statSync(BUNDLED_CLI).size + chunkBytes }
    try {
      series.push(await startSeries('daemon, bundle (umesh)', BUNDLED_CLI, join(root, 'single-bundled'), client))
    } catch (err) {
      bundle = `the bundled daemon did not start: ${(err as Error).message.slice(0, 800)}`
    }
  }

  let mesh: MeshResult | undefined
  let meshError: string | undefined
  try {
    mesh = await meshRun(join(root, 'mesh'), client)
  } catch (err) {
    meshError = (err as Error).message.slice(0, 1500)
  }

  printSingle(base, series, bundle)
  printMesh(mesh, meshError)
  const rssVerdicts = printMemory(series, mesh)

  out(section('Summary against the targets'))
  const summary: string[][] = []
  for (const s of series) {
    const f = summarize(s.fresh.map(r => r.readyMs))
    const e = summarize(s.existing.map(r => r.readyMs))
    summary.push([`ready after process start, ${s.label}, fresh dir (median / max)`, `< ${READY_TARGET_MS} ms`, `${ms(f?.median)} / ${ms(f?.max)}`, readyVerdict(f)])
    summary.push([`ready after process start, ${s.label}, existing dir (median / max)`, `< ${READY_TARGET_MS} ms`, `${ms(e?.median)} / ${ms(e?.max)}`, readyVerdict(e)])
  }
  for (const [label, value, verdict] of rssVerdicts) summary.push([label, `< ${mb(RSS_TARGET_BYTES)}`, value, verdict])
  summary.push([`full discovery, ${NODES} nodes, all ready -> converged`, '(none set)', mesh?.converged === true ? seconds(mesh.discoveryFromReadyMs) : 'not reached', mesh?.converged === true ? `converged in ${mesh.rounds} poll round(s)` : (mesh?.gaveUp ?? 'mesh did not run')])
  out(table(['', 'target', 'measured', 'verdict'], summary))
  out(`\nbenchmark wall time ${seconds(performance.now() - t0)}; load average at the end ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
  if (loadStart > 1) out(`note: the 1-minute load average was ${loadStart.toFixed(2)} on ${cpus().length} CPU(s) when the benchmark started: other work was running, and the figures include that contention`)
  return meshError != null || mesh?.startError != null ? 1 : 0
}

await runBenchmark(main)
