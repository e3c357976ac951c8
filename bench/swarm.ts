/**
 * Swarm benchmark: update-mesh beside the reference systems of the shared
 * swarm-bench harness (one seeder, N receivers, every link capped by tbf in
 * network namespaces). Prints figures, asserts nothing.
 *
 *   npm run bench:swarm          (npm run build && node dist/bench/swarm.js)
 *   node dist/bench/swarm.js [--n 8] [--mib 32] [--rate 20] [--only umesh,http,helia-tuned,bittorrent]
 *
 * Runs, one after the other at the same N, S_MIB and RATE_MBIT, the
 * harness's `run.sh` for: update-mesh (this project's scenario folder,
 * bench/swarm: a publisher node that announces the release at GO, N node
 * daemons that follow and install it; done = the release held in full,
 * verified), `http` (one central server), `helia-tuned` (IPFS bitswap) and
 * `bittorrent` (aria2 + opentracker); `helia` (library defaults, stalls at
 * N=8) only when named in --only. Each run's results go to
 * bench/swarm/results (SB_RESULTS: runs.jsonl and runs/<stamp>-...; git-ignored);
 * its final JSON line is read back and one comparison table printed, with
 * update-mesh's install time (held -> installed, outside the timed figure)
 * from its receivers' done files, and update-mesh's max and p50 as ratios of
 * http's and bittorrent's.
 *
 * Needs root (network namespaces) and the harness at ../shared/swarm-bench
 * beside the project (env SWARM_BENCH to point elsewhere). A reference
 * scenario whose dependencies are missing (the Helia packages, aria2) is
 * reported as skipped with what to install. The harness's env knobs
 * (TIMEOUT_S, SETUP_TIMEOUT_S, KEEP_RUN_DIR...) pass through, and so does
 * UMESH_CLI (the umesh bundle the update-mesh scenario runs; default
 * dist/umesh.mjs). One harness run at a time: run.sh takes
 * /tmp/swarm-bench.lock, and a run that finds it held is reported as failed.
 */
import { spawn } from 'node:child_process'
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { delimiter, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { intOpt, runBenchmark, track } from './procs.js'
import { section, table, wrap } from './report.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const HARNESS = resolve(process.env.SWARM_BENCH ?? join(ROOT, '..', 'shared', 'swarm-bench'))
const RUN_SH = join(HARNESS, 'run.sh')
const SCENARIO_DIR = join(ROOT, 'bench', 'swarm')
const RESULTS = join(SCENARIO_DIR, 'results')
const UMESH_CLI = resolve(process.env.UMESH_CLI ?? join(ROOT, 'dist', 'umesh.mjs'))

const { values: opts } = parseArgs({
  options: {
    n: { type: 'string', default: '8' },
    mib: { type: 'string', default: '32' },
    rate: { type: 'string', default: '20' },
    only: { type: 'string', default: 'umesh,http,helia-tuned,bittorrent' },
    help: { type: 'boolean', default: false }
  }
})

if (opts.help === true) {
  process.stdout.write('node dist/bench/swarm.js [--n 8] [--mib 32] [--rate MBIT(20)] [--only umesh,http,helia-tuned,bittorrent]\n' +
    '    scenarios: umesh (or update-mesh), http, helia-tuned, helia, bittorrent; run as root; harness: $SWARM_BENCH or ../shared/swarm-bench\n')
  process.exit(0)
}
const N = intOpt('n', opts.n, 1, 64)
const MIB = intOpt('mib', opts.mib, 1, 2048)
const RATE = intOpt('rate', opts.rate, 1, 10_000)

interface Scenario {
  key: string
  label: string
  /** what run.sh is given: a name from the harness's scenarios/, or a folder path */
  arg: string
  /** the folder name run.sh files the run under */
  dirName: string
  /** why it cannot run here, with what to do, or undefined */
  missing: () => string | undefined
}

function onPath (cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    try {
      accessSync(join(dir, cmd), constants.X_OK)
      return true
    } catch {}
  }
  return false
}

