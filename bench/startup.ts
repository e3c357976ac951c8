/**
 * Start-up benchmark: prints figures, asserts nothing.
 *
 *   npm run bench                      (npm run build && node dist/bench/startup.js)
 *   node dist/bench/startup.js [--runs 7] [--nodes 20] [--discovery-timeout 100] [--skip-bundle]
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
import '../src/polyfill.js'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { fetchStatus } from '../protocols/status/index.js'
import { specFor } from '../src/config/schema.js'
import { readDaemonFile } from '../src/daemon/daemon-file.js'
import { LocalMesh } from '../src/demo/local-mesh.js'
import { createClientNode } from '../src/network/client-node.js'
import { TimedDaemon, intOpt, runBenchmark, timeToExit, track, trackDir } from './procs.js'
import { mb, ms, section, seconds, summarize, table, wrap } from './report.js'
import type { Bundle } from './procs.js'
import type { Summary } from './report.js'

const COMPILED_CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))
const BUNDLED_CLI = fileURLToPath(new URL('../umesh.mjs', import.meta.url))
import type { StatusResponse } from '../protocols/status/index.js'
import type { MeshProcess } from '../src/demo/local-mesh.js'
import type { Libp2p } from '@libp2p/interface'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const READY_TARGET_MS = 1500
const RSS_TARGET_BYTES = 120e6
const TARGET_PEERS = specFor('targetPeers')!.default as number

/** the specifiers the daemon imports from node_modules (create-node.ts, daemon.ts, identity, the status protocol) */
const LIBP2P_MODULES = [
  'libp2p', '@libp2p/tcp', '@chainsafe/libp2p-noise', '@chainsafe/libp2p-yamux', '@libp2p/identify',
  '@libp2p/ping', '@libp2p/kad-dht', '@libp2p/gossipsub', '@libp2p/mdns', '@libp2p/bootstrap',
  '@libp2p/logger', '@libp2p/peer-id', '@libp2p/crypto/keys', '@libp2p/utils', '@multiformats/multiaddr',
  'datastore-level', 'protons-runtime'
]

const SINGLE_NODE_ARGS = ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns']

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    nodes: { type: 'string', default: '20' },
    'discovery-timeout': { type: 'string', default: '100' },
    'poll-ms': { type: 'string', default: '500' },
    'idle-ms': { type: 'string', default: '3000' },
    stall: { type: 'string', default: '30' },
    'skip-bundle': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false }
  }
})

if (opts.help === true) {
  process.stdout.write('node dist/bench/startup.js [--runs 7] [--nodes 20] [--discovery-timeout SECONDS(100)] [--poll-ms 500] [--idle-ms 3000] [--stall SECONDS(30)] [--skip-bundle]\n')
  process.exit(0)
}
const RUNS = intOpt('runs', opts.runs, 1, 100)
const NODES = intOpt('nodes', opts.nodes, 2, 200)
const DISCOVERY_TIMEOUT_MS = intOpt('discovery-timeout', opts['discovery-timeout'], 1, 3600) * 1000
const POLL_MS = intOpt('poll-ms', opts['poll-ms'], 50, 60_000)
const IDLE_MS = intOpt('idle-ms', opts['idle-ms'], 0, 600_000)
const STALL_MS = intOpt('stall', opts.stall, 1, 3600) * 1000

function progress (text: string): void {
  process.stderr.write(`# ${text}\n`)
}

function out (text = ''): void {
  process.stdout.write(text + '\n')
}

// ---------------------------------------------------------------- status

interface DaemonTarget { peerId: string, network: string, addrs: ReturnType<typeof multiaddr>[] }

function targetOf (dataDir: string): DaemonTarget {
  const info = readDaemonFile(dataDir)
  const local = [...info.addrs].sort((a, b) => Number(!a.includes('/127.0.0.1/')) - Number(!b.includes('/127.0.0.1/')))
  return { peerId: info.peerId, network: info.network, addrs: local.map(a => multiaddr(a)) }
}

