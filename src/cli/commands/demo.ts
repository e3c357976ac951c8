/**
 * umesh demo: a bootstrap node and N nodes as separate processes on
 * loopback, and a live table of what each says over the status protocol,
 * until Ctrl-C (or --duration), which stops every process it started.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { fetchStatus } from '../../../protocols/status/index.js'
import { readDaemonFile } from '../../daemon/daemon-file.js'
import { DemoReleases, DEMO_PACKAGE, demoInstallSettings } from '../../demo/demo-releases.js'
import { parseGate, parseWaves } from '../../rollout/document.js'
import { readRollout, startRollout } from '../../rollout/repo-rollouts.js'
import { Repository } from '../../trust/repository.js'
import { rolloutViewFromFile } from './rollout.js'
import type { RolloutDocument } from '../../rollout/types.js'
import { dataPaths } from '../../data-dir/index.js'
import { freePort, LocalMesh } from '../../demo/local-mesh.js'
import { TokenStore } from '../../http/tokens.js'
import { renderTable } from '../../demo/table.js'
import { UsageError } from '../../errors.js'
import { createClientNode } from '../../network/client-node.js'
import { parse } from '../args.js'
import type { Row } from '../../demo/table.js'
import type { Command } from '../run.js'
import type { MeshProcess } from '../../demo/local-mesh.js'
import type { Libp2p } from '@libp2p/interface'

const HELP = `umesh demo [--nodes N] [--dir DIR] [--duration SECONDS] [--step SECONDS] [--keep]

Starts a bootstrap node, a publisher that coordinates rollouts, and N nodes
(default 6; node-1 tagged canary) that follow and install its sample package,
as separate processes on 127.0.0.1 with mDNS off. Then: demo-app 1.0.0 goes
to every node; 1.1.0 rolls out in waves (canary, 50%, 100%), each opened when
the one before is healthy; 1.2.0, a broken release whose health check fails,
halts at the canary, which rolls back, and no other node installs it. A live
table (the rollout's waves, then per process: peer id, role, phase,
connections, uptime, releases held, installed version and state) is fetched
over the status protocol. The publisher serves the dashboard and the HTTP
API on 127.0.0.1 (its URL and a read token are printed). Ctrl-C stops them all.

  --nodes N          regular nodes to start [default: 6]
  --step S           seconds between the acts [default: 15]
  --dir DIR          where the data dirs and logs go [default: a new temporary folder]
  --duration S       stop by itself after S seconds [default: run until Ctrl-C]
  --keep             keep the data dirs and logs after stopping`

/** the demo's three acts */
function demoStory (step: number): Array<{ version: string, changes: number, broken: boolean, waves: string, soak: number }> {
  const soak = Math.max(1, Math.min(5, Math.round(step / 3)))
  return [
    { version: '1.0.0', changes: 0, broken: false, waves: '100%', soak: 1 },
    { version: '1.1.0', changes: 2, broken: false, waves: 'canary:1,50%,100%', soak },
    { version: '1.2.0', changes: 3, broken: true, waves: 'canary:1,100%', soak }
  ]
}

/** resolves with the rollout when it completed or halted (or undefined when the demo stops first) */
async function waitForRollout (repoDir: string, pkg: string, version: string, signal: AbortSignal): Promise<RolloutDocument | undefined> {
  while (!signal.aborted) {
    const doc = readRollout(Repository.open(repoDir), pkg)
    if (doc?.version === version && (doc.state === 'completed' || doc.state === 'halted')) return doc
    await new Promise(resolve => setTimeout(resolve, 500))
  }
  return undefined
}

/** one line per wave of the rollout in effect: nodes, healthy, failed, pending */
function rolloutLine (repoDir: string): string {
  try {
    const doc = readRollout(Repository.open(repoDir), DEMO_PACKAGE)
    if (doc == null) return 'rollout: none yet'
    const view = rolloutViewFromFile(repoDir, doc)
    const waves = view.waves.map(w => `${w.name}${w.open ? '' : ' (closed)'}: ${w.healthy}/${w.nodes} healthy${w.failed > 0 ? `, ${w.failed} failed` : ''}${w.installing > 0 ? `, ${w.installing} installing` : ''}${w.rolledBack > 0 ? `, ${w.rolledBack} rolled back` : ''}`)
    return `rollout of ${doc.package} ${doc.version}: ${doc.state}${doc.rollback ? ' (rollback requested)' : ''}   ${waves.join('   ')}`
  } catch (err) {
    return `rollout: ${(err as Error).message}`
  }
}

async function row (client: Libp2p, p: MeshProcess): Promise<Row> {
  if (!p.running) return { name: p.name, error: `exited (${String(p.child.exitCode ?? p.child.signalCode)})` }
  if (p.peerId === '') return { name: p.name, error: 'starting' }
  try {
    const info = readDaemonFile(p.dataDir)
    const status = await fetchStatus(client, info.addrs.map(a => multiaddr(a)), info.network, { signal: AbortSignal.timeout(2_000) })
    return { name: p.name, status }
  } catch (err) {
    return { name: p.name, error: String((err as Error)?.message ?? err).slice(0, 40) }
  }
}

function positiveInt (value: unknown, flag: string, fallback: number): number {
  if (value == null) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 200) throw new UsageError(`${flag}: expected a whole number from 1 to 200, found "${String(value)}"`)
  return n
}

/**
 * The story, each act when the one before has finished: a first release to
 * all, a release in waves (canary first), then a broken release that halts
 * at the canary and is rolled back there.
 */
