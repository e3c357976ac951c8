/**
 * Release distribution benchmark: prints figures, asserts nothing.
 *
 *   npm run bench:releases          (npm run build && node dist/bench/releases.js)
 *   node dist/bench/releases.js [--size 64] [--followers 8] [--announce-followers 20] [--control-followers 10]
 *       [--releases 10] [--release-wait 6] [--straggler-wait 15] [--poll-ms 200] [--announce-poll-ms 150]
 *       [--reconnect-per-poll] [--part-timeout 180] [--parts 1,2,3]
 *
 * All processes are real `umesh` daemons (the bundle, dist/umesh.mjs) on
 * loopback, started with LocalMesh: a bootstrap node, a publisher (--repo)
 * and followers (--trusted-root, --follow app). Node state comes from the
 * status protocol (see statusOf for why the connection stays open); the
 * publisher runs with DEBUG=umesh:publisher so its log says how many gossip
 * peers each announcement reached.
 *
 * 1. fan-out: one file of --size MiB of seeded pseudo-random bytes (AES-CTR
 *    keystream, the same every run) published with `umesh release add` while
 *    the publisher and --followers followers run; the time `release add`
 *    takes, the time from it returning to each follower holding the release,
 *    and each node's bytes in and out (the publisher's bytes out as a
 *    multiple of the release size shows whether followers share with each
 *    other or all fetch from the publisher). Baselines in the same run:
 *    sha256 of the file, a local copy of it, and `umesh release list` (the
 *    CLI's fixed cost).
 * 3. delta: on the same mesh, a second version with 1 MiB of new bytes
 *    inserted in the middle of the file; each follower's bytes in until it
 *    holds it, as a fraction of the release size, beside the new bytes
 *    `release add` reports at chunk level.
 * 2. announcements: a fresh mesh of a publisher and --announce-followers
 *    followers; --releases tiny releases, one at a time, each added in this
 *    process (addRelease); for every (follower, release) the time from the
 *    new timestamp being written to the follower trusting it
 *    (trust.timestampVersion), and to it holding the release; p50/p99/max,
 *    an unreached sample counted as the slowest. Then the same with
 *    --control-followers followers, for comparison: half the processes on
 *    the same 2 cores, and no node with more than 10 gossip peers on one IP
 *    address (where gossipsub's default IP-colocation score would start
 *    to penalise peers, had the daemon not turned it off).
 *
 * Each part is bounded by --part-timeout, the whole run by a hard limit; every
 * process is stopped (finally, SIGINT, SIGTERM) and the temp dir removed.
 */
import '../src/polyfill.js'
import { execFileSync, spawn } from 'node:child_process'
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { copyFile } from 'node:fs/promises'
import { createCipheriv, createHash } from 'node:crypto'
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { fetchStatus } from '../protocols/status/index.js'
import { readDaemonFile } from '../src/daemon/daemon-file.js'
import { CLI_PATH, LocalMesh } from '../src/demo/local-mesh.js'
import { createClientNode } from '../src/network/client-node.js'
import { addRelease } from '../src/release/index.js'
import { Repository } from '../src/trust/repository.js'
import { intOpt, runBenchmark, track, trackDir } from './procs.js'
import { ms, section, seconds, summarize, table, wrap } from './report.js'
import type { StatusResponse } from '../protocols/status/index.js'
import type { MeshProcess } from '../src/demo/local-mesh.js'
import type { Libp2p } from '@libp2p/interface'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MiB = 1024 * 1024
/** parts stop starting new work after this (from the start of the run) */
const BUDGET_MS = 250_000
/** the whole run is cut off here, whatever the per-part limits say */
const HARD_LIMIT_MS = 290_000
const budgetEnd = wallNow() + BUDGET_MS

const { values: opts } = parseArgs({
  options: {
    size: { type: 'string', default: '64' },
    followers: { type: 'string', default: '8' },
    'announce-followers': { type: 'string', default: '20' },
    releases: { type: 'string', default: '10' },
    'poll-ms': { type: 'string', default: '200' },
    'announce-poll-ms': { type: 'string', default: '150' },
    'part-timeout': { type: 'string', default: '180' },
    'release-wait': { type: 'string', default: '6' },
    'straggler-wait': { type: 'string', default: '15' },
    'control-followers': { type: 'string', default: '10' },
    'reconnect-per-poll': { type: 'boolean', default: false },
    parts: { type: 'string', default: '1,2,3' },
    help: { type: 'boolean', default: false }
  }
})

if (opts.help === true) {
  process.stdout.write('node dist/bench/releases.js [--size MiB(64)] [--followers 8] [--announce-followers 20] [--control-followers 10 (0: none)] [--releases 10]\n' +
    '    [--release-wait SECONDS(6)] [--straggler-wait SECONDS(15)] [--poll-ms 200] [--announce-poll-ms 150] [--reconnect-per-poll] [--part-timeout SECONDS(180)] [--parts 1,2,3]\n')
  process.exit(0)
}
const SIZE = intOpt('size', opts.size, 2, 1024) * MiB
const FOLLOWERS = intOpt('followers', opts.followers, 1, 50)
const ANNOUNCE_FOLLOWERS = intOpt('announce-followers', opts['announce-followers'], 1, 60)
const RELEASES = intOpt('releases', opts.releases, 1, 100)
const POLL_MS = intOpt('poll-ms', opts['poll-ms'], 50, 5_000)
const ANNOUNCE_POLL_MS = intOpt('announce-poll-ms', opts['announce-poll-ms'], 50, 5_000)
const PART_TIMEOUT_MS = intOpt('part-timeout', opts['part-timeout'], 10, 280) * 1000
const RELEASE_WAIT_MS = intOpt('release-wait', opts['release-wait'], 1, 120) * 1000
const STRAGGLER_WAIT_MS = intOpt('straggler-wait', opts['straggler-wait'], 0, 120) * 1000
const CONTROL_FOLLOWERS = intOpt('control-followers', opts['control-followers'], 0, 60)
const RECONNECT = opts['reconnect-per-poll'] === true
const PARTS = new Set(opts.parts.split(',').map(s => s.trim()))
for (const p of PARTS) {
  if (!['1', '2', '3'].includes(p)) { process.stderr.write(`--parts: expected a list of 1, 2, 3, found "${opts.parts}"\n`); process.exit(2) }
}
if (PARTS.has('3') && !PARTS.has('1')) { process.stderr.write('--parts: part 3 runs on the mesh of part 1; add 1\n'); process.exit(2) }
const INSERT_BYTES = 1 * MiB