/** one status request; the connection is closed afterwards, so the benchmark holds no slot of the node's peer budget between polls */
async function statusOf (client: Libp2p, target: DaemonTarget, timeoutMs = 3_000): Promise<StatusResponse> {
  try {
    return await fetchStatus(client, target.addrs, target.network, { signal: AbortSignal.timeout(timeoutMs) })
  } finally {
    await client.hangUp(peerIdFromString(target.peerId), { signal: AbortSignal.timeout(1_000) }).catch(() => {})
  }
}

// ---------------------------------------------------------------- 1. single node

interface StartRun {
  readyMs: number
  /** spawn() to the Daemon constructor (its startedAt): node boot and module loading */
  constructedMs: number
  phases: Array<{ name: string, state: string, durationMs: number }>
  rssBytes: number
  heapUsedBytes: number
  stopMs: number
}

interface Series {
  label: string
  fresh: StartRun[]
  existing: StartRun[]
  idle?: { rssBytes: number, heapUsedBytes: number }
}

async function oneStart (script: string, dataDir: string, logFile: string, client: Libp2p, idleMs = 0): Promise<StartRun> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const daemon = new TimedDaemon(script, dataDir, SINGLE_NODE_ARGS, logFile)
  let run: Omit<StartRun, 'stopMs'>
  try {
    const readyMs = await daemon.readyMs()
    if (idleMs > 0) await sleep(idleMs)
    const s = await statusOf(client, targetOf(dataDir))
    run = {
      readyMs,
      constructedMs: Number(s.startedAtMs) - daemon.spawnedAtWall,
      phases: s.phases.map(p => ({ name: p.name, state: p.state, durationMs: p.durationMs })),
      rssBytes: Number(s.resources?.rssBytes ?? NaN),
      heapUsedBytes: Number(s.resources?.heapUsedBytes ?? NaN)
    }
  } catch (err) {
    await daemon.stop()
    throw err
  }
  const stopMs = await daemon.stop()
  return { ...run, stopMs }
}

async function startSeries (label: string, script: string, dir: string, client: Libp2p): Promise<Series> {
  const series: Series = { label, fresh: [], existing: [] }
  mkdirSync(dir, { recursive: true })
  const log = join(dir, 'daemon.log')
  progress(`${label}: 1 warm-up start (not counted), then ${RUNS} x (fresh data dir, then the same data dir again)`)
  await oneStart(script, join(dir, 'warm-up'), log, client)
  for (let i = 0; i < RUNS; i++) {
    const dataDir = join(dir, `run-${i + 1}`)
    series.fresh.push(await oneStart(script, dataDir, log, client))
    series.existing.push(await oneStart(script, dataDir, log, client))
  }
  progress(`${label}: one more start on an existing data dir, idle ${IDLE_MS} ms, then RSS from status`)
  const idle = await oneStart(script, join(dir, 'run-1'), log, client, IDLE_MS)
  series.idle = { rssBytes: idle.rssBytes, heapUsedBytes: idle.heapUsedBytes }
  return series
}

/** each baseline once as a warm-up, then RUNS rounds of all of them in turn, so a change in machine load hits them alike */
async function baselines (list: Array<{ label: string, args: string[] }>): Promise<Array<{ label: string, samples: number[] }>> {
  progress(`baselines: ${list.map(b => b.label).join('; ')}: 1 warm-up + ${RUNS} rounds`)
  const results = list.map(b => ({ label: b.label, samples: [] as number[] }))
  for (const b of list) await timeToExit(b.args, ROOT)
  for (let i = 0; i < RUNS; i++) {
    for (const [j, b] of list.entries()) results[j].samples.push(await timeToExit(b.args, ROOT))
  }
  return results
}

// ---------------------------------------------------------------- 2. mesh

