/**
 * Idle benchmark: what a mesh with nothing to do costs. Prints figures,
 * asserts nothing.
 *
 *   npm run bench:idle          (npm run build && node dist/bench/idle.js)
 *   node dist/bench/idle.js [--nodes 9] [--minutes 4] [--window 30]
 *
 * A bootstrap node and N nodes (LocalMesh, loopback, mDNS off) start, then
 * sit idle: no release, no rollout. For each variant, one after the other on
 * the same machine, it reads every daemon's CPU time (utime + stime of
 * /proc/<pid>/stat) at the start and end of each window after all are ready,
 * and prints the CPU they used together (% of one core) and per daemon, and
 * the median RSS at the end:
 *
 * - `default`: the daemon's own settings. With N <= 12 every node stays below
 *   its target of 12 peers for good: what a small fleet, the demo and the
 *   tests run.
 * - `at target` (the baseline): the same mesh with `--target-peers N-1`, so
 *   every node reaches its target and discovery has nothing to do.
 *
 * The gap between the two is what discovery costs a mesh smaller than its
 * target. Every process is stopped at the end, on an error and on Ctrl-C.
 */
import '../src/polyfill.js'
import { mkdtempSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { LocalMesh } from '../src/demo/local-mesh.js'
import { sampleProc } from './follow/proc-sampler.js'
import { machine } from './machine.js'
import { intOpt, runBenchmark, track, trackDir } from './procs.js'
import { mb, section, summarize, table } from './report.js'

const { values: opts } = parseArgs({
  options: {
    nodes: { type: 'string', default: '9' },
    minutes: { type: 'string', default: '4' },
    window: { type: 'string', default: '30' }
  }
})
const NODES = intOpt('nodes', opts.nodes, 2, 30)
const MINUTES = intOpt('minutes', opts.minutes, 1, 30)
const WINDOW_S = intOpt('window', opts.window, 5, 300)

interface Variant { label: string, args: string[] }
interface Window { fromS: number, totalPct: number, perDaemon: number[] }
interface Result { label: string, windows: Window[], rssMedian?: number, readyS: number, error?: string }

const VARIANTS: Variant[] = [
  { label: 'default (target 12)', args: [] },
  { label: `at target (--target-peers ${NODES - 1})`, args: ['--target-peers', String(NODES - 1)] }
]

function cpuMsOf (pids: number[]): number[] {
  return pids.map(pid => sampleProc(pid)?.cpuMs ?? NaN)
}

async function runVariant (root: string, v: Variant, i: number): Promise<Result> {
  const mesh = new LocalMesh({ dir: join(root, `mesh-${i}`), nodes: NODES, args: v.args })
  const untrack = track({
    stop: async () => { await mesh.stop() },
    kill: () => { for (const p of mesh.all) if (p.running) p.child.kill('SIGKILL') }
  })
  const started = Date.now()
  const result: Result = { label: v.label, windows: [], readyS: NaN }
  try {
    await mesh.start(60_000)
    result.readyS = (Date.now() - started) / 1000
    const pids = mesh.all.map(p => p.child.pid ?? -1)
    const windows = Math.floor(MINUTES * 60 / WINDOW_S)
    let before = cpuMsOf(pids)
    let at = Date.now()
    for (let w = 0; w < windows; w++) {
      await sleep(WINDOW_S * 1000)
      const after = cpuMsOf(pids)
      const now = Date.now()
      const perDaemon = after.map((a, k) => (a - before[k]) / (now - at) * 100)
      result.windows.push({ fromS: w * WINDOW_S, totalPct: perDaemon.reduce((s, x) => s + x, 0), perDaemon })
      process.stderr.write(`# ${v.label}: ${w * WINDOW_S}-${(w + 1) * WINDOW_S} s after ready: ${result.windows.at(-1)!.totalPct.toFixed(1)} % of a core together\n`)
      before = after
      at = now
    }
    result.rssMedian = summarize(pids.map(pid => sampleProc(pid)?.rss ?? NaN).filter(Number.isFinite))?.median
  } catch (err) {
    result.error = (err as Error).message.slice(0, 300)
  } finally {
    await mesh.stop()
    untrack()
  }
  return result
}

async function main (): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), 'umesh-bench-idle-'))
  trackDir(root)
  console.log('update-mesh idle benchmark (figures only; nothing is asserted)')
  console.log(`command: node dist/bench/idle.js --nodes ${NODES} --minutes ${MINUTES} --window ${WINDOW_S}`)
  for (const line of machine()) console.log(line)
  console.log(`a bootstrap node and ${NODES} nodes on loopback, idle (no release), per variant one after the other; CPU is utime + stime from /proc, as % of one core`)
  const results: Result[] = []
  for (const [i, v] of VARIANTS.entries()) results.push(await runVariant(root, v, i))

  console.log(section('CPU of the whole mesh (% of one core) per window after all were ready'))
  const rows: string[][] = []
  const count = Math.max(...results.map(r => r.windows.length))
  for (let w = 0; w < count; w++) {
    rows.push([`${w * WINDOW_S}-${(w + 1) * WINDOW_S} s`, ...results.map(r => r.windows[w] != null ? r.windows[w].totalPct.toFixed(1) : '-')])
  }
  console.log(table(['window', ...results.map(r => r.label)], rows))

  console.log(section('per variant'))
  const half = (r: Result): Window[] => r.windows.slice(Math.floor(r.windows.length / 2))
  console.log(table(['variant', 'ready after', 'whole run', 'second half', 'per daemon, second half (median / max)', 'RSS median at the end'], results.map(r => {
    if (r.error != null) return [r.label, 'failed', r.error, '', '', '']
    const mean = (ws: Window[]): number => ws.reduce((s, w) => s + w.totalPct, 0) / Math.max(1, ws.length)
    const per = summarize(half(r).flatMap(w => w.perDaemon))
    return [r.label, `${r.readyS.toFixed(1)} s`, `${mean(r.windows).toFixed(1)} %`, `${mean(half(r)).toFixed(1)} %`, per != null ? `${per.median.toFixed(2)} / ${per.max.toFixed(2)} %` : '-', mb(r.rssMedian)]
  })))
  console.log(`load average at the end ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
  return results.some(r => r.error != null) ? 1 : 0
}

await runBenchmark(main, (MINUTES * 2 + 5) * 60_000)