// ---------------------------------------------------------------- output

function progress (text: string): void {
  process.stderr.write(`# ${text}\n`)
}

function out (text = ''): void {
  process.stdout.write(text + '\n')
}

function mib (bytes: number | undefined): string {
  return bytes == null || !Number.isFinite(bytes) ? '-' : `${(bytes / MiB).toFixed(2)} MiB`
}

function pct (x: number | undefined): string {
  return x == null || !Number.isFinite(x) ? '-' : `${(x * 100).toFixed(2)} %`
}

function times (x: number | undefined): string {
  return x == null || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}x`
}

function rate (bytes: number, msTaken: number): string {
  return Number.isFinite(msTaken) && msTaken > 0 ? `${(bytes / MiB / (msTaken / 1000)).toFixed(0)} MiB/s` : '-'
}

/** nearest-rank percentile */
function percentile (samples: number[], p: number): number {
  if (samples.length === 0) return NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]
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

// ---------------------------------------------------------------- data

/** seeded pseudo-random bytes: the AES-256-CTR keystream under a key derived from the seed */
function seeded (bytes: number, seed: string): Buffer {
  return createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16)).update(Buffer.alloc(bytes))
}

async function sha256File (file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

// ---------------------------------------------------------------- processes

/** wall-clock milliseconds with sub-ms resolution, comparable with file mtimes and the daemons' Date.now() */
function wallNow (): number {
  return performance.timeOrigin + performance.now()
}

interface CliRun { code: number | null, stdout: string, stderr: string, ms: number, endWall: number }

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
    return { code, stdout, stderr, ms: performance.now() - t0, endWall: wallNow() }
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

/** the publisher logs each announcement with its gossip recipient count under DEBUG=umesh:publisher; the benchmark reads it back */
function startMesh (dir: string): LocalMesh {
  const mesh = new LocalMesh({ dir, nodes: 0, env: { DEBUG: [process.env.DEBUG, 'umesh:publisher'].filter(d => d != null && d !== '').join(',') } })
  const untrack = track({
    stop: async () => { await mesh.stop() },
    kill: () => { for (const p of mesh.all) if (p.running) p.child.kill('SIGKILL') }
  })
  const stop = mesh.stop.bind(mesh)
  mesh.stop = async () => { try { await stop() } finally { untrack() } }
  return mesh
}

// ---------------------------------------------------------------- status

interface Watched { name: string, p: MeshProcess, peerId: string, network: string, addrs: ReturnType<typeof multiaddr>[] }

function watch (p: MeshProcess): Watched {
  const info = readDaemonFile(p.dataDir)
  const local = [...info.addrs].sort((a, b) => Number(!a.includes('/127.0.0.1/')) - Number(!b.includes('/127.0.0.1/')))
  return { name: p.name, p, peerId: info.peerId, network: info.network, addrs: local.map(a => multiaddr(a)) }
}

const requests = { made: 0, failed: 0, ms: [] as number[], errors: new Map<string, number>() }

/**
 * One status request. The connection stays open between polls unless
 * --reconnect-per-poll (the start-up benchmark's way, which holds no slot of
 * a node's peer budget): at every 150 ms to 20 nodes that is some 130 Noise
 * handshakes a second, enough load on 2 cores to move the figures measured.
 * An open connection is one slot of --max-connections (100); this client
 * speaks neither gossipsub nor sync, so no node gossips or fetches through it.
 */
async function statusOf (client: Libp2p, n: Watched, timeoutMs = 3_000): Promise<StatusResponse> {
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
    throw err
  } finally {
    if (RECONNECT) await hangUp(client, n)
  }
}

async function hangUp (client: Libp2p, n: Watched): Promise<void> {
  await client.hangUp(peerIdFromString(n.peerId), { signal: AbortSignal.timeout(1_000) }).catch(() => {})
}

async function tryStatus (client: Libp2p, n: Watched): Promise<StatusResponse | undefined> {
  try { return await statusOf(client, n) } catch { return undefined }
}

interface Traffic { bytesIn: number, bytesOut: number, cpuMs: number }

function trafficOf (s: StatusResponse | undefined): Traffic | undefined {
  if (s == null) return undefined
  return {
    bytesIn: Number(s.traffic?.bytesIn ?? NaN),
    bytesOut: Number(s.traffic?.bytesOut ?? NaN),
    cpuMs: (Number(s.resources?.cpuUserUs ?? NaN) + Number(s.resources?.cpuSystemUs ?? NaN)) / 1000
  }
}

async function snapshot (client: Libp2p, nodes: Watched[]): Promise<Array<Traffic | undefined>> {
  return await Promise.all(nodes.map(async n => trafficOf(await tryStatus(client, n))))
}

function holds (s: StatusResponse, version: string): boolean {
  return s.releases.some(r => r.package === 'app' && r.version === version && r.state === 'held')
}

/**
 * Polls every pending node at once every intervalMs (from round start to
 * round start) until `done` says so for each, or the deadline (wall ms).
 * `done` sees each answer with the wall time it arrived.
 */
async function pollUntil (client: Libp2p, nodes: Watched[], intervalMs: number, deadline: number, done: (n: Watched, s: StatusResponse, at: number) => boolean): Promise<Watched[]> {
  let pending = [...nodes]
  while (pending.length > 0 && wallNow() < deadline) {
    const roundStart = performance.now()
    const finished = await Promise.all(pending.map(async n => {
      const s = await tryStatus(client, n)
      return s != null && done(n, s, wallNow())
    }))
    pending = pending.filter((_n, i) => !finished[i])
    if (pending.length === 0) break
    const wait = intervalMs - (performance.now() - roundStart)
    if (wait > 0) await sleep(Math.min(wait, Math.max(0, deadline - wallNow())))
  }
  return pending
}

// ---------------------------------------------------------------- 1 + 3: fan-out and delta

interface Baselines { sha256Ms: number[], copyMs: number[], listMs: number[], sha256: string }

interface FollowerFetch {
  name: string
  /** wall ms of the first poll that listed the release (fetching or held), and of the first that showed it held */
  seenAt?: number
  heldAt?: number
  /** bytesIn in the answer that first showed it held */
  heldBytesIn?: number
}

interface NodeRow { name: string, before?: Traffic, after?: Traffic }

interface FanOut {
  size: number
  add?: { ms: number, endWall: number, writtenWall: number, json: any }
  fetches: FollowerFetch[]
  nodes: NodeRow[]
  connectedToPublisher?: number
  notHeld: string[]
  /** gossip recipients of each publish, from the publisher's log: timestamp version -> counts */
  recipients?: Map<number, number[]>
  timestampVersion?: number
  error?: string
}

interface Delta {
  size: number
  timestampVersion?: number
  recipients?: Map<number, number[]>
  add?: { ms: number, endWall: number, json: any }
  idle?: { ms: number, bytesIn: number[] }
  fetches: FollowerFetch[]
  nodes: NodeRow[]
  notHeld: string[]
  error?: string
}

async function baselines (file: string, dir: string, repo: string): Promise<Baselines> {
  const b: Baselines = { sha256Ms: [], copyMs: [], listMs: [], sha256: '' }
  progress('baselines: sha256 of the file, a local copy of it, `umesh release list` (1 warm-up + 3 runs each)')
  const copy = join(dir, 'copy.bin')
  for (let i = 0; i < 4; i++) {
    let t0 = performance.now()
    b.sha256 = await sha256File(file)
    if (i > 0) b.sha256Ms.push(performance.now() - t0)
    t0 = performance.now()
    await copyFile(file, copy)
    if (i > 0) b.copyMs.push(performance.now() - t0)
    rmSync(copy, { force: true })
    const list = await umeshOk(['release', 'list', '--repo', repo, '--json'])
    if (i > 0) b.listMs.push(list.ms)
  }
  return b
}

async function fanOutAndDelta (root: string, client: Libp2p, runDelta: boolean): Promise<{ base?: Baselines, fan: FanOut, delta?: Delta }> {
  const deadline1 = Math.min(wallNow() + PART_TIMEOUT_MS, budgetEnd)
  const fan: FanOut = { size: SIZE, fetches: [], nodes: [], notHeld: [] }
  const dir = join(root, 'fanout')
  const repo = join(dir, 'repo')
  const src1 = join(dir, 'src-1')
  const src2 = join(dir, 'src-2')
  mkdirSync(src1, { recursive: true })
  mkdirSync(src2, { recursive: true })
  progress(`part 1: ${SIZE / MiB} MiB of seeded data; repo init`)
  const v1 = seeded(SIZE, 'umesh-bench-releases v1')
  writeFileSync(join(src1, 'data.bin'), v1)
  await umeshOk(['repo', 'init', '--repo', repo])
  const base = await baselines(join(src1, 'data.bin'), dir, repo)

  const mesh = startMesh(join(dir, 'mesh'))
  let delta: Delta | undefined
  try {
    progress(`part 1: starting a bootstrap node, a publisher and ${FOLLOWERS} followers`)
    await mesh.start(60_000)
    const publisherP = mesh.addNode('publisher', ['--repo', repo])
    const followerArgs = ['--trusted-root', join(repo, 'metadata', '1.root.json'), '--follow', 'app']
    const followerPs = Array.from({ length: FOLLOWERS }, (_x, i) => mesh.addNode(`follower-${i + 1}`, followerArgs))
    await Promise.all([publisherP, ...followerPs].map(async p => { await p.waitReady(60_000) }))
    const publisher = watch(publisherP)
    const followers = followerPs.map(watch)
    const bootstrap = watch(mesh.bootstrap!)
    const all = [publisher, ...followers, bootstrap]

    // followers fetch from the peers they are connected to: wait (bounded) until each is connected to the publisher
    progress('part 1: waiting (up to 30 s) for every follower to be connected to the publisher')
    const connected = new Set<string>()
    await pollUntil(client, followers, 500, Math.min(deadline1, wallNow() + 30_000), (n, s) => {
      const ok = s.peers.some(x => x.peerId === publisher.peerId)
      if (ok) connected.add(n.name)
      return ok
    })
    fan.connectedToPublisher = connected.size

    const before = await snapshot(client, all)
    progress(`part 1: umesh release add (${SIZE / MiB} MiB), then polling the followers every ${POLL_MS} ms until each holds it`)
    const add = await umeshOk(['release', 'add', src1, '--repo', repo, '--package', 'app', '--version', '1.0.0', '--json'], 120_000)
    fan.add = { ms: add.ms, endWall: add.endWall, writtenWall: statSync(join(repo, 'metadata', 'timestamp.json')).mtimeMs, json: JSON.parse(add.stdout) }
    fan.timestampVersion = Repository.open(repo).signedOf('timestamp').version as number
    fan.fetches = followers.map(f => ({ name: f.name }))
    const byName = new Map(fan.fetches.map(f => [f.name, f]))
    fan.notHeld = (await pollUntil(client, followers, POLL_MS, deadline1, (n, s, at) => {
      const f = byName.get(n.name)!
      if (f.seenAt == null && s.releases.some(r => r.package === 'app' && r.version === '1.0.0')) f.seenAt = at
      if (holds(s, '1.0.0')) {
        f.heldAt = at
        f.heldBytesIn = Number(s.traffic?.bytesIn ?? NaN)
        return true
      }
      return false
    })).map(n => n.name)
    const after = await snapshot(client, all)
    fan.nodes = all.map((n, i) => ({ name: n.name, before: before[i], after: after[i] }))

    if (runDelta) {
      delta = await deltaPart(client, repo, src2, v1, publisher, followers, bootstrap)
    }
  } catch (err) {
    fan.error ??= (err as Error).message.slice(0, 1500)
  } finally {
    progress('part 1: stopping the mesh')
    await mesh.stop()
    fan.recipients = gossipRecipients(join(dir, 'mesh', 'publisher.log'))
    if (delta != null) delta.recipients = fan.recipients
    rmSync(dir, { recursive: true, force: true })
  }
  return { base, fan, delta }
}

async function deltaPart (client: Libp2p, repo: string, src2: string, v1: Buffer, publisher: Watched, followers: Watched[], bootstrap: Watched): Promise<Delta> {
  const deadline = Math.min(wallNow() + PART_TIMEOUT_MS, budgetEnd)
  const mid = Math.floor(v1.length / 2)
  const v2 = Buffer.concat([v1.subarray(0, mid), seeded(INSERT_BYTES, 'umesh-bench-releases insertion'), v1.subarray(mid)])
  writeFileSync(join(src2, 'data.bin'), v2)
  const delta: Delta = { size: v2.length, fetches: [], nodes: [], notHeld: [] }
  // the followers that hold v1 take part; one that does not would fetch everything
  const holding: Watched[] = []
  for (const f of followers) {
    const s = await tryStatus(client, f)
    if (s != null && holds(s, '1.0.0')) holding.push(f)
  }
  if (holding.length === 0) {
    delta.error = 'no follower holds 1.0.0, so there is nothing to measure a delta against'
    return delta
  }
  const all = [publisher, ...holding, bootstrap]
  try {
    // background traffic (gossip, DHT, these status polls) over a quiet window, polled as often as below
    progress(`part 3: idle window, 3 s of polling every ${POLL_MS} ms (background traffic)`)
    const idleStart = await snapshot(client, holding)
    const t0 = performance.now()
    await pollUntil(client, holding, POLL_MS, wallNow() + 3_000, () => false)
    const idleEnd = await snapshot(client, holding)
    delta.idle = { ms: performance.now() - t0, bytesIn: holding.map((_f, i) => (idleEnd[i]?.bytesIn ?? NaN) - (idleStart[i]?.bytesIn ?? NaN)) }

    const before = await snapshot(client, all)
    progress(`part 3: umesh release add (v1 with ${INSERT_BYTES / MiB} MiB inserted at ${mib(mid)}), then polling ${holding.length} follower(s) until each holds it`)
    const add = await umeshOk(['release', 'add', src2, '--repo', repo, '--package', 'app', '--version', '1.1.0', '--json'], 120_000)
    delta.add = { ms: add.ms, endWall: add.endWall, json: JSON.parse(add.stdout) }
    delta.timestampVersion = Repository.open(repo).signedOf('timestamp').version as number
    delta.fetches = holding.map(f => ({ name: f.name }))
    const byName = new Map(delta.fetches.map(f => [f.name, f]))
    delta.notHeld = (await pollUntil(client, holding, POLL_MS, deadline, (n, s, at) => {
      const f = byName.get(n.name)!
      if (f.seenAt == null && s.releases.some(r => r.package === 'app' && r.version === '1.1.0')) f.seenAt = at
      if (holds(s, '1.1.0')) {
        f.heldAt = at
        f.heldBytesIn = Number(s.traffic?.bytesIn ?? NaN)
        return true
      }
      return false
    })).map(n => n.name)
    const after = await snapshot(client, all)
    delta.nodes = all.map((n, i) => ({ name: n.name, before: before[i], after: after[i] }))
  } catch (err) {
    delta.error = (err as Error).message.slice(0, 1500)
  }
  return delta
}

// ---------------------------------------------------------------- 2: announcements

interface Sample {
  release: number
  node: string
  /** wall ms the release's timestamp.json was written */
  written: number
  /** ms from `written`: first poll trusting the new timestamp, the node's own lastRefreshMs (end of that refresh), first poll holding it (or a newer release) */
  polled?: number
  nodeClock?: number
  held?: number
}

interface AnnounceRound {
  label: string
  followers: number
  startMs?: number
  initialSyncMs?: number
  initialMissing: string[]
  /** connected mesh peers (this benchmark's client not counted), all on 127.0.0.1 */
  publisherPeers?: number
  followerPeers: number[]
  releases: Array<{ version: string, timestampVersion: number, addMs: number, writtenToReturnMs: number, waitedMs: number }>
  samples: Sample[]
  /** wall ms polling stopped: unreached samples were watched until then */
  endWall?: number
  /** timestamp version -> gossip recipients, from the publisher's log ("announced timestamp version V to N peers") */
  recipients: Map<number, number[]>
  skipped?: string
  error?: string
}

function tinySource (dir: string, i: number): void {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'data.bin'), seeded(4096, `umesh-bench-releases tiny ${i}`))
}

function gossipRecipients (logFile: string): Map<number, number[]> {
  const map = new Map<number, number[]>()
  let text = ''
  try { text = readFileSync(logFile, 'utf8') } catch {}
  for (const m of text.matchAll(/announced timestamp version (\d+) to (\d+) peers/g)) {
    const list = map.get(Number(m[1])) ?? []
    list.push(Number(m[2]))
    map.set(Number(m[1]), list)
  }
  return map
}

async function waitUntil (cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs
  while (!cond()) {
    if (performance.now() >= end) return false
    await sleep(25)
  }
  return true
}

async function announceRound (root: string, client: Libp2p, label: string, followerCount: number, deadline: number): Promise<AnnounceRound> {
  const result: AnnounceRound = { label, followers: followerCount, initialMissing: [], followerPeers: [], releases: [], samples: [], recipients: new Map() }
  const dir = join(root, `announce-${followerCount}`)
  const repo = join(dir, 'repo')
  const src = join(dir, 'src')
  mkdirSync(dir, { recursive: true })
  await umeshOk(['repo', 'init', '--repo', repo])
  tinySource(src, 0)
  await addRelease(Repository.open(repo), src, { package: 'app', version: '1.0.0' })
  const versions = ['1.0.0']

  const mesh = startMesh(join(dir, 'mesh'))
  let stopPolling = false
  let poller: Promise<void> | undefined
  try {
    progress(`part 2 (${label}): starting a bootstrap node, a publisher and ${followerCount} followers`)
    const t0 = performance.now()
    await mesh.start(60_000)
    const publisherP = mesh.addNode('publisher', ['--repo', repo])
    const followerArgs = ['--trusted-root', join(repo, 'metadata', '1.root.json'), '--follow', 'app']
    const followerPs = Array.from({ length: followerCount }, (_x, i) => mesh.addNode(`follower-${i + 1}`, followerArgs))
    await Promise.all([publisherP, ...followerPs].map(async p => { await p.waitReady(60_000) }))
    result.startMs = performance.now() - t0
    const publisher = watch(publisherP)
    const followers = followerPs.map(watch)

    const current = (): number => Repository.open(repo).signedOf('timestamp').version as number
    progress(`part 2 (${label}): waiting (up to 45 s) for every follower to hold 1.0.0`)
    const t1 = performance.now()
    result.initialMissing = (await pollUntil(client, followers, 500, Math.min(deadline, wallNow() + 45_000), (_n, s) =>
      (s.trust?.timestampVersion ?? 0) >= current() && holds(s, '1.0.0'))).map(n => n.name)
    result.initialSyncMs = performance.now() - t1
    const clientId = client.peerId.toString()
    const peersOf = (s: StatusResponse | undefined): number => s == null ? NaN : new Set(s.peers.map(x => x.peerId).filter(id => id !== clientId)).size
    result.publisherPeers = peersOf(await tryStatus(client, publisher))
    result.followerPeers = (await Promise.all(followers.map(async f => peersOf(await tryStatus(client, f))))).filter(Number.isFinite)

    // one poller for the whole round: every follower with a sample still open, every ANNOUNCE_POLL_MS
    const open = (f: Watched): Sample[] => result.samples.filter(x => x.node === f.name && (x.polled == null || x.nodeClock == null || x.held == null))
    const heldFrom = (s: StatusResponse): number => Math.max(-1, ...s.releases.filter(r => r.package === 'app' && r.state === 'held').map(r => versions.indexOf(r.version)))
    poller = (async () => {
      while (!stopPolling) {
        const roundStart = performance.now()
        await Promise.all(followers.filter(f => open(f).length > 0).map(async f => {
          const s = await tryStatus(client, f)
          if (s == null) return
          const at = wallNow()
          const trusted = s.trust?.timestampVersion ?? 0
          const refreshed = Number(s.trust?.lastRefreshMs ?? 0)
          const newestHeld = heldFrom(s)
          for (const x of open(f)) {
            const want = result.releases[x.release - 1]?.timestampVersion ?? Infinity
            if (x.polled == null && trusted >= want) x.polled = at - x.written
            // tuf-js stores the new timestamp before it fetches snapshot and targets, so the
            // refresh that verified it may still be running when the version first shows
            if (x.nodeClock == null && trusted >= want && refreshed >= x.written) x.nodeClock = refreshed - x.written
            if (x.held == null && newestHeld >= x.release) x.held = at - x.written
          }
        }))
        const wait = ANNOUNCE_POLL_MS - (performance.now() - roundStart)
        if (wait > 0) await sleep(wait)
      }
    })()

    for (let i = 1; i <= RELEASES; i++) {
      if (wallNow() + RELEASE_WAIT_MS > deadline) { result.skipped = `stopped after ${i - 1} releases: the time limit was near`; break }
      // a random pause so the releases fall at different points of the publisher's 500 ms watch of the timestamp
      await sleep(300 + Math.floor(Math.random() * 500))
      const version = `1.0.${i}`
      tinySource(src, i)
      progress(`part 2 (${label}): release ${i}/${RELEASES} (app ${version}); waiting up to ${RELEASE_WAIT_MS / 1000} s for every follower to trust and hold it`)
      const tAdd = performance.now()
      const r = Repository.open(repo)
      await addRelease(r, src, { package: 'app', version })
      const returned = wallNow()
      const addMs = performance.now() - tAdd
      const written = statSync(join(repo, 'metadata', 'timestamp.json')).mtimeMs
      versions.push(version)
      result.releases.push({ version, timestampVersion: r.signedOf('timestamp').version as number, addMs, writtenToReturnMs: returned - written, waitedMs: 0 })
      for (const f of followers) result.samples.push({ release: i, node: f.name, written })
      const tw = performance.now()
      await waitUntil(() => result.samples.every(x => x.release !== i || (x.polled != null && x.held != null)), RELEASE_WAIT_MS)
      result.releases[i - 1].waitedMs = performance.now() - tw
    }
    const left = (): boolean => result.samples.every(x => x.polled != null && x.held != null)
    if (!left()) {
      const wait = Math.max(0, Math.min(STRAGGLER_WAIT_MS, deadline - wallNow()))
      progress(`part 2 (${label}): waiting up to ${(wait / 1000).toFixed(0)} s for the followers still behind`)
      await waitUntil(left, wait)
    }
    stopPolling = true
    await poller
    result.endWall = wallNow()
  } catch (err) {
    result.error = (err as Error).message.slice(0, 1500)
  } finally {
    stopPolling = true
    await poller?.catch(() => {})
    result.endWall ??= wallNow()
    progress(`part 2 (${label}): stopping the mesh`)
    await mesh.stop()
    result.recipients = gossipRecipients(join(dir, 'mesh', 'publisher.log'))
    rmSync(dir, { recursive: true, force: true })
  }
  return result
}

// ---------------------------------------------------------------- printing

function printFanOut (base: Baselines | undefined, fan: FanOut): void {
  out(section(`1. Fan-out: one ${mib(fan.size)} release to ${FOLLOWERS} followers (publisher + ${FOLLOWERS} followers + bootstrap node, loopback)`))
  if (base != null) {
    out(wrap(`Baselines, same run, same file (median of 3 after 1 warm-up): the CLI's fixed cost is \`umesh release list --repo DIR --json\` (process start, bundle load, repository open). The file's sha256 (the same every run): ${base.sha256.slice(0, 16)}...`))
    out()
    out(table(['', 'median', 'min', 'max', 'throughput'], [
      ['sha256 of the file (read + hash, this process)', ms(summarize(base.sha256Ms)?.median), ms(summarize(base.sha256Ms)?.min), ms(summarize(base.sha256Ms)?.max), rate(fan.size, summarize(base.sha256Ms)?.median ?? NaN)],
      ['local copy of the file (fs.copyFile)', ms(summarize(base.copyMs)?.median), ms(summarize(base.copyMs)?.min), ms(summarize(base.copyMs)?.max), rate(fan.size, summarize(base.copyMs)?.median ?? NaN)],
      ['umesh release list (CLI fixed cost)', ms(summarize(base.listMs)?.median), ms(summarize(base.listMs)?.min), ms(summarize(base.listMs)?.max), '']
    ]))
    out()
  }
  if (fan.add == null) {
    out(`  not measured: ${fan.error ?? 'release add did not run'}`)
    return
  }
  const j = fan.add.json
  out(table(['release add (umesh CLI process, spawn to exit)', 'time', 'throughput'], [
    [`umesh release add: ${mib(j.totalSize)} in ${String(j.chunks)} chunks (${String(j.newChunks)} new, ${mib(j.newBytes)})`, ms(fan.add.ms), rate(j.totalSize, fan.add.ms)],
    ['  of which the timestamp was written at (from spawn)', ms(fan.add.ms - (fan.add.endWall - fan.add.writtenWall)), ''],
    ['  minus the CLI fixed cost (~ chunk + store + sign)', ms(fan.add.ms - (summarize(base?.listMs ?? [])?.median ?? NaN)), rate(j.totalSize, fan.add.ms - (summarize(base?.listMs ?? [])?.median ?? NaN))]
  ]))
  out()
  const rec = fan.timestampVersion == null ? undefined : fan.recipients?.get(fan.timestampVersion)
  out(`  followers connected to the publisher before the release: ${String(fan.connectedToPublisher)} of ${FOLLOWERS}; gossip recipients of the announcement (publisher's log): ${rec?.join(', ') ?? '-'}`)
  out()
  const heldMs = fan.fetches.filter(f => f.heldAt != null).map(f => f.heldAt! - fan.add!.endWall)
  const rows: string[][] = []
  for (const n of fan.nodes) {
    const f = fan.fetches.find(x => x.name === n.name)
    const bytesIn = (n.after?.bytesIn ?? NaN) - (n.before?.bytesIn ?? NaN)
    const bytesOut = (n.after?.bytesOut ?? NaN) - (n.before?.bytesOut ?? NaN)
    const cpu = (n.after?.cpuMs ?? NaN) - (n.before?.cpuMs ?? NaN)
    rows.push([
      n.name,
      f == null ? '' : f.seenAt == null ? '-' : seconds(f.seenAt - fan.add.endWall),
      f == null ? '' : f.heldAt == null ? 'not held' : seconds(f.heldAt - fan.add.endWall),
      mib(bytesIn), times(bytesIn / fan.size), mib(bytesOut), times(bytesOut / fan.size), seconds(cpu)
    ])
  }
  out(wrap(`Per node, from just before \`release add\` to every follower holding the release (traffic from status: every byte on every connection, Noise and Yamux framing included; "seen" and "held" are the first poll, every ${POLL_MS} ms, that listed the release, and that showed it held, from \`release add\` returning; CPU is the daemon's user + system time over the same span).`))
  out()
  out(table(['node', 'seen', 'held', 'bytes in', 'in / size', 'bytes out', 'out / size', 'CPU'], rows))
  out()
  const pub = fan.nodes.find(n => n.name === 'publisher')
  const pubOut = (pub?.after?.bytesOut ?? NaN) - (pub?.before?.bytesOut ?? NaN)
  const followerOut = fan.nodes.filter(n => n.name.startsWith('follower-')).reduce((sum, n) => sum + ((n.after?.bytesOut ?? NaN) - (n.before?.bytesOut ?? NaN)), 0)
  const all = summarize(heldMs)
  out(table(['summary', 'value'], [
    [`every follower holding it, from release add returning (${heldMs.length}/${FOLLOWERS} held)`, fan.notHeld.length === 0 ? seconds(all?.max) : `not reached (${fan.notHeld.join(', ')})`],
    ['  first / median follower holding it', `${seconds(all?.min)} / ${seconds(all?.median)}`],
    ['  from the timestamp being written to the last follower holding it', fan.notHeld.length === 0 ? seconds((all?.max ?? NaN) + fan.add.endWall - fan.add.writtenWall) : '-'],
    ['  from release add starting (spawn) to the last follower holding it', fan.notHeld.length === 0 ? seconds((all?.max ?? NaN) + fan.add.ms) : '-'],
    ['publisher bytes out, as a multiple of the release size', times(pubOut / fan.size)],
    ['all followers\' bytes out together, as a multiple of the release size', times(followerOut / fan.size)],
    ['aggregate delivery rate (followers x size / time to the last holding it)', rate(FOLLOWERS * fan.size, all?.max ?? NaN)]
  ]))
  if (fan.error != null) out(`\n  error: ${fan.error}`)
}