interface NodeCounts { name: string, regular: number, any: number, rssBytes: number, heapUsedBytes: number, error?: string }

interface MeshResult {
  nodes: number
  need: number
  startError?: string
  bootstrapReadyMs?: number
  /** each node's spawn() to ready, under the load of all the others starting */
  nodeReadyMs: number[]
  /** mesh.start() to the last node ready, and first regular node spawn to the last node ready */
  allReadyMs?: number
  allReadyFromFirstNodeMs?: number
  converged: boolean
  /** mesh.start() (bootstrap spawn) to full discovery, first regular node spawn to it, all-ready to it */
  discoveryFromStartMs?: number
  discoveryFromFirstNodeMs?: number
  discoveryFromReadyMs?: number
  /** same, for the weaker "keeper target" criterion */
  targetFromReadyMs?: number
  /** all-ready to each node's first poll with need regular peers */
  perNodeFromReadyMs: number[]
  rounds: number
  roundMs: number[]
  final: NodeCounts[]
  /** why polling stopped without convergence */
  gaveUp?: string
  /** s after all ready, and min / median / max regular peers per node, at each round where they changed */
  timeline: Array<{ atMs: number, min: number, median: number, max: number, any: number, noAnswer: number }>
  /** ms after all ready of the last poll round */
  lastRoundMs?: number
  /** status requests made, and why those that failed did */
  requests: number
  failures: Map<string, number>
  bootstrap?: { rssBytes: number, heapUsedBytes: number, connections: number }
  stopMs?: number
}

