/**
 * Rollout benchmark: prints figures, asserts nothing.
 *
 *   npm run bench:rollout          (npm run build && node dist/bench/rollout.js)
 *   node dist/bench/rollout.js [--nodes 10] [--runs 2] [--waves "canary:1,10%,50%,100%"]
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
import '../src/polyfill.js'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { fetchStatus } from '../protocols/status/index.js'
import { readDaemonFile } from '../src/daemon/daemon-file.js'
import { CLI_PATH, LocalMesh } from '../src/demo/local-mesh.js'
import { readHistory } from '../src/install/journal.js'
import { createClientNode } from '../src/network/client-node.js'
import { readCoordinatorState } from '../src/rollout/coordinator.js'
import { parseGate, parseWaves } from '../src/rollout/document.js'
import { GOVERNED_MARK } from '../src/rollout/node-rollouts.js'
import { readRollout } from '../src/rollout/repo-rollouts.js'
import { CANARY_TAG, waveOf } from '../src/rollout/waves.js'
import { Repository } from '../src/trust/repository.js'
import { releaseSource } from '../test/helpers/install-fixture.js'
import { intOpt, runBenchmark, track, trackDir } from './procs.js'
import { ms, section, seconds, summarize, table, wrap } from './report.js'
import type { StatusResponse } from '../protocols/status/index.js'
import type { MeshProcess } from '../src/demo/local-mesh.js'
import type { RolloutDocument, WaveSpec } from '../src/rollout/types.js'
import type { Libp2p } from '@libp2p/interface'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** runs stop starting after this (from the start of the benchmark) */
const BUDGET_MS = 230_000
/** the whole benchmark is cut off here */
const HARD_LIMIT_MS = 290_000
const T_START = wallNow()

const { values: opts } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10' },
    runs: { type: 'string', default: '2' },
    waves: { type: 'string', default: 'canary:1,10%,50%,100%' },
    gate: { type: 'string', default: 'success>=1,soak=2s' },
    'max-parallel': { type: 'string', default: '3' },
    'single-max-parallel': { type: 'string', default: '10' },
    'no-control': { type: 'boolean', default: false },
    'poll-ms': { type: 'string', default: '200' },
    'run-timeout': { type: 'string', default: '60' },
    stall: { type: 'string', default: '15' },
    help: { type: 'boolean', default: false }
  }
})

if (opts.help === true) {
  process.stdout.write('node dist/bench/rollout.js [--nodes 10] [--runs 2] [--waves "canary:1,10%,50%,100%"] [--gate "success>=1,soak=2s"]\n' +
    '    [--max-parallel 3] [--single-max-parallel 10] [--no-control] [--poll-ms 200] [--run-timeout SECONDS(60)] [--stall SECONDS(15)]\n')
  process.exit(0)
}
const NODES = intOpt('nodes', opts.nodes, 2, 40)
const RUNS = intOpt('runs', opts.runs, 1, 10)
const MAX_PARALLEL = intOpt('max-parallel', opts['max-parallel'], 1, 10_000)
const SINGLE_MAX_PARALLEL = intOpt('single-max-parallel', opts['single-max-parallel'], 1, 10_000)
const POLL_MS = intOpt('poll-ms', opts['poll-ms'], 50, 5_000)
const RUN_TIMEOUT_MS = intOpt('run-timeout', opts['run-timeout'], 10, 240) * 1000
const STALL_MS = intOpt('stall', opts.stall, 1, 120) * 1000
const CONTROL = opts['no-control'] !== true
let WAVES: WaveSpec[]
let SOAK_MS: number
try {
  WAVES = parseWaves(opts.waves)
  SOAK_MS = parseGate(opts.gate).soakMs
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`)
  process.exit(2)
}
const PACKAGE = 'app'
const CANARY_NODES = 1

type Variant = 'waves' | 'single' | 'control'
const VARIANTS: Record<Variant, { waves: string, maxParallel: number, label: string }> = {
  waves: { waves: opts.waves, maxParallel: MAX_PARALLEL, label: `waves "${opts.waves}", max-parallel ${MAX_PARALLEL}` },
  single: { waves: '100%', maxParallel: SINGLE_MAX_PARALLEL, label: `single wave "100%", max-parallel ${SINGLE_MAX_PARALLEL}` },
  control: { waves: '100%', maxParallel: MAX_PARALLEL, label: `single wave "100%", max-parallel ${MAX_PARALLEL}` }
}

// ---------------------------------------------------------------- output

function progress (text: string): void {
  process.stderr.write(`# ${text}\n`)
}

function out (text = ''): void {
  process.stdout.write(text + '\n')
}

/** seconds with a sign, for differences */
function signed (v: number | undefined): string {
  return v == null || !Number.isFinite(v) ? '-' : `${v >= 0 ? '+' : '-'}${(Math.abs(v) / 1000).toFixed(2)} s`
}