const SCENARIOS: Scenario[] = [
  {
    key: 'umesh',
    label: 'update-mesh',
    arg: SCENARIO_DIR,
    dirName: 'swarm',
    missing: () => existsSync(UMESH_CLI) ? undefined : `no umesh bundle at ${UMESH_CLI}: run npm run build (or set UMESH_CLI)`
  },
  { key: 'http', label: 'http', arg: 'http', dirName: 'http', missing: () => undefined },
  {
    key: 'helia-tuned',
    label: 'helia-tuned',
    arg: 'helia-tuned',
    dirName: 'helia-tuned',
    missing: () => existsSync(join(HARNESS, 'node_modules')) ? undefined : `the Helia packages are not installed: cd ${HARNESS} && npm install`
  },
  {
    key: 'helia',
    label: 'helia',
    arg: 'helia',
    dirName: 'helia',
    missing: () => existsSync(join(HARNESS, 'node_modules')) ? undefined : `the Helia packages are not installed: cd ${HARNESS} && npm install`
  },
  {
    key: 'bittorrent',
    label: 'bittorrent',
    arg: 'bittorrent',
    dirName: 'bittorrent',
    missing: () => {
      const absent = ['aria2c', 'mktorrent', 'opentracker'].filter(c => !onPath(c))
      return absent.length === 0 ? undefined : `${absent.join(', ')} not installed: apt-get update && apt-get install -y aria2 mktorrent opentracker`
    }
  }
]

const ALIASES: Record<string, string> = { 'update-mesh': 'umesh', umesh: 'umesh' }
let chosen: Scenario[]
{
  const names = opts.only.split(',').map(s => s.trim()).filter(s => s !== '').map(s => ALIASES[s] ?? s)
  const unknown = names.filter(k => !SCENARIOS.some(s => s.key === k))
  if (unknown.length > 0 || names.length === 0) {
    process.stderr.write(`--only: expected a comma-separated list of ${SCENARIOS.map(s => s.key).join(', ')} (or update-mesh), found "${opts.only}"\n`)
    process.exit(2)
  }
  chosen = SCENARIOS.filter(s => names.includes(s.key))
}

/** the harness's final JSON line (lib/report.mjs), the fields read here */
interface RunResult {
  scenario: string
  ok: boolean
  ok_count: number
  timed_out: boolean
  pieces: number | null
  times_s: Array<number | null>
  p50_s: number | null
  max_s: number | null
  bound_central_s: number
  bound_swarm_s: number | null
  ratio_max_to_central: number | null
  ratio_max_to_swarm: number | null
  wire: { seeder_copies: number | null, overhead_factor: number | null } | null
  cpu: { machine_util_pct: number | null, seeder_cpu_s: number | null, receivers_cpu_s_total: number | null } | null
  setup_ms: { seeder: number, receivers: number }
  errors: Array<{ index: number, error: string }>
}

interface Outcome {
  scenario: Scenario
  skipped?: string
  failed?: string
  result?: RunResult
  /** update-mesh: held -> installed per receiver, from the run's done files */
  installMs?: Array<number | null>
  installErrors?: string[]
  logDir?: string
  wallS?: number
}

function progress (text: string): void {
  process.stderr.write(`# ${text}\n`)
}

function out (text = ''): void {
  process.stdout.write(text + '\n')
}

const fixed = (v: number | null | undefined, digits = 2): string => v == null || !Number.isFinite(v) ? '-' : v.toFixed(digits)

/** the run folder run.sh made for this run: runs/<stamp>-<name>-n<N>-s<S>-r<R>, the newest since it started */
function findLogDir (s: Scenario, startedMs: number): string | undefined {
  const runs = join(RESULTS, 'runs')
  const suffix = `-${s.dirName}-n${N}-s${MIB}-r${RATE}`
  try {
    return readdirSync(runs)
      .filter(d => d.endsWith(suffix))
      .map(d => join(runs, d))
      .filter(d => statSync(d).mtimeMs >= startedMs - 2000)
      .sort()
      .at(-1)
  } catch {
    return undefined
  }
}

function readInstallTimes (logDir: string): { ms: Array<number | null>, errors: string[] } {
  const ms: Array<number | null> = []
  const errors: string[] = []
  for (let i = 1; i <= N; i++) {
    try {
      const done = JSON.parse(readFileSync(join(logDir, `done-${i}.json`), 'utf8'))
      ms.push(typeof done.install_ms === 'number' ? done.install_ms : null)
      if (typeof done.install_error === 'string' && done.install_error !== '') errors.push(`receiver ${i}: ${done.install_error}`)
    } catch {
      ms.push(null)
    }
  }
  return { ms, errors }
}