async function meshRun (dir: string, client: Libp2p): Promise<MeshResult> {
  // members other than itself: the other regular nodes and the bootstrap node
  const need = Math.min(TARGET_PEERS, NODES)
  const result: MeshResult = { nodes: NODES, need, nodeReadyMs: [], converged: false, perNodeFromReadyMs: [], rounds: 0, roundMs: [], final: [], timeline: [], requests: 0, failures: new Map() }
  const mesh = new LocalMesh({ dir, nodes: NODES })
  const untrack = track({
    stop: async () => { await mesh.stop() },
    kill: () => { for (const p of mesh.all) if (p.running) p.child.kill('SIGKILL') }
  })
  const spawnAt: number[] = []
  const readyAt: number[] = []
  const addNode = mesh.addNode.bind(mesh)
  mesh.addNode = (name?: string, extraArgs?: string[]): MeshProcess => {
    const i = mesh.nodes.length
    spawnAt[i] = performance.now()
    const p = addNode(name, extraArgs)
    p.ready.then(() => { readyAt[i] = performance.now() }, () => {})
    return p
  }
  progress(`mesh: starting a bootstrap node, then ${NODES} nodes at once (LocalMesh)`)
  const tStart = performance.now()
  try {
    try {
      await mesh.start(60_000)
    } catch (err) {
      result.startError = (err as Error).message.slice(0, 1500)
      return result
    }
    const tReady = performance.now()
    result.bootstrapReadyMs = spawnAt[0] - tStart
    result.nodeReadyMs = readyAt.map((r, i) => r - spawnAt[i])
    result.allReadyMs = tReady - tStart
    result.allReadyFromFirstNodeMs = tReady - spawnAt[0]

    const nodes = mesh.nodes.map(p => ({ p, target: targetOf(p.dataDir) }))
    const regular = new Set([...nodes.map(n => n.target.peerId), mesh.bootstrap!.peerId])
    const clientId = client.peerId.toString()
    const firstOk: Array<number | undefined> = nodes.map(() => undefined)
    progress(`mesh: all ready after ${seconds(result.allReadyMs)}; polling every node's status every ${POLL_MS} ms until each has >= ${need} regular peers (give up after ${seconds(DISCOVERY_TIMEOUT_MS)}, or ${seconds(STALL_MS)} without any change)`)
    const deadline = tReady + DISCOVERY_TIMEOUT_MS
    let lastKey = ''
    let lastChange = tReady
    for (;;) {
      const roundStart = performance.now()
      const counts = await Promise.all(nodes.map(async ({ p, target }): Promise<NodeCounts> => {
        try {
          const s = await statusOf(client, target)
          const others = new Set(s.peers.map(x => x.peerId).filter(id => id !== target.peerId && id !== clientId))
          return { name: p.name, regular: [...others].filter(id => regular.has(id)).length, any: others.size, rssBytes: Number(s.resources?.rssBytes ?? NaN), heapUsedBytes: Number(s.resources?.heapUsedBytes ?? NaN) }
        } catch (err) {
          return { name: p.name, regular: 0, any: 0, rssBytes: NaN, heapUsedBytes: NaN, error: p.running ? (err as Error).message.slice(0, 80) : `exited (${String(p.child.exitCode ?? p.child.signalCode)})` }
        }
      }))
      const roundEnd = performance.now()
      result.rounds++
      result.roundMs.push(roundEnd - roundStart)
      result.final = counts
      counts.forEach((c, i) => { if (firstOk[i] == null && c.regular >= need) firstOk[i] = roundEnd })
      result.lastRoundMs = roundEnd - tReady
      result.requests += counts.length
      for (const c of counts) if (c.error != null) result.failures.set(c.error, (result.failures.get(c.error) ?? 0) + 1)
      const answered = counts.filter(c => c.error == null)
      const reg = summarize(answered.map(c => c.regular)) ?? { min: NaN, median: NaN, max: NaN }
      const anyMin = Math.min(...answered.map(c => c.any))
      const noAnswer = counts.length - answered.length
      const prev = result.timeline.at(-1)
      if (prev == null || prev.min !== reg.min || prev.median !== reg.median || prev.max !== reg.max || prev.any !== anyMin || prev.noAnswer !== noAnswer) {
        result.timeline.push({ atMs: roundEnd - tReady, min: reg.min, median: reg.median, max: reg.max, any: anyMin, noAnswer })
      }
      // stalled = no node's counts changed (a swap of one peer for another is not seen)
      const key = counts.map(c => `${c.regular}/${c.any}/${c.error ?? ''}`).join(',')
      if (key !== lastKey) { lastKey = key; lastChange = roundEnd }
      if (result.targetFromReadyMs == null && counts.every(c => c.any >= Math.min(TARGET_PEERS, NODES))) {
        result.targetFromReadyMs = roundEnd - tReady
      }
      if (counts.every(c => c.regular >= need)) {
        result.converged = true
        result.discoveryFromStartMs = roundEnd - tStart
        result.discoveryFromFirstNodeMs = roundEnd - spawnAt[0]
        result.discoveryFromReadyMs = roundEnd - tReady
        break
      }
      if (performance.now() + POLL_MS > deadline) {
        result.gaveUp = `not reached within ${seconds(DISCOVERY_TIMEOUT_MS)} after all ready; ${counts.filter(c => c.regular < need).length} of ${NODES} nodes below ${need}`
        break
      }
      if (roundEnd - lastChange >= STALL_MS) {
        result.gaveUp = `stalled: unchanged for ${seconds(roundEnd - lastChange)}, gave up at +${seconds(roundEnd - tReady)}; ${counts.filter(c => c.regular < need).length} of ${NODES} nodes below ${need}`
        break
      }
      await sleep(POLL_MS)
    }
    result.perNodeFromReadyMs = firstOk.filter((t): t is number => t != null).map(t => t - tReady)
    try {
      const b = await statusOf(client, targetOf(mesh.bootstrap!.dataDir))
      result.bootstrap = { rssBytes: Number(b.resources?.rssBytes ?? NaN), heapUsedBytes: Number(b.resources?.heapUsedBytes ?? NaN), connections: new Set(b.peers.map(x => x.peerId).filter(id => id !== clientId)).size }
    } catch {}
    return result
  } finally {
    progress(`mesh: stopping ${mesh.all.length} processes`)
    const t0 = performance.now()
    await mesh.stop()
    result.stopMs = performance.now() - t0
    untrack()
  }
}