function printDelta (d: Delta | undefined): void {
  out(section(`3. Delta: v2 = v1 with ${mib(INSERT_BYTES)} of new bytes inserted in the middle`))
  if (d == null || d.add == null) {
    out(`  not measured: ${d?.error ?? 'part 1 did not reach it'}`)
    return
  }
  const j = d.add.json
  const newFrac = j.newBytes / j.totalSize
  out(wrap(`release add for v2 took ${ms(d.add.ms)}: ${mib(j.totalSize)} in ${String(j.chunks)} chunks, ${String(j.newChunks)} new (${mib(j.newBytes)} = ${pct(newFrac)} of the release; the inserted bytes alone are ${pct(INSERT_BYTES / j.totalSize)}). Seen and held: the first poll (every ${POLL_MS} ms) that listed v2, and that showed it held, from release add returning. Bytes in per follower, from just before release add to the poll that first showed v2 held, from status (all traffic, framing and these polls included). Idle = the same follower's bytes in over ${seconds(d.idle?.ms)} of the same polling before v2, scaled to that follower's fetch time: the background the figure carries.`))
  out()
  const rows: string[][] = []
  d.fetches.forEach((f, i) => {
    const n = d.nodes.find(x => x.name === f.name)
    const bytesIn = (f.heldBytesIn ?? NaN) - (n?.before?.bytesIn ?? NaN)
    const took = (f.heldAt ?? NaN) - d.add!.endWall
    const idle = (d.idle?.bytesIn[i] ?? NaN) / (d.idle?.ms ?? NaN) * Math.max(0, took + d.add!.ms)
    rows.push([f.name, f.seenAt == null ? '-' : seconds(f.seenAt - d.add!.endWall), f.heldAt == null ? 'not held' : seconds(took), mib(bytesIn), pct(bytesIn / j.totalSize), times(bytesIn / j.newBytes), mib(idle)])
  })
  const rec = d.timestampVersion == null ? undefined : d.recipients?.get(d.timestampVersion)
  out(`  gossip recipients of the announcement (publisher's log): ${rec?.join(', ') ?? '-'}`)
  out()
  out(table(['follower', 'seen', 'held', 'bytes in', 'of release size', 'vs newBytes', 'idle (est.)'], rows))
  out()
  const fractions = d.fetches.map(f => ((f.heldBytesIn ?? NaN) - (d.nodes.find(x => x.name === f.name)?.before?.bytesIn ?? NaN)) / j.totalSize).filter(Number.isFinite)
  const s = summarize(fractions)
  const pub = d.nodes.find(n => n.name === 'publisher')
  const pubOut = (pub?.after?.bytesOut ?? NaN) - (pub?.before?.bytesOut ?? NaN)
  out(table(['summary', 'value'], [
    ['bytes fetched for v2 / v2 size, median (min - max) over followers', `${pct(s?.median)} (${pct(s?.min)} - ${pct(s?.max)})`],
    ['new bytes at chunk level (release add newBytes) / v2 size', pct(newFrac)],
    ['inserted bytes / v2 size', pct(INSERT_BYTES / j.totalSize)],
    [`publisher bytes out for v2, as a multiple of newBytes (${d.fetches.length} followers)`, times(pubOut / j.newBytes)]
  ]))
  if (d.notHeld.length > 0) out(`\n  not held within the time limit: ${d.notHeld.join(', ')}`)
  if (d.error != null) out(`\n  error: ${d.error}`)
}