function machine (): string[] {
  const cpu = cpus()
  let commit = 'unknown'
  try {
    commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    if (dirty !== '') commit += ' (with uncommitted changes)'
  } catch {}
  let libp2p = 'unknown'
  try { libp2p = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'libp2p', 'package.json'), 'utf8')).version } catch {}
  return [
    `machine: ${cpu.length} CPU(s), ${cpu[0]?.model ?? 'unknown'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${platform()} ${release()} ${arch()}`,
    `node ${process.version}, libp2p ${libp2p}, update-mesh commit ${commit}; daemons run ${CLI_PATH.replace(ROOT, '')}; load average at start ${loadavg().map(l => l.toFixed(2)).join(' ')}`
  ]
}

function waveLabel (w: WaveSpec): string {
  return w.fraction != null ? `${w.name} (${Number((w.fraction * 100).toFixed(4))}%)` : `${w.name} (${String(w.count)})`
}

/**
 * The chance that a draw leaves some percentage wave with no node: `n` nodes
 * placed by hash, uniformly, into the bins [previous fraction, fraction);
 * inclusion-exclusion over the sets of bins left empty.
 */
function emptyWaveChance (waves: WaveSpec[], n: number): number {
  const bins: number[] = []
  let previous = 0
  for (const w of waves) {
    if (w.fraction == null) continue
    bins.push(w.fraction - previous)
    previous = w.fraction
  }
  let p = 0
  for (let mask = 1; mask < 1 << bins.length; mask++) {
    let share = 0
    let size = 0
    bins.forEach((b, i) => { if ((mask & (1 << i)) !== 0) { share += b; size++ } })
    p += (size % 2 === 1 ? 1 : -1) * Math.max(0, 1 - share) ** n
  }
  return p
}

// ---------------------------------------------------------------- processes

/** wall-clock milliseconds with sub-ms resolution, comparable with the daemons' Date.now() */
function wallNow (): number {
  return performance.timeOrigin + performance.now()
}

function budgetLeft (): number {
  return T_START + BUDGET_MS - wallNow()
}

interface CliRun { code: number | null, stdout: string, stderr: string, ms: number }

/** runs `umesh ARGS` to its end (tracked, so Ctrl-C stops it; SIGKILL after timeoutMs) */
async function umesh (args: string[], timeoutMs = 60_000): Promise<CliRun> {
  const t0 = performance.now()
  const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { if (stderr.length < 16_384) stderr += d.toString() })
  const exited = new Promise<number | null>(resolve => { child.on('exit', code => { resolve(code) }) })
  const kill = (signal: NodeJS.Signals): void => { if (child.exitCode == null && child.signalCode == null) child.kill(signal) }
  const untrack = track({ stop: async () => { kill('SIGTERM'); await exited }, kill: () => { kill('SIGKILL') } })
  const timer = setTimeout(() => { kill('SIGKILL') }, timeoutMs)
  try {
    const code = await exited
    return { code, stdout, stderr, ms: performance.now() - t0 }
  } finally {
    clearTimeout(timer)
    untrack()
  }
}

async function umeshOk (args: string[], timeoutMs?: number): Promise<CliRun> {
  const r = await umesh(args, timeoutMs)
  if (r.code !== 0) throw new Error(`umesh ${args.join(' ')} exited with ${String(r.code)}: ${r.stderr.slice(-1500)}`)
  return r
}

function startMesh (dir: string): LocalMesh {
  // the coordinator's log (the publisher) and the followers' (the nodes) explain a run that stalls
  const mesh = new LocalMesh({ dir, nodes: 0, env: { DEBUG: [process.env.DEBUG, 'umesh:coordinator', 'umesh:follower'].filter(d => d != null && d !== '').join(',') } })
  const untrack = track({
    stop: async () => { await mesh.stop() },
    kill: () => { for (const p of mesh.all) if (p.running) p.child.kill('SIGKILL') }
  })
  const stop = mesh.stop.bind(mesh)
  mesh.stop = async () => { try { await stop() } finally { untrack() } }
  return mesh
}

// ---------------------------------------------------------------- status

interface Watched { name: string, p: MeshProcess, peerId: string, network: string, addrs: ReturnType<typeof multiaddr>[], tags: string[] }

function watch (p: MeshProcess, tags: string[]): Watched {
  const info = readDaemonFile(p.dataDir)
  const local = [...info.addrs].sort((a, b) => Number(!a.includes('/127.0.0.1/')) - Number(!b.includes('/127.0.0.1/')))
  return { name: p.name, p, peerId: info.peerId, network: info.network, addrs: local.map(a => multiaddr(a)), tags }
}

const requests = { made: 0, failed: 0, ms: [] as number[], errors: new Map<string, number>() }

/** one status request on a connection that stays open between polls (this client speaks neither gossipsub nor sync) */
async function tryStatus (client: Libp2p, n: Watched, timeoutMs = 3_000): Promise<StatusResponse | undefined> {
  const t0 = performance.now()
  requests.made++
  try {
    const s = await fetchStatus(client, n.addrs, n.network, { signal: AbortSignal.timeout(timeoutMs) })
    requests.ms.push(performance.now() - t0)
    return s
  } catch (err) {
    requests.failed++
    const key = n.p.running ? (err as Error).message.slice(0, 80) : 'process exited'
    requests.errors.set(key, (requests.errors.get(key) ?? 0) + 1)
    return undefined
  }
}