// ---------------------------------------------------------------- report

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
    `node ${process.version}, libp2p ${libp2p}, update-mesh commit ${commit}; load average at start ${loadavg().map(l => l.toFixed(2)).join(' ')}`
  ]
}

function row (label: string, s: Summary | undefined, extra: string[] = []): string[] {
  return [label, ms(s?.min), ms(s?.median), ms(s?.max), ...extra]
}

function readyVerdict (s: Summary | undefined): string {
  if (s == null) return '-'
  if (s.max < READY_TARGET_MS) return 'under target in every run'
  if (s.median < READY_TARGET_MS) return 'median under, some runs over'
  return 'over target'
}

function rssVerdict (max: number | undefined): string {
  if (max == null || !Number.isFinite(max)) return '-'
  return max < RSS_TARGET_BYTES ? 'under target' : 'over target'
}

function phaseMedians (runs: StartRun[]): Map<string, number> {
  const names = runs[0]?.phases.map(p => p.name) ?? []
  return new Map(names.map(n => [n, summarize(runs.map(r => r.phases.find(p => p.name === n)?.durationMs ?? NaN))!.median]))
}

function phaseStates (runs: StartRun[]): Map<string, string> {
  return new Map((runs[0]?.phases ?? []).map(p => [p.name, p.state]))
}

function printSingle (baselines: Array<{ label: string, samples: number[] }>, series: Series[], bundle: Bundle | string | undefined): void {
  out(section(`1. One node: spawn() to "ready:" (all start-up phases done), ${RUNS} runs each`))
  out(`  one daemon at a time: \`node <cli> node --data-dir DIR ${SINGLE_NODE_ARGS.join(' ')}\` (no bootstrap peers), timed in this`)
  out('  process from just before spawn() to the stderr chunk carrying its ready line; one warm-up start per variant is')
  out('  not counted. "fresh" = new empty data dir (key created, LevelDB created); "existing" = the same dir started again.')
  out(wrap(`Baselines run in this same benchmark, on this machine, ${RUNS} rounds taking turns (spawn() to exit). The libp2p import loads the polyfill, then ${LIBP2P_MODULES.join(', ')}; the module graph import loads dist/src/cli/commands/node.js (everything \`umesh node\` loads) without running it.`))
  out()
  const rows: string[][] = []
  for (const b of baselines) rows.push(row(b.label, summarize(b.samples), ['', '']))
  for (const s of series) {
    const fresh = summarize(s.fresh.map(r => r.readyMs))
    const existing = summarize(s.existing.map(r => r.readyMs))
    rows.push(row(`${s.label}, fresh data dir`, fresh, [`< ${READY_TARGET_MS} ms`, readyVerdict(fresh)]))
    rows.push(row(`${s.label}, existing data dir`, existing, [`< ${READY_TARGET_MS} ms`, readyVerdict(existing)]))
  }
  out(table(['', 'min', 'median', 'max', 'target', 'verdict'], rows))
  if (typeof bundle === 'string') out(`\n  bundled daemon: not measured: ${bundle}`)
  else if (bundle != null) out(`\n  bundle: ${bundle.file} (esbuild, by npm run build), ${mb(bundle.bytes)}; the mesh below runs it too (LocalMesh starts umesh)`)

  out('\n  Where the time goes (medians, ms; phase durations from each run\'s status response):')
  const cols = series.flatMap(s => [[`${s.label} fresh`, s.fresh], [`${s.label} existing`, s.existing]] as Array<[string, StartRun[]]>)
  const med = (xs: number[]): string => ms(summarize(xs)?.median)
  const breakdown: string[][] = [
    ['spawn -> daemon constructed (node boot + module loading)', ...cols.map(([, r]) => med(r.map(x => x.constructedMs)))]
  ]
  const names = cols[0]?.[1][0]?.phases.map(p => p.name) ?? []
  const medians = cols.map(([, r]) => phaseMedians(r))
  const states = cols.map(([, r]) => phaseStates(r))
  for (const n of names) {
    breakdown.push([`  phase ${n}${states[0].get(n) === 'skipped' ? ' (skipped)' : ''}`, ...medians.map(m => ms(m.get(n)))])
  }
  breakdown.push(['  sum of phases', ...cols.map(([, r]) => med(r.map(x => x.phases.reduce((a, p) => a + p.durationMs, 0))))])
  breakdown.push(['spawn -> ready line (total)', ...cols.map(([, r]) => med(r.map(x => x.readyMs)))])
  breakdown.push(['stop: SIGTERM -> exit', ...cols.map(([, r]) => med(r.map(x => x.stopMs)))])
  out(table(['', ...cols.map(([l]) => l)], breakdown))
  const imports = baselines.find(b => b.label.startsWith('import libp2p'))
  const e0 = baselines.find(b => b.label.startsWith('node -e 0'))
  const unb = series[0]
  if (imports != null && e0 != null && unb != null) {
    const total = summarize(unb.fresh.map(r => r.readyMs))!.median
    const imp = summarize(imports.samples)!.median
    const proc = summarize(e0.samples)!.median
    out(`\n  Of the ${ms(total)} median fresh start: bare node process ${ms(proc)} (${pct(proc, total)}), importing the libp2p packages alone`)
    out(`  ${ms(imp)} (${pct(imp, total)}, process included), spawn -> daemon constructed ${med(unb.fresh.map(x => x.constructedMs))}, all phases ${med(unb.fresh.map(x => x.phases.reduce((a, p) => a + p.durationMs, 0)))}.`)
  }
}