/** percentiles where an unreached sample counts as slower than any reached one; shown as "> its watch window" */
function censored (values: Array<number | undefined>, windows: number[], p: number): string {
  const all = values.map((v, i) => ({ v: v ?? Infinity, w: windows[i] }))
  if (all.length === 0) return '-'
  const x = p >= 100 ? Math.max(...all.map(a => a.v)) : percentile(all.map(a => a.v), p)
  if (Number.isFinite(x)) return ms(x)
  return `> ${seconds(Math.min(...all.filter(a => !Number.isFinite(a.v)).map(a => a.w)))}`
}

function printAnnounceRound (a: AnnounceRound): void {
  out()
  out(`  -- ${a.label}: publisher + ${a.followers} followers + bootstrap node --`)
  if (a.startMs == null) {
    out(`  not measured: ${a.error ?? a.skipped ?? 'did not start'}`)
    return
  }
  const fp = summarize(a.followerPeers)
  out(wrap(`mesh start to all ready ${seconds(a.startMs)}; every follower holding the first release ${a.initialMissing.length === 0 ? `after ${seconds(a.initialSyncMs)} more` : `not reached in ${seconds(a.initialSyncMs)} (${a.initialMissing.length} behind)`}; connected mesh peers, all on 127.0.0.1: publisher ${String(a.publisherPeers)}, followers ${String(fp?.min)} / ${String(fp?.median)} / ${String(fp?.max)} (min / median / max). addRelease (in this process, 4 KiB) took ${ms(summarize(a.releases.map(r => r.addMs))?.median)} (median) and returned ${ms(summarize(a.releases.map(r => r.writtenToReturnMs))?.median)} after timestamp.json was written.`))
  out()
  const windows = a.samples.map(x => (a.endWall ?? NaN) - x.written)
  const rows: string[][] = []
  for (const [label, pick] of [['trusts the new timestamp (polled)', (x: Sample) => x.polled], ['refresh done (node clock)', (x: Sample) => x.nodeClock], ['holds the release (polled)', (x: Sample) => x.held]] as const) {
    const v = a.samples.map(pick)
    rows.push([label, `${v.filter(x => x != null).length}/${v.length}`, censored(v, windows, 50), censored(v, windows, 90), censored(v, windows, 99), censored(v, windows, 100)])
  }
  out(table(['(follower, release) samples, from timestamp written', 'reached', 'p50', 'p90', 'p99', 'max'], rows))
  out()
  const per: string[][] = a.releases.map((r, i) => {
    const s = a.samples.filter(x => x.release === i + 1)
    const polled = s.map(x => x.polled)
    const w = s.map(x => (a.endWall ?? NaN) - x.written)
    const rec = a.recipients.get(r.timestampVersion)
    return [r.version, String(r.timestampVersion), rec == null ? '-' : rec.join(', '), `${polled.filter(x => x != null).length}/${s.length}`, censored(polled, w, 0), censored(polled, w, 50), censored(polled, w, 100), censored(s.map(x => x.held), w, 100)]
  })
  out(table(['release', 'timestamp v', 'gossip recipients', 'trusted by', 'first', 'median', 'last', 'last held'], per))
  const counts = a.releases.flatMap(r => a.recipients.get(r.timestampVersion) ?? [])
  const peers = a.publisherPeers ?? NaN
  if (counts.length > 0 && counts.every(c => c === 0) && peers > 10) {
    out()
    out(wrap(`note: no announcement reached a gossip peer, though the publisher had ${peers} peers, all on 127.0.0.1. gossipsub's default peer score adds -5 x (peers on one IP address - 10)^2 (IP colocation; ${-5 * (peers - 10) ** 2} here), below its publish (-50) and graylist (-80) thresholds; check that the daemon still sets IPColocationFactorWeight to 0 (src/network/create-node.ts). Followers then hear of a release only through differential sync (a new connection to a peer with a newer timestamp) or their periodic check (every 60 s), which refreshes from whichever peer answers first.`))
  }
  if (a.skipped != null) out(`  ${a.skipped}`)
  if (a.error != null) out(`  error: ${a.error}`)
}