function currentOf (s: StatusResponse | undefined): string {
  return s?.installs.find(i => i.package === PACKAGE)?.current ?? ''
}

function holds (s: StatusResponse | undefined, version: string): boolean {
  return s?.releases.some(r => r.package === PACKAGE && r.version === version && r.state === 'held') === true
}

function describeNode (n: Watched, s: StatusResponse | undefined): string {
  if (s == null) return `${n.name}: no status answer${n.p.running ? '' : ' (exited)'}`
  const i = s.installs.find(x => x.package === PACKAGE)
  return `${n.name}: current ${i?.current ?? '-'}, state ${i?.state ?? '-'}${i?.pending != null && i.pending !== '' ? `, installing ${i.pending}` : ''}${i?.error != null && i.error !== '' ? `, error ${i.error.slice(0, 120)}` : ''}`
}

/**
 * Polls every node at once every POLL_MS (round start to round start) until
 * `done` is true for each, or the deadline (wall ms), or `onRound` (run
 * after each round: the stall watch) says to stop. Returns the nodes not done.
 */
async function pollUntil (client: Libp2p, nodes: Watched[], deadline: number, done: (n: Watched, s: StatusResponse | undefined, at: number) => boolean, onRound?: () => Promise<boolean>): Promise<Watched[]> {
  let pending = [...nodes]
  while (pending.length > 0 && wallNow() < deadline) {
    const roundStart = performance.now()
    const finished = await Promise.all(pending.map(async n => {
      const s = await tryStatus(client, n)
      return done(n, s, wallNow())
    }))
    pending = pending.filter((_n, i) => !finished[i])
    if (pending.length === 0) break
    if (await onRound?.() === true) break
    const wait = POLL_MS - (performance.now() - roundStart)
    if (wait > 0) await sleep(Math.min(wait, Math.max(0, deadline - wallNow())))
  }
  return pending
}

// ---------------------------------------------------------------- rollouts

function readDoc (repo: string): RolloutDocument | undefined {
  try { return readRollout(Repository.open(repo), PACKAGE) } catch { return undefined }
}

interface WaveTiming {
  name: string
  label: string
  nodes: number
  /** wall ms of the coordinator's wave-opened event (wave 0: "started"), and of its gate-passed event */
  openedAt?: number
  gateAt?: number
  byHand?: boolean
  /** install history of this wave's nodes: earliest start, latest end (wall ms) */
  firstStart?: number
  lastEnd?: number
  /** installs run by this wave's nodes (ms), and when each ended (wall ms) */
  installMs: number[]
  ends: number[]
}

interface Run {
  round: number
  variant: Variant
  version: string
  id?: string
  publishMs?: number
  /** release add spawned to every node holding the version */
  heldMs?: number
  cliMs?: number
  t0: number
  /** wall ms of the poll that saw every node on the version; of the completed event */
  allAt?: number
  completedAt?: number
  waves: WaveTiming[]
  /** nodes per wave, as predicted from the document with waveOf */
  sizes: number[]
  /** the nodes the coordinator listed in count waves (canary:1) */
  chosen?: string
  stalls: string[]
  /** what the coordinator said when it passed the gate of a wave predicted to have no node */
  emptyGates: string[]
  /** nodes whose install of the version started before rollout start (plain autoUpdate) */
  early: string[]
  /** nodes with the governed mark in their install root when the rollout started */
  governed?: number
  error?: string
}

function clean (r: Run): boolean {
  return r.error == null && r.allAt != null && r.stalls.length === 0 && r.early.length === 0
}

/** the node has verified a rollout document of the package at some time: plain autoUpdate stays out (src/rollout/node-rollouts.ts) */
function governed (n: Watched): boolean {
  return existsSync(join(n.p.dataDir, 'installs', PACKAGE, GOVERNED_MARK))
}

async function publish (root: string, repo: string, version: string, index: number): Promise<number> {
  const src = releaseSource(join(root, 'sources'), { version }, index)
  const r = await umeshOk(['release', 'add', src, '--repo', repo, '--package', PACKAGE, '--version', version], 60_000)
  return r.ms
}

async function waitHeld (client: Libp2p, nodes: Watched[], version: string, timeoutMs: number): Promise<void> {
  const last = new Map<string, StatusResponse | undefined>()
  const missing = await pollUntil(client, nodes, wallNow() + timeoutMs, (n, s) => { last.set(n.name, s); return holds(s, version) })
  if (missing.length > 0) throw new Error(`after ${seconds(timeoutMs)}, ${missing.length} node(s) do not hold ${PACKAGE} ${version}: ${missing.map(n => n.name).join(', ')}`)
}