function pct (part: number, whole: number): string {
  return `${Math.round(100 * part / whole)}%`
}

function printMesh (m: MeshResult | undefined, meshError: string | undefined): void {
  out(section(`2. Mesh: ${NODES} node processes + 1 bootstrap node to full discovery`))
  out(`  "full discovery": every one of the ${NODES} regular nodes reports, in its own status response, open connections to at`)
  out(`  least min(targetPeers = ${TARGET_PEERS}, ${NODES}) = ${Math.min(TARGET_PEERS, NODES)} distinct other members of the mesh (regular nodes or the bootstrap node:`)
  out('  the peer keeper\'s own target; the benchmark\'s status client does not count). "regular" below means member. Observed by polling every node\'s status from one in-process client (3 s timeout per')
  out(`  request, the connection closed after each so the client takes no place in the nodes' peer budget), ${POLL_MS} ms between`)
  out('  rounds; a time is the end of the first round that saw it, so it is late by up to one round. LocalMesh: 127.0.0.1,')
  out('  mDNS off, one bootstrap.json naming the bootstrap node; the bootstrap node starts and is ready before the nodes spawn.')
  out(`  Polling gives up ${seconds(DISCOVERY_TIMEOUT_MS)} after all ready (--discovery-timeout), or once no node's counts changed for ${seconds(STALL_MS)} (--stall).`)
  out()
  if (meshError != null) { out(`  mesh run failed: ${meshError}`); return }
  if (m == null) return
  if (m.startError != null) { out(`  the mesh did not start: ${m.startError}`); return }
  const readyS = summarize(m.nodeReadyMs)
  const roundS = summarize(m.roundMs)
  const rows: string[][] = [
    ['bootstrap node: mesh.start() -> ready (incl. its key creation)', seconds(m.bootstrapReadyMs)],
    [`each node: spawn -> ready, ${NODES} starting at once (min / median / max)`, `${seconds(readyS?.min)} / ${seconds(readyS?.median)} / ${seconds(readyS?.max)}`],
    ['first node spawn -> all nodes ready', seconds(m.allReadyFromFirstNodeMs)],
    ['mesh.start() (first spawn, the bootstrap node) -> all ready', seconds(m.allReadyMs)]
  ]
  if (m.converged) {
    rows.push(['mesh.start() (first spawn) -> full discovery', seconds(m.discoveryFromStartMs)])
    rows.push(['first node spawn -> full discovery', seconds(m.discoveryFromFirstNodeMs)])
    rows.push(['all ready -> full discovery', seconds(m.discoveryFromReadyMs)])
  } else {
    rows.push(['full discovery', `NOT reached: ${m.gaveUp ?? 'gave up'}`])
  }
  rows.push([`all ready -> every node has >= ${Math.min(TARGET_PEERS, NODES)} peers of any kind (the keeper's own target)`, m.targetFromReadyMs == null ? 'not reached' : seconds(m.targetFromReadyMs)])
  const per = summarize(m.perNodeFromReadyMs)
  rows.push([`all ready -> a node first has >= ${m.need} regular peers (min / median / max, ${m.perNodeFromReadyMs.length} of ${NODES} nodes ever did)`, per == null ? '-' : `${seconds(per.min)} / ${seconds(per.median)} / ${seconds(per.max)}`])
  rows.push(['poll rounds / round duration (median, max)', `${m.rounds} / ${ms(roundS?.median)}, ${ms(roundS?.max)}`])
  const failed = [...m.failures.values()].reduce((a, b) => a + b, 0)
  rows.push(['status requests without an answer (3 s timeout)', `${failed} of ${m.requests}`])
  rows.push([`stop all ${NODES + 1} processes (SIGTERM -> all exited)`, seconds(m.stopMs)])
  out(table(['', 'measured'], rows))
  const regularS = summarize(m.final.map(c => c.regular))
  const anyS = summarize(m.final.map(c => c.any))
  out(`\n  at the ${m.converged ? 'converged' : 'last'} round: distinct regular peers per node min ${regularS?.min ?? '-'} / median ${regularS?.median ?? '-'} / max ${regularS?.max ?? '-'}; peers of any kind min ${anyS?.min ?? '-'} / median ${anyS?.median ?? '-'} / max ${anyS?.max ?? '-'}` +
    (m.bootstrap != null ? `; bootstrap node connected to ${m.bootstrap.connections}` : ''))
  out(`  timeline after all ready (regular peers per node min/median/max, fewest peers of any kind), at each change:`)
  const steps = m.timeline.map(t => `+${(t.atMs / 1000).toFixed(1)}s ${t.min}/${t.median}/${t.max} (${t.any})${t.noAnswer > 0 ? ` [${t.noAnswer} no answer]` : ''}`)
  for (let i = 0; i < steps.length; i += 6) out('    ' + steps.slice(i, i + 6).join(', '))
  if (failed > 0) out(wrap(`why requests got no answer: ${[...m.failures.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([e, n]) => `${n} x "${e}"`).join('; ')}`, 116, '    '))
  out(`  per node at the ${m.converged ? 'converged' : 'last'} round (regular peers / peers of any kind, RSS; * = below ${m.need}):`)
  const cells = m.final.map(c => `${c.name} ${c.regular}/${c.any}${c.regular < m.need ? '*' : ''} ${mb(c.rssBytes)}${c.error != null ? ` (${c.error})` : ''}`)
  for (let i = 0; i < cells.length; i += 5) out('    ' + cells.slice(i, i + 5).join(', '))
  const below = m.final.filter(c => c.error == null && c.regular < m.need)
  if (below.length > 0 && below.every(c => c.any >= Math.min(TARGET_PEERS, NODES))) {
    out(wrap(`Every node below ${m.need} regular peers has ${below.map(c => c.any).join(', ')} peers of any kind, which meets targetPeers = ${TARGET_PEERS}: PeerKeeper counts every connected peer (the bootstrap node included) toward its target, so such a node does not dial more, and full discovery as defined here can only come from other nodes dialling it.`))
  }
}