async function tellStory (releases: DemoReleases, step: number, say: (line: string) => void, signal: AbortSignal): Promise<void> {
  for (const act of demoStory(step)) {
    if (signal.aborted) return
    const r = await releases.publish(act.version, act.changes, act.broken)
    say(`published ${DEMO_PACKAGE} ${act.version}${act.broken ? ' (broken: its health check fails)' : ''} (${r.newChunks} new of ${r.chunks} chunks)`)
    startRollout(Repository.open(releases.repoDir), { package: DEMO_PACKAGE, version: act.version, waves: parseWaves(act.waves), gate: parseGate(`success>=1,soak=${act.soak}s`), abort: 0.5, maxParallel: 2, manual: false, allowDowngrade: false, critical: false })
    say(`rollout of ${act.version} started: waves ${act.waves}`)
    const end = await waitForRollout(releases.repoDir, DEMO_PACKAGE, act.version, signal)
    if (end != null) say(`rollout of ${act.version} ${end.state}${end.state === 'halted' ? `: ${end.reason}` : ''}`)
    await new Promise(resolve => setTimeout(resolve, step * 1000))
  }
}

export const command: Command = {
  run: async (argv) => {
    const args = parse('demo', argv, {
      nodes: { type: 'string' },
      dir: { type: 'string' },
      duration: { type: 'string' },
      step: { type: 'string' },
      keep: { type: 'boolean' }
    }, false)
    if (args.own.help === true) {
      process.stdout.write(HELP + '\n')
      return 0
    }
    const nodes = positiveInt(args.own.nodes, '--nodes', 6)
    const seconds = args.own.duration == null ? null : positiveInt(args.own.duration, '--duration', 0)
    const step = positiveInt(args.own.step, '--step', 15)
    const dir = args.own.dir != null ? resolve(args.own.dir as string) : mkdtempSync(join(tmpdir(), 'umesh-demo-'))
    const tty = process.stdout.isTTY === true
    const mesh = new LocalMesh({ dir, nodes: 0 })
    const releases = new DemoReleases(dir)
    const client = await createClientNode()
    const done = Object.assign(Promise.withResolvers<void>(), { signal: new AbortController() })
    const log: string[] = []
    let stopping = false
    const onSignal = (): void => {
      if (stopping) process.exit(130)
      stopping = true
      done.resolve()
      done.signal.abort()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    process.stdout.write(`umesh demo: starting a bootstrap node, a publisher and ${nodes} nodes on 127.0.0.1 (data and logs in ${dir})\n`)
    let timer: NodeJS.Timeout | undefined
    try {
      releases.init()
      await mesh.start()
      process.stdout.write(`umesh demo: bootstrap node ${mesh.bootstrapAddr}\n`)
      // the coordinator's HTTP listener, with a read token for the dashboard
      const publisherDir = join(dir, 'publisher')
      mkdirSync(publisherDir, { recursive: true, mode: 0o700 })
      const { token } = new TokenStore(dataPaths(publisherDir).apiTokens).create('demo-viewer', 'read')
      const dashboard = `http://127.0.0.1:${await freePort()}`
      const started = [mesh.addNode('publisher', ['--repo', releases.repoDir, '--coordinator', '--http-listen', dashboard.slice('http://'.length)])]
      const dashboardLines = `dashboard: ${dashboard}/   read token: ${token}
(controls need an operate token: umesh api token create --data-dir ${publisherDir} --role operate --name me)`
      process.stdout.write(`umesh demo: ${dashboardLines}
`)
      for (let i = 1; i <= nodes; i++) started.push(mesh.addNode(`node-${i}`, ['--trusted-root', releases.trustedRoot, '--follow', DEMO_PACKAGE, '--packages', demoInstallSettings(), ...(i === 1 ? ['--tag', 'canary'] : [])]))
      await Promise.all(started.map(async p => { await p.waitReady(30_000) }))
      const say = (line: string): void => { log.push(line); if (!tty) process.stdout.write(`umesh demo: ${line}\n`) }
      tellStory(releases, step, say, done.signal.signal).catch(err => { process.stderr.write(`umesh demo: ${(err as Error).message}\n`) })
      if (seconds != null) setTimeout(() => { done.resolve() }, seconds * 1000).unref()
      let frames = 0
      const draw = async (): Promise<void> => {
        const rows = await Promise.all(mesh.all.map(async p => await row(client, p)))
        const table = `${dashboardLines}\n\n${rolloutLine(releases.repoDir)}\n\n${renderTable(rows)}${log.length > 0 ? `\n\n${log.slice(-6).join('\n')}` : ''}`
        // a terminal gets a live table; a log gets a snapshot every 5 s
        if (tty) process.stdout.write(`\x1b[2J\x1b[H${table}\n\nCtrl-C stops every process (data in ${dir})\n`)
        else if (frames % 5 === 0) process.stdout.write(`${table}\n\n`)
        frames++
      }
      await draw()
      timer = setInterval(() => { draw().catch(() => {}) }, 1_000)
      await done.promise
      clearInterval(timer)
      // after Ctrl-C the terminal has signalled the daemons too: a last table would only show them stopping
      if (!stopping) await draw().catch(() => {})
    } finally {
      clearInterval(timer)
      process.stdout.write('umesh demo: stopping every process\n')
      await mesh.stop()
      await client.stop()
      if (args.own.keep !== true && args.own.dir == null) rmSync(dir, { recursive: true, force: true })
    }
    process.stdout.write('umesh demo: stopped\n')
    return 0
  }
}