/** waits for the rollout to leave "running"; halts it (no rollback) after timeoutMs so that the next one may start */
async function settle (repo: string, id: string, timeoutMs: number): Promise<{ state: string, halted: boolean }> {
  const deadline = wallNow() + timeoutMs
  for (;;) {
    const doc = readDoc(repo)
    if (doc != null && (doc.id !== id || doc.state === 'completed' || doc.state === 'halted')) return { state: doc.state, halted: false }
    if (wallNow() > deadline) break
    await sleep(100)
  }
  await umeshOk(['rollout', 'halt', '--repo', repo, '--package', PACKAGE])
  return { state: 'halted', halted: true }
}

/** the coordinator's events of one rollout, as wall ms, from its state file */
function coordinatorEvents (repo: string, id: string): Array<{ at: number, event: string, detail: string }> {
  try {
    return (readCoordinatorState(repo)?.rollouts[id]?.events ?? []).map(e => ({ at: Date.parse(e.at), event: e.event, detail: e.detail }))
  } catch {
    return []
  }
}

async function rolloutRun (ctx: { root: string, repo: string, client: Libp2p, nodes: Watched[], publisher: MeshProcess, publisherId: string }, run: Run, index: number): Promise<void> {
  const { repo, client, nodes } = ctx
  const spec = VARIANTS[run.variant]
  progress(`round ${run.round}, ${run.variant}: release add ${PACKAGE} ${run.version}, then waiting until every node holds it`)
  const tAdd = wallNow()
  run.publishMs = await publish(ctx.root, repo, run.version, index)
  await waitHeld(client, nodes, run.version, 60_000)
  run.heldMs = wallNow() - tAdd

  progress(`round ${run.round}, ${run.variant}: umesh rollout start (${spec.label}), polling every ${POLL_MS} ms until every node runs ${run.version}`)
  run.governed = nodes.filter(governed).length
  run.t0 = wallNow()
  const started = await umeshOk(['rollout', 'start', '--repo', repo, '--package', PACKAGE, '--version', run.version, '--waves', spec.waves, '--gate', opts.gate, '--max-parallel', String(spec.maxParallel), '--json'])
  run.cliMs = started.ms
  const doc = JSON.parse(started.stdout) as RolloutDocument
  run.id = doc.id
  // every node computes its wave from the signed document, and so can we: first from the document as started,
  // then from the one the coordinator signs when it opens wave 0 (count waves such as canary:1 filled with peers)
  let waveOfNode: number[] = []
  let empty = new Set<number>()
  let filled = false
  const predict = (d: RolloutDocument): void => {
    waveOfNode = nodes.map(n => waveOf({ peerId: n.peerId, tags: n.tags, doc: d }))
    run.sizes = d.waves.map((_w, i) => waveOfNode.filter(w => w === i).length)
    empty = new Set(run.sizes.flatMap((size, i) => size === 0 ? [i] : []))
    run.chosen = d.waves.map(w => w.peers.map(id => nodes.find(n => n.peerId === id)?.name ?? id).join('+')).filter(x => x !== '').join(', ')
  }
  predict(doc)

  const seen = new Map<string, number>()
  const last = new Map<string, StatusResponse | undefined>()
  /** each wave index, when this process first saw it open (from the document in the repository) */
  const openSeen = new Map<number, number>()
  let lastDocRead = 0
  const byHand = new Set<number>()
  let stuck = false
  const onRound = async (): Promise<boolean> => {
    if (wallNow() - lastDocRead < 500) return false
    lastDocRead = wallNow()
    const now = readDoc(repo)
    // a completed rollout is open to every wave (a node that has not installed yet still may)
    if (now == null || now.id !== doc.id || now.open < 0 || (now.state !== 'running' && now.state !== 'completed')) return false
    const open = now.state === 'completed' ? now.waves.length - 1 : now.open
    if (!filled) {
      filled = true
      predict(now)
      if (empty.size > 0) progress(`  rollout ${doc.id} leaves wave(s) ${[...empty].map(i => doc.waves[i].name).join(', ')} with no node (sizes ${run.sizes.join('/')})`)
    }
    for (let i = 0; i <= open; i++) if (!openSeen.has(i)) openSeen.set(i, wallNow())
    const openFor = wallNow() - openSeen.get(open)!
    // an empty wave that the coordinator does not pass: promote it as an operator would
    if (now.state === 'running' && empty.has(now.open) && now.open < now.waves.length - 1 && openFor >= SOAK_MS + STALL_MS) {
      run.stalls.push(`wave ${now.waves[now.open].name} had no node and stayed open ${seconds(openFor)} (seen from here) without the coordinator moving on: promoted by hand`)
      progress(`  ${run.stalls.at(-1) ?? ''}`)
      await umeshOk(['rollout', 'promote', '--repo', repo, '--package', PACKAGE])
      byHand.add(now.open)
      return false
    }
    // a node whose wave has been open for --stall seconds and that still runs the old version: find out why, and give up on the run
    const late = nodes.filter((n, k) => waveOfNode[k] <= open && !seen.has(n.name) && wallNow() - openSeen.get(waveOfNode[k])! >= STALL_MS)
    if (late.length === 0) return false
    for (const n of late) {
      const k = nodes.indexOf(n)
      const why = n.p.output.split('\n').filter(l => /umesh:follower (could not read the rollout|following .* failed|refresh failed)/.test(l)).at(-1)
      const asked = why == null ? 0 : (why.match(/the peer answered/g) ?? []).length
      const connected = last.get(n.name)?.peers.some(x => x.peerId === ctx.publisherId) === true
      // the follower stops asking, for 10 minutes, peers that served metadata that did not verify
      const suspected = n.p.output.split('\n').filter(l => l.includes('not believing') && l.includes(ctx.publisherId)).at(-1)
      run.stalls.push(`${n.name} (wave ${doc.waves[waveOfNode[k]].name}, open ${seconds(wallNow() - openSeen.get(waveOfNode[k])!)}): ${describeNode(n, last.get(n.name)).replace(`${n.name}: `, '')}; connected to the publisher now: ${connected ? 'yes' : 'no'}; ${suspected == null ? 'it had not logged "not believing" the publisher' : `it had logged at ${suspected.slice(11, 23)} (${seconds(Date.parse(suspected.split(' ')[0]) - run.t0)} from this rollout's start) "${suspected.replace(/^\S+ umesh:follower /, '').replace(ctx.publisherId, 'the publisher').slice(0, 200)} ..."`}; its last follower error${why == null ? ': (none logged)' : ` (${asked} peers asked, the publisher ${why.includes(ctx.publisherId) ? 'among them' : 'not among them'}): ${why.replace(/^\S+ umesh:follower /, '').slice(0, 240)} ...`}`)
    }
    progress(`  ${late.length} node(s) stuck: ${late.map(n => n.name).join(', ')}${now.state === 'running' ? '; halting the rollout (no rollback)' : ` (the rollout is ${now.state})`}`)
    stuck = true
    return true
  }
  const missing = await pollUntil(client, nodes, run.t0 + RUN_TIMEOUT_MS, (n, s, at) => {
    last.set(n.name, s)
    if (currentOf(s) !== run.version) return false
    if (!seen.has(n.name)) seen.set(n.name, at)
    return true
  }, onRound)
  if (stuck) {
    if (readDoc(repo)?.state === 'running') await umeshOk(['rollout', 'halt', '--repo', repo, '--package', PACKAGE])
  } else if (missing.length > 0) {
    const d = readDoc(repo)
    run.error = `after ${seconds(RUN_TIMEOUT_MS)}, ${missing.length} node(s) not on ${run.version}: ${missing.map(n => describeNode(n, last.get(n.name))).join('; ')}; rollout ${d?.id ?? '?'} ${d?.state ?? '?'}, open wave ${d?.open ?? '?'}: ${d?.reason ?? ''}\ncoordinator log (last lines):\n${ctx.publisher.output.split('\n').filter(l => l.includes('coordinator')).slice(-8).join('\n')}`
  } else {
    run.allAt = Math.max(...seen.values())
  }

  // the next rollout may start only when this one is no longer running: the last wave's soak, or a halt if it cannot complete
  const settled = await settle(repo, doc.id, SOAK_MS + STALL_MS + 5_000)
  if (settled.halted) {
    const d = readDoc(repo)
    const lastEmpty = d != null && empty.has(d.waves.length - 1)
    run.stalls.push(lastEmpty ? `the last wave (${d.waves.at(-1)?.name ?? '?'}) had no node and never completed: halted by hand (no rollback)` : `did not complete within ${seconds(SOAK_MS + STALL_MS + 5_000)} of every node being healthy: halted by hand (no rollback)`)
  }

  // the coordinator writes the document before it saves its state file: wait (bounded) for the final event there
  const settledBy = wallNow() + 5_000
  while (wallNow() < settledBy && !coordinatorEvents(repo, doc.id).some(e => e.event === 'completed' || e.event === 'halted')) await sleep(100)

  // wave timings: the coordinator's events; install times: each node's history
  const final = readDoc(repo)
  if (final?.id === doc.id && final.open >= 0) predict(final)
  const waves = final?.id === doc.id ? final.waves : doc.waves
  const events = coordinatorEvents(repo, doc.id)
  run.waves = waves.map((w, i) => ({ name: w.name, label: waveLabel(w), nodes: run.sizes[i], installMs: [], ends: [], byHand: byHand.has(i) }))
  const byName = new Map(waves.map((w, i) => [w.name, i]))
  for (const e of events) {
    const m = /^wave (\S+?):? /.exec(e.detail + ' ')
    const i = m == null ? undefined : byName.get(m[1])
    if (i == null) continue
    if (e.event === 'wave-opened') run.waves[i].openedAt ??= e.at
    if (e.event === 'gate-passed') run.waves[i].gateAt ??= e.at
    if (e.event === 'gate-passed' && run.sizes[i] === 0) run.emptyGates.push(`${seconds(e.at - run.t0)}: ${e.detail}`)
  }
  run.completedAt = events.find(e => e.event === 'completed')?.at
  nodes.forEach((n, k) => {
    const entry = readHistory(join(n.p.dataDir, 'installs', PACKAGE)).filter(h => h.to === run.version && h.outcome === 'installed').at(-1)
    const w = run.waves[waveOfNode[k]]
    if (entry == null || w == null) return
    const s = Date.parse(entry.startedAt)
    const e = Date.parse(entry.finishedAt)
    if (s < run.t0) run.early.push(`${n.name} installed ${run.version} at ${seconds(s - run.t0)}, before \`rollout start\`: plain autoUpdate (${governed(n) ? 'it has the governed mark now' : 'it has no governed mark: it has never verified a rollout document'})`)
    w.firstStart = Math.min(w.firstStart ?? Infinity, s)
    w.lastEnd = Math.max(w.lastEnd ?? -Infinity, e)
    w.installMs.push(e - s)
    w.ends.push(e)
  })
}

// ---------------------------------------------------------------- printing

function since (run: Run, at: number | undefined): number | undefined {
  return at == null ? undefined : at - run.t0
}

function printRuns (runs: Run[]): void {
  out(section('1. Runs'))
  out(wrap(`Times from just before \`umesh rollout start\` is spawned. "held": release add spawned to the poll that saw every node hold the new version (before the timed part). "CLI": rollout start to its exit (signing the document). "wave 0 open": the coordinator's first event (it checks once a second). "canary wave": wave 0 opened to wave 1 opened (the canary installs, reports healthy, the gate soaks ${seconds(SOAK_MS)} and is judged on the next tick). "all healthy": the first poll (every ${POLL_MS} ms) in which every node ran the new version. "completed": the coordinator's completed event (after the last wave's soak). Wave sizes: nodes per wave, from the document the coordinator signed when it opened wave 0 (waveOf, as each node computes it); "listed": the nodes the coordinator put in count waves (canary:1); "governed": nodes with the mark a node writes in its install root once it has verified a rollout document (without it, plain autoUpdate installs a held release at once); * marks a run left out of the medians (see notes).`))
  const rows = runs.map(r => [
    `${r.round}`, r.variant + (clean(r) ? '' : ' *'), r.version, r.sizes.join('/') || '-', r.chosen !== undefined && r.chosen !== '' ? r.chosen : '-', r.governed == null ? '-' : `${r.governed}/${NODES}`, seconds(r.heldMs), ms(r.cliMs),
    seconds(since(r, r.waves[0]?.openedAt)), r.variant === 'waves' ? seconds(r.waves[1]?.openedAt != null && r.waves[0]?.openedAt != null ? r.waves[1].openedAt - r.waves[0].openedAt : undefined) : '-',
    seconds(since(r, r.allAt)), seconds(since(r, r.completedAt))
  ])
  out(table(['round', 'variant', 'version', 'wave sizes', 'listed', 'governed', 'held', 'CLI', 'wave 0 open', 'canary wave', 'all healthy', 'completed'], rows))
  for (const r of runs) {
    for (const s of [...r.stalls, ...r.early]) out(wrap(`* round ${r.round}, ${r.variant} (${r.version}, rollout ${r.id ?? '?'}): ${s}`))
    if (r.error != null) out(`* round ${r.round}, ${r.variant} (${r.version}): error: ${r.error}`)
  }
}

function printWaves (runs: Run[]): void {
  out(section('2. Waves, per run'))
  out(wrap('From the coordinator\'s events (state.json) and each node\'s install history, all relative to rollout start. "opened": the wave-opened event; "first install": the earliest install start among the wave\'s nodes (the document reaching them, their 1 s rollout tick, their install slot); "last healthy": the latest install end (health check passed); "gate": the gate-passed event (soak after the wave\'s last change, then the next coordinator tick; the last wave\'s gate is the completed event); "open for": opened to the next wave opened (last wave: to completed). Install: the longest single install of the wave (staging + switch + health check). "healthy at gate": the wave\'s nodes whose install had ended when its gate passed.'))
  const rows: string[][] = []
  const early: string[] = []
  for (const r of runs) {
    r.waves.forEach((w, i) => {
      const next = i + 1 < r.waves.length ? r.waves[i + 1].openedAt : r.completedAt
      rows.push([
        i === 0 ? `${r.round} ${r.variant}${clean(r) ? '' : ' *'}` : '', w.label + (w.byHand === true ? ' (promoted by hand)' : ''), String(w.nodes),
        seconds(since(r, w.openedAt)), seconds(since(r, w.firstStart)), seconds(since(r, w.lastEnd)), seconds(since(r, w.gateAt)),
        seconds(next != null && w.openedAt != null ? next - w.openedAt : undefined), ms(w.installMs.length > 0 ? Math.max(...w.installMs) : undefined),
        gateOf(r, i) == null ? '-' : `${w.ends.filter(e => e <= gateOf(r, i)!).length}/${w.nodes}`
      ])
      const g = gateOf(r, i)
      if (g != null && w.ends.some(e => e > g)) early.push(`round ${r.round}, ${r.variant}: the gate of wave ${w.name} passed (${seconds(since(r, g))}) with ${w.ends.filter(e => e <= g).length} of its ${w.nodes} nodes healthy, ${seconds(Math.max(...w.ends) - g)} before its last install ended (${seconds(since(r, Math.max(...w.ends)))})`)
    })
  }
  out(table(['run', 'wave', 'nodes', 'opened', 'first install', 'last healthy', 'gate', 'open for', 'install', 'healthy at gate'], rows))
  if (early.length > 0) {
    out()
    out(wrap(`Gate passed before the wave was healthy (gate "${opts.gate}"): the coordinator counts only the nodes that have reported under this rollout (gateDecision gets expectedNodes = the nodes that reported), so a node that has not yet verified the new document, or whose report was lost, is left out of the tally rather than counted as not healthy:`))
    for (const e of early) out(wrap(`- ${e}`, 116, '    '))
  }
}

/** when the wave's gate passed: its gate-passed event, or for the last wave the completed event */
function gateOf (r: Run, i: number): number | undefined {
  return r.waves[i]?.gateAt ?? (i === r.waves.length - 1 ? r.completedAt : undefined)
}

function median (xs: Array<number | undefined>): number | undefined {
  return summarize(xs.filter((x): x is number => x != null && Number.isFinite(x)))?.median
}

function range (xs: Array<number | undefined>): string {
  const s = summarize(xs.filter((x): x is number => x != null && Number.isFinite(x)))
  return s == null ? '-' : s.n === 1 ? `${seconds(s.median)} (1 run)` : `${seconds(s.median)} (${seconds(s.min)} - ${seconds(s.max)}, ${s.n} runs)`
}

function printSummary (runs: Run[], variants: Variant[]): void {
  out(section('3. Summary: medians over the runs without *'))
  const ok = runs.filter(clean)
  const of = (v: Variant): Run[] => ok.filter(r => r.variant === v)
  const rows = variants.map(v => [
    VARIANTS[v].label.replace(/"/g, ''), `${of(v).length}`,
    range(of(v).map(r => since(r, r.allAt))), range(of(v).map(r => since(r, r.completedAt))),
    range(of(v).map(r => since(r, r.waves[0]?.openedAt)))
  ])
  out(table(['variant', 'runs', 'start to all healthy (median, min - max)', 'start to completed', 'start to wave 0 open'], rows))
  // the canary wave is not affected by an empty later wave, so every waves run counts here
  const canary = runs.filter(r => r.variant === 'waves' && r.waves[1]?.openedAt != null && r.waves[0]?.openedAt != null).map(r => r.waves[1].openedAt! - r.waves[0].openedAt!)
  out()
  out(`  canary wave (wave 0 opened to wave 1 opened, every waves run): ${range(canary)}`)

  const wavesAll = median(of('waves').map(r => since(r, r.allAt)))
  const singleAll = median(of('single').map(r => since(r, r.allAt)))
  const wavesDone = median(of('waves').map(r => since(r, r.completedAt)))
  const singleDone = median(of('single').map(r => since(r, r.completedAt)))
  const overhead = wavesAll != null && singleAll != null ? wavesAll - singleAll : undefined
  const paired = [...new Set(ok.map(r => r.round))].flatMap(round => {
    const w = ok.find(r => r.round === round && r.variant === 'waves')
    const s = ok.find(r => r.round === round && r.variant === 'single')
    return w?.allAt != null && s?.allAt != null ? [{ round, d: (w.allAt - w.t0) - (s.allAt - s.t0) }] : []
  })
  const gatedBefore = WAVES.length - 1
  const soakPart = gatedBefore * SOAK_MS
  out()
  out('  Coordination overhead (waves - single wave):')
  out(`    start to all healthy: ${seconds(wavesAll)} - ${seconds(singleAll)} = ${signed(overhead)} (medians)${paired.length > 0 ? `; per round: ${paired.map(p => `round ${p.round} ${signed(p.d)}`).join(', ')}` : ''}`)
  out(`    start to completed:   ${seconds(wavesDone)} - ${seconds(singleDone)} = ${signed(wavesDone != null && singleDone != null ? wavesDone - singleDone : undefined)} (medians)`)
  out(wrap(`of which the configured soak: ${gatedBefore} x ${seconds(SOAK_MS)} = ${seconds(soakPart)}. The ${WAVES.length} waves soak ${WAVES.length} x ${seconds(SOAK_MS)}, the single wave once, and in both the last soak comes after every node is healthy, so the soak accounts for ${gatedBefore} soaks of the difference, to all healthy and to completed alike. The rest, ${signed(overhead != null ? overhead - soakPart : undefined)} (to all healthy), is per wave: the coordinator's 1 s tick (up to 1 s before it judges a soaked gate), re-signing the rollout document and announcing it, each node's verification and 1 s rollout tick, and its install slot (max-parallel ${MAX_PARALLEL} against ${SINGLE_MAX_PARALLEL}).`, 116, '    '))
  if (variants.includes('control')) {
    const controlAll = median(of('control').map(r => since(r, r.allAt)))
    const stagger = controlAll != null && singleAll != null ? controlAll - singleAll : undefined
    out(wrap(`Control, one wave at max-parallel ${MAX_PARALLEL}: ${seconds(controlAll)} to all healthy, so staggering all ${NODES} nodes ${MAX_PARALLEL} at a time costs ${signed(stagger)} over ${SINGLE_MAX_PARALLEL} at a time (install slots of 2 s: slot = floor(rank / max-parallel)); waves at max-parallel ${MAX_PARALLEL} against one wave at max-parallel ${MAX_PARALLEL}: ${signed(wavesAll != null && controlAll != null ? wavesAll - controlAll : undefined)}. Inside a wave the slots are fewer (a wave of 4 at max-parallel ${MAX_PARALLEL} has 2), so the two parts do not simply add up.`, 116, '    '))
  }
}

function printStalls (runs: Run[]): void {
  out(section('4. Stalls and empty waves'))
  const stuck = runs.filter(r => r.stalls.some(x => x.startsWith('node-')))
  const missing = stuck.flatMap(r => r.stalls.filter(x => x.startsWith('node-') && /no peer holds metadata\/\d+\.rollouts\.json/.test(x)))
  const notAsked = missing.filter(x => x.includes('the publisher not among them')).length
  const suspecting = missing.filter(x => x.includes('had logged at')).length
  out(wrap(`Stuck nodes: ${stuck.length} of ${runs.length} rollouts had a node still on the old version ${seconds(STALL_MS)} after its wave opened (each is listed under 1. with the node's last follower error; the run was given up, its rollout halted if still running, and left out of the medians).${missing.length > 0 ? ` ${missing.length} of these nodes had logged "could not read the rollout ... no peer holds metadata/N.rollouts.json": every peer it asked answered NOT_FOUND for the rollouts role's metadata, and for ${notAsked} of them the publisher was not among the peers asked${suspecting > 0 ? ` (${suspecting} had earlier logged "not believing" the publisher: a follower does not ask, for 10 minutes, peers that served metadata that did not verify)` : ''}. Followers mirror for their peers only the metadata that the refresh itself downloaded (Follower.round mirrors fetcher.downloaded() before follow()), and the delegated rollouts role is downloaded later, by getTargetInfo in fetchRollout, so only the publisher serves it; and MeshFetcher asks at most 8 peers per file (DEFAULT_MAX_PEERS_PER_FILE; the peer that announced first, then the connected peers in order), so a node whose 8 candidates leave out the publisher keeps the previous document, and as it already trusts the new timestamp it does not try again before the next timestamp or its periodic check (60 s).` : ''}`))
  const early = runs.filter(r => r.early.length > 0)
  if (early.length > 0) {
    out()
    out(wrap(`Installed before the rollout: in ${early.length} of ${runs.length} rollouts some node had installed the version before \`rollout start\` (listed under 1.; left out of the medians). A node that has never verified a rollout document (the same missing rollouts metadata) is not governed: NodeRollouts.governs() is false without a document or the governed mark, so plain autoUpdate installs each release as soon as it is held, outside any wave.`))
  }
  out()
  const hashed = NODES - CANARY_NODES - WAVES.slice(1).reduce((sum, w) => sum + (w.count ?? 0), 0) - Math.max(0, (WAVES[0]?.count ?? 0) - CANARY_NODES)
  const p = emptyWaveChance(WAVES, hashed)
  const draws = runs.filter(r => r.variant === 'waves' && r.sizes.length > 0)
  const withEmpty = draws.filter(r => r.sizes.some(x => x === 0))
  const byHand = draws.filter(r => r.stalls.some(x => !x.startsWith('node-')))
  out(wrap(`Empty waves: with "${opts.waves}" on ${NODES} nodes (${CANARY_NODES} tagged canary, ${hashed} placed by the hash of peer id and rollout id), the chance that a rollout leaves some percentage wave with no node is ${(p * 100).toFixed(1)} %. The coordinator passes such a wave once its soak time is over (a soak and a tick with nothing installed); the benchmark would promote it by hand had the coordinator not moved on ${seconds(SOAK_MS + STALL_MS)} after it opened. In this benchmark: ${withEmpty.length} of ${draws.length} waves rollouts had an empty wave (wave sizes ${draws.map(r => r.sizes.join('/')).join(', ') || '-'}); ${byHand.length} needed the operator.`))
  for (const r of draws) for (const g of r.emptyGates) out(wrap(`- round ${r.round} (rollout ${r.id ?? '?'}), the gate of a wave predicted empty passed at ${g}`, 116, '    '))
}

// ---------------------------------------------------------------- main

async function main (): Promise<number> {
  const t0 = performance.now()
  const loadStart = loadavg()[0]
  const root = mkdtempSync(join(tmpdir(), 'umesh-bench-rollout-'))
  trackDir(root)
  const argv = process.argv.slice(2)
  out('update-mesh rollout benchmark (figures only; nothing is asserted)')
  out(`command: node dist/bench/rollout.js${argv.length > 0 ? ' ' + argv.join(' ') : ''}   (npm run bench:rollout = npm run build && node dist/bench/rollout.js)`)
  for (const line of machine()) out(line)
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