function printAnnouncements (rounds: AnnounceRound[]): void {
  out(section(`2. Announcement latency: ${RELEASES} tiny releases, one at a time, to ${ANNOUNCE_FOLLOWERS} followers${CONTROL_FOLLOWERS > 0 ? ` (and, for comparison, ${CONTROL_FOLLOWERS})` : ''}`))
  out(wrap(`Origin: the new timestamp.json being written (its mtime); the next release follows when every follower trusts and holds this one, or after ${RELEASE_WAIT_MS / 1000} s, then ${STRAGGLER_WAIT_MS / 1000} s more at the end for followers still behind. "trusts": the first status answer (every ${ANNOUNCE_POLL_MS} ms) whose trust.timestampVersion reached the new version: announcement + timestamp verification, over-read by up to one poll; "refresh done": the follower's own trust.lastRefreshMs (end of the refresh that verified timestamp, snapshot and targets; same machine clock, no poll error); "holds": the first poll showing that release or a newer one held. Percentiles are over all (follower, release) samples; an unreached sample counts as the slowest, shown as "> the time it was watched". Gossip recipients: the publisher's own count for each publish of that timestamp, from its log; it re-publishes the same bytes every 30 s, and such a re-publish counts 0 (gossipsub takes it for a duplicate of a message it has seen). The publisher checks timestamp.json every 500 ms, so up to 500 ms of every figure is that check.`))
  for (const r of rounds) printAnnounceRound(r)
}

