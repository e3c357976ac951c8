/**
 * umesh demo: a bootstrap node and N nodes as separate processes on
 * loopback, and a live table of what each says over the status protocol,
 * until Ctrl-C (or --duration), which stops every process it started.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { fetchStatus } from '../../../protocols/status/index.js'
import { readDaemonFile } from '../../daemon/daemon-file.js'
import { DemoReleases, DEMO_PACKAGE, demoInstallSettings } from '../../demo/demo-releases.js'
import { LocalMesh } from '../../demo/local-mesh.js'
import { renderTable } from '../../demo/table.js'
import { UsageError } from '../../errors.js'
import { createClientNode } from '../../network/client-node.js'
import { parse } from '../args.js'
import type { Row } from '../../demo/table.js'
import type { Command } from '../run.js'
import type { MeshProcess } from '../../demo/local-mesh.js'
import type { Libp2p } from '@libp2p/interface'

const HELP = `umesh demo [--nodes N] [--dir DIR] [--duration SECONDS] [--step SECONDS] [--keep]

Starts a bootstrap node, a publisher node serving a fresh release repository,
and N nodes (default 4) that follow and install its sample package, as
separate processes on 127.0.0.1 with mDNS off. It publishes demo-app 1.0.0,
then 1.1.0, then 1.2.0, a broken release whose health check fails, one step
apart; every node installs 1.0.0 and 1.1.0 and rolls 1.2.0 back by itself.
A live table (peer id, role, phase, connections, uptime, releases held or
fetching, installed version and install state) is fetched over the status
protocol. Ctrl-C stops them all.

  --nodes N          regular nodes to start [default: 4]
  --step S           seconds between the releases [default: 15]
  --dir DIR          where the data dirs and logs go [default: a new temporary folder]
  --duration S       stop by itself after S seconds [default: run until Ctrl-C]
  --keep             keep the data dirs and logs after stopping`

async function row (client: Libp2p, p: MeshProcess): Promise<Row> {
  if (!p.running) return { name: p.name, error: `exited (${String(p.child.exitCode ?? p.child.signalCode)})` }
  if (p.peerId === '') return { name: p.name, error: 'starting' }
  try {
    const info = readDaemonFile(p.dataDir)
    const status = await fetchStatus(client, info.addrs.map(a => multiaddr(a)), info.network, { signal: AbortSignal.timeout(2_000) })
    return { name: p.name, status }
  } catch (err) {
    return { name: p.name, error: (err as Error).message.slice(0, 40) }
  }
}

function positiveInt (value: unknown, flag: string, fallback: number): number {
  if (value == null) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 200) throw new UsageError(`${flag}: expected a whole number from 1 to 200, found "${String(value)}"`)
  return n
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
    const nodes = positiveInt(args.own.nodes, '--nodes', 4)
    const seconds = args.own.duration == null ? null : positiveInt(args.own.duration, '--duration', 0)
    const step = positiveInt(args.own.step, '--step', 15)
    const dir = args.own.dir != null ? resolve(args.own.dir as string) : mkdtempSync(join(tmpdir(), 'umesh-demo-'))
    const tty = process.stdout.isTTY === true
    const mesh = new LocalMesh({ dir, nodes: 0 })
    const releases = new DemoReleases(dir)
    const client = await createClientNode()
    const done = Promise.withResolvers<void>()
    let stopping = false
    const onSignal = (): void => {
      if (stopping) process.exit(130)
      stopping = true
      done.resolve()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    process.stdout.write(`umesh demo: starting a bootstrap node, a publisher and ${nodes} nodes on 127.0.0.1 (data and logs in ${dir})\n`)
    let timer: NodeJS.Timeout | undefined
    try {
      releases.init()
      await mesh.start()
      process.stdout.write(`umesh demo: bootstrap node ${mesh.bootstrapAddr}\n`)
      const started = [mesh.addNode('publisher', ['--repo', releases.repoDir])]
      for (let i = 1; i <= nodes; i++) started.push(mesh.addNode(`node-${i}`, ['--trusted-root', releases.trustedRoot, '--follow', DEMO_PACKAGE, '--packages', demoInstallSettings()]))
      await Promise.all(started.map(async p => { await p.waitReady(30_000) }))
      const first = await releases.publish('1.0.0', 0)
      process.stdout.write(`umesh demo: published ${DEMO_PACKAGE} 1.0.0 (${first.chunks} chunks)\n`)
      const later = (version: string, n: number, broken: boolean, at: number): void => {
        setTimeout(() => {
          releases.publish(version, n, broken)
            .then(r => { if (!tty) process.stdout.write(`umesh demo: published ${DEMO_PACKAGE} ${version}${broken ? ' (broken: its health check fails)' : ''} (${r.newChunks} new of ${r.chunks} chunks)\n`) })
            .catch(err => { process.stderr.write(`umesh demo: publishing ${version} failed: ${(err as Error).message}\n`) })
        }, at * 1000).unref()
      }
      later('1.1.0', 2, false, step)
      later('1.2.0', 3, true, 2 * step)
      if (seconds != null) setTimeout(() => { done.resolve() }, seconds * 1000).unref()
      let frames = 0
      const draw = async (): Promise<void> => {
        const rows = await Promise.all(mesh.all.map(async p => await row(client, p)))
        const table = renderTable(rows)
        // a terminal gets a live table; a log gets a snapshot every 5 s
        if (tty) process.stdout.write(`\x1b[2J\x1b[H${table}\n\nCtrl-C stops every process (data in ${dir})\n`)
        else if (frames % 5 === 0) process.stdout.write(`${table}\n\n`)
        frames++
      }
      await draw()
      timer = setInterval(() => { void draw() }, 1_000)
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