/** one run.sh, its output passed through to stderr; resolves with its final JSON line */
async function runOne (s: Scenario): Promise<Outcome> {
  const missing = s.missing()
  if (missing != null) return { scenario: s, skipped: missing }
  const startedMs = Date.now()
  const child = spawn('bash', [RUN_SH, s.arg, String(N), String(MIB), String(RATE)], {
    cwd: HARNESS,
    env: { ...process.env, SB_RESULTS: RESULTS, UMESH_CLI },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderrTail = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); process.stderr.write(c) })
  child.stderr.on('data', (c: Buffer) => { stderrTail = (stderrTail + c.toString()).slice(-4000); process.stderr.write(c) })
  const exited = new Promise<number | null>(resolve => { child.on('exit', code => { resolve(code) }) })
  const untrack = track({
    // run.sh traps TERM/INT: it stops its processes and takes the namespaces down
    stop: async () => {
      if (child.exitCode != null || child.signalCode != null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
      await exited
      clearTimeout(timer)
    },
    kill: () => { if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL') }
  })
  const code = await exited
  untrack()
  const wallS = (Date.now() - startedMs) / 1000
  const logDir = findLogDir(s, startedMs)
  const last = stdout.trim().split('\n').reverse().find(l => l.startsWith('{'))
  let result: RunResult | undefined
  try {
    if (last != null) result = JSON.parse(last)
  } catch {}
  if (result == null) {
    const why = stderrTail.trim().split('\n').filter(l => l.trim() !== '').slice(-3).join(' | ') || `run.sh exited with ${String(code)}`
    return { scenario: s, failed: why, logDir, wallS }
  }
  const o: Outcome = { scenario: s, result, logDir, wallS }
  if (s.key === 'umesh' && logDir != null) {
    const inst = readInstallTimes(logDir)
    o.installMs = inst.ms
    o.installErrors = inst.errors
  }
  return o
}

function median (xs: number[]): number | undefined {
  if (xs.length === 0) return undefined
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

function installCell (o: Outcome): string {
  if (o.installMs == null) return '-'
  const ms = o.installMs.filter((x): x is number => x != null)
  if (ms.length === 0) return 'none'
  const missing = o.installMs.length - ms.length
  return `${(median(ms)! / 1000).toFixed(2)} / ${(Math.max(...ms) / 1000).toFixed(2)} s${missing > 0 ? ` (${missing} not installed)` : ''}`
}

function row (o: Outcome): string[] {
  const r = o.result
  if (r == null) return [o.scenario.label, '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', o.skipped != null ? 'skipped' : 'FAILED']
  const cpuS = r.cpu == null ? undefined : (r.cpu.seeder_cpu_s ?? 0) + (r.cpu.receivers_cpu_s_total ?? 0)
  const status = r.ok ? 'ok' : `${r.ok_count}/${r.times_s.length} ok${r.timed_out ? ', timed out' : ''}`
  return [
    o.scenario.label,
    r.pieces == null ? '-' : String(r.pieces),
    fixed(r.p50_s),
    fixed(r.max_s),
    fixed(r.ratio_max_to_swarm, 3),
    fixed(r.ratio_max_to_central, 3),
    fixed(r.wire?.seeder_copies),
    fixed(r.wire?.overhead_factor, 3),
    r.cpu?.machine_util_pct == null ? '-' : `${r.cpu.machine_util_pct.toFixed(1)} %`,
    fixed(cpuS, 1),
    installCell(o),
    status
  ]
}

function ratioLine (a: Outcome | undefined, b: Outcome | undefined): string | undefined {
  if (a?.result == null || b?.result == null) return undefined
  const max = a.result.max_s != null && b.result.max_s != null ? a.result.max_s / b.result.max_s : undefined
  const p50 = a.result.p50_s != null && b.result.p50_s != null ? a.result.p50_s / b.result.p50_s : undefined
  const speed = max != null && max > 0 ? ` (${max < 1 ? `${(1 / max).toFixed(2)}x faster` : `${max.toFixed(2)}x slower`} to reach every receiver)` : ''
  return `${a.scenario.label} / ${b.scenario.label}: max ${fixed(max, 3)}, p50 ${fixed(p50, 3)}${speed}`
}

async function main (): Promise<number> {
  const problems: string[] = []
  if (process.getuid?.() !== 0) problems.push('must run as root: the harness builds network namespaces and tbf qdiscs (sudo npm run bench:swarm)')
  if (!existsSync(RUN_SH)) {
    problems.push(`no swarm-bench harness at ${HARNESS} (expected ${RUN_SH}); it is the shared harness beside this project (../shared/swarm-bench), or set SWARM_BENCH=/path/to/swarm-bench`)
  }
  if (problems.length > 0) {
    for (const p of problems) process.stderr.write(`bench:swarm: ${p}\n`)
    return 2
  }
  mkdirSync(RESULTS, { recursive: true })
  const centralS = N * MIB * 1048576 / (RATE * 1e6 / 8)
  progress(`harness ${HARNESS}; results in ${RESULTS}`)
  progress(`N=${N} S=${MIB} MiB rate=${RATE} mbit (central bound ${centralS.toFixed(1)} s); scenarios: ${chosen.map(s => s.label).join(', ')}`)

  const outcomes: Outcome[] = []
  for (const s of chosen) {
    const why = s.missing()
    if (why != null) {
      progress(`${s.label}: skipped: ${why}`)
      outcomes.push({ scenario: s, skipped: why })
      continue
    }
    progress(`${s.label}: ./run.sh ${s.arg} ${N} ${MIB} ${RATE}`)
    const o = await runOne(s)
    if (o.failed != null) progress(`${s.label}: FAILED: ${o.failed}`)
    outcomes.push(o)
  }

  out(section(`swarm-bench: N=${N} receivers, S=${MIB} MiB, every link ${RATE} mbit up and down`))
  out(`  ${cpus().length} CPU(s), node ${process.version}, load average at the end ${loadavg().map(l => l.toFixed(2)).join(' ')}; update-mesh runs ${UMESH_CLI.replace(ROOT, '')}`)
  out(`  central bound N*S/B = ${centralS.toFixed(2)} s; swarm bound S/B*(1+log2 N/M) per row (M = pieces)`)
  out()
  out(table(
    ['scenario', 'M', 'p50 s', 'max s', 'max/swarm', 'max/central', 'seeder copies', 'wire/payload', 'CPU avg', 'CPU s', 'install p50 / max', 'result'],
    outcomes.map(row)
  ))
  out()
  out(wrap('times: GO -> receiver done (update-mesh: the release held in full, every chunk verified; it learns of the release from the publisher\'s announcement at GO). ' +
    'max/swarm and max/central: max over the bounds. seeder copies: the seeder\'s upload / S; wire/payload: all uploads / (N*S) (tbf frames, ~1.045 for a perfect transfer). ' +
    'CPU avg: the machine\'s cores over the timed window (100 % = all busy); CPU s: seeder + receivers, GO -> done. ' +
    'install: update-mesh only, held -> installed (the install journal\'s finish), outside the timed figure.'))

  const umesh = outcomes.find(o => o.scenario.key === 'umesh')
  const ratios = [ratioLine(umesh, outcomes.find(o => o.scenario.key === 'http')), ratioLine(umesh, outcomes.find(o => o.scenario.key === 'bittorrent'))]
    .filter((l): l is string => l != null)
  if (ratios.length > 0) {
    out(section('update-mesh against the others'))
    for (const l of ratios) out(`  ${l}`)
  }

  out(section('per receiver (s, GO -> done)'))
  for (const o of outcomes) {
    if (o.result != null) {
      out(`  ${o.scenario.label.padEnd(12)} ${o.result.times_s.map(t => fixed(t)).join(' ')}   set-up: seeder ${o.result.setup_ms.seeder} ms, receivers ${o.result.setup_ms.receivers} ms`)
      for (const e of o.result.errors) out(`  ${''.padEnd(12)} receiver ${e.index}: ${e.error}`)
      for (const e of o.installErrors ?? []) out(`  ${''.padEnd(12)} install, ${e}`)
      if (o.logDir != null) out(`  ${''.padEnd(12)} logs: ${o.logDir.replace(ROOT, '')}`)
    } else if (o.skipped != null) {
      out(`  ${o.scenario.label.padEnd(12)} skipped: ${o.skipped}`)
    } else {
      out(`  ${o.scenario.label.padEnd(12)} failed: ${o.failed ?? 'unknown'}${o.logDir != null ? ` (logs: ${o.logDir.replace(ROOT, '')})` : ''}`)
    }
  }
  const ran = outcomes.filter(o => o.skipped == null)
  return ran.length > 0 && ran.every(o => o.result?.ok === true) ? 0 : 1
}

// each run.sh bounds itself (set-up 120 s + 3 x central + 60 s + tear-down); this is the backstop
const perRunS = 120 + 3 * (N * MIB * 1048576 / (RATE * 1e6 / 8)) + 60 + 60
await runBenchmark(main, Math.round(perRunS * chosen.length * 1000))