// ---------------------------------------------------------------- main

async function main (): Promise<number> {
  const t0 = performance.now()
  const loadStart = loadavg()[0]
  const root = mkdtempSync(join(tmpdir(), 'umesh-bench-releases-'))
  trackDir(root)
  const argv = process.argv.slice(2)
  out('update-mesh release distribution benchmark (figures only; nothing is asserted)')
  out(`command: node dist/bench/releases.js${argv.length > 0 ? ' ' + argv.join(' ') : ''}   (npm run bench:releases = npm run build && node dist/bench/releases.js)`)
  for (const line of machine()) out(line)
  out(`temp dir: ${root} (removed at the end); MiB = 2^20 bytes`)

  const client = await createClientNode()
  track({ stop: async () => { await client.stop() }, kill: () => {} })

  let part13: Awaited<ReturnType<typeof fanOutAndDelta>> | undefined
  const part2: AnnounceRound[] = []
  let failed = false
  if (PARTS.has('1')) {
    try {
      part13 = await fanOutAndDelta(root, client, PARTS.has('3'))
    } catch (err) {
      failed = true
      part13 = { fan: { size: SIZE, fetches: [], nodes: [], notHeld: [], error: (err as Error).message.slice(0, 1500) } }
    }
  }
  if (PARTS.has('2')) {
    const rounds: Array<[string, number]> = [[`${ANNOUNCE_FOLLOWERS} followers`, ANNOUNCE_FOLLOWERS]]
    if (CONTROL_FOLLOWERS > 0) rounds.push([`comparison, ${CONTROL_FOLLOWERS} followers`, CONTROL_FOLLOWERS])
    for (const [label, n] of rounds) {
      const empty: AnnounceRound = { label, followers: n, initialMissing: [], followerPeers: [], releases: [], samples: [], recipients: new Map() }
      const deadline = Math.min(wallNow() + PART_TIMEOUT_MS, budgetEnd)
      // a round needs time to start its mesh and publish a few releases
      if (deadline - wallNow() < 45_000) {
        part2.push({ ...empty, skipped: `skipped: only ${seconds(budgetEnd - wallNow())} of the run's ${seconds(BUDGET_MS)} budget left` })
        continue
      }
      try {
        part2.push(await announceRound(root, client, label, n, deadline))
      } catch (err) {
        failed = true
        part2.push({ ...empty, error: (err as Error).message.slice(0, 1500) })
      }
    }
  }

  if (part13 != null) printFanOut(part13.base, part13.fan)
  if (PARTS.has('2')) printAnnouncements(part2)
  if (PARTS.has('3')) printDelta(part13?.delta)
  out(`\nstatus requests: ${requests.made} (${requests.failed} failed${requests.errors.size > 0 ? ': ' + [...requests.errors].map(([e, c]) => `${c} x ${e}`).join('; ') : ''}); round trip ${RECONNECT ? '(connect + Noise + status + close, --reconnect-per-poll)' : '(on an open connection after the first)'} median ${ms(summarize(requests.ms)?.median)}, max ${ms(summarize(requests.ms)?.max)}`)
  out(`benchmark wall time ${seconds(performance.now() - t0)}; load average at the end ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
  if (loadStart > 1) out(`note: the 1-minute load average was ${loadStart.toFixed(2)} on ${cpus().length} CPU(s) when the benchmark started: other work was running, and the figures include that contention`)
  return failed || part13?.fan.error != null || part2.some(r => r.error != null) ? 1 : 0
}

await runBenchmark(main, HARD_LIMIT_MS)