function printMemory (series: Series[], m: MeshResult | undefined): Array<[string, string, string]> {
  out(section('3. Resident memory (RSS) per daemon, from status (resources.rssBytes); MB = 10^6 bytes'))
  const rows: string[][] = []
  const verdicts: Array<[string, string, string]> = []
  for (const s of series) {
    if (s.idle == null) continue
    rows.push([`single ${s.label} node, idle ${IDLE_MS} ms after ready`, '', mb(s.idle.rssBytes), '', `< ${mb(RSS_TARGET_BYTES)}`, rssVerdict(s.idle.rssBytes), mb(s.idle.heapUsedBytes)])
    verdicts.push([`RSS, single idle ${s.label} node`, mb(s.idle.rssBytes), rssVerdict(s.idle.rssBytes)])
    const fresh = summarize(s.fresh.map(r => r.rssBytes))
    rows.push([`single ${s.label} node, just after ready (${RUNS} fresh runs)`, mb(fresh?.min), mb(fresh?.median), mb(fresh?.max), `< ${mb(RSS_TARGET_BYTES)}`, rssVerdict(fresh?.max), mb(summarize(s.fresh.map(r => r.heapUsedBytes))?.median)])
  }
  if (m != null && m.final.length > 0) {
    const rss = summarize(m.final.map(c => c.rssBytes).filter(Number.isFinite))
    const when = `+${seconds(m.lastRoundMs)} after all ready`
    rows.push([`mesh nodes (${m.final.length}), ${m.converged ? `at full discovery, ${when}` : `at give-up, ${when} (not converged)`}`, mb(rss?.min), mb(rss?.median), mb(rss?.max), `< ${mb(RSS_TARGET_BYTES)}`, rssVerdict(rss?.max), mb(summarize(m.final.map(c => c.heapUsedBytes).filter(Number.isFinite))?.median)])
    verdicts.push([`RSS, ${m.final.length}-node mesh, max of nodes`, mb(rss?.max), rssVerdict(rss?.max)])
    if (m.bootstrap != null) rows.push([`mesh bootstrap node (${m.bootstrap.connections} peers)`, '', mb(m.bootstrap.rssBytes), '', `< ${mb(RSS_TARGET_BYTES)}`, rssVerdict(m.bootstrap.rssBytes), mb(m.bootstrap.heapUsedBytes)])
  }
  out(table(['', 'min', 'median', 'max', 'target', 'verdict', 'JS heap used (median)'], rows))
  return verdicts
}

// ---------------------------------------------------------------- main

async function main (): Promise<number> {
  const t0 = performance.now()
  const loadStart = loadavg()[0]
  const root = mkdtempSync(join(tmpdir(), 'umesh-bench-'))
  trackDir(root)
  const argv = process.argv.slice(2)
  out('update-mesh start-up benchmark (figures only; nothing is asserted)')
  out(`command: node dist/bench/startup.js${argv.length > 0 ? ' ' + argv.join(' ') : ''}   (npm run bench = npm run build && node dist/bench/startup.js)`)
  for (const line of machine()) out(line)
  out(`targets: ready in under ${READY_TARGET_MS / 1000} s after process start; under ${mb(RSS_TARGET_BYTES)} resident per daemon`)

  const client = await createClientNode()
  track({ stop: async () => { await client.stop() }, kill: () => {} })

  const polyfill = pathToFileURL(join(ROOT, 'dist', 'src', 'polyfill.js')).href
  const nodeCommand = pathToFileURL(join(ROOT, 'dist', 'src', 'cli', 'commands', 'node.js')).href
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
    bundle = { file: BUNDLED_CLI, bytes: statSync(BUNDLED_CLI).size }
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
