/**
 * The scale benchmark's daemons: a bootstrap node, a publisher that
 * coordinates rollouts, and --nodes nodes that follow and install `app`,
 * each a real `umesh` process on loopback (mDNS off) started by LocalMesh
 * with the memory settings MeshProcess passes. Nodes start in batches, each
 * batch ready before the next is spawned, so 50 start-ups do not queue on 2
 * cores at once. Every process's RSS and CPU are sampled from /proc.
 */
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { multiaddr } from '@multiformats/multiaddr'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { freePort } from '../../src/demo/local-mesh.js'
import { trackedMesh } from '../cli-runs.js'
import { ProcSampler } from '../follow/proc-sampler.js'
import { BATCH, METRICS_EVERY, NODE_FLAGS, NODES, PACKAGE } from './options.js'
import { progress } from './output.js'
import type { LocalMesh, MeshProcess } from '../../src/demo/local-mesh.js'

export interface Member {
  name: string
  role: 'bootstrap' | 'publisher' | 'node'
  p: MeshProcess
  peerId: string
  network: string
  addrs: Array<ReturnType<typeof multiaddr>>
  /** the port of its HTTP listener (/metrics), when it has one */
  httpPort?: number
  sampler: ProcSampler
}

export interface Fleet {
  mesh: LocalMesh
  bootstrap: Member
  publisher: Member
  nodes: Member[]
  /** ms from the first spawn to every process ready */
  readyMs: number
  stop: () => Promise<void>
}

function member (name: string, role: Member['role'], p: MeshProcess, httpPort?: number): Member {
  const info = readDaemonFile(p.dataDir)
  const local = [...info.addrs].sort((a, b) => Number(!a.includes('/127.0.0.1/')) - Number(!b.includes('/127.0.0.1/')))
  return { name, role, p, peerId: info.peerId, network: info.network, addrs: local.map(a => multiaddr(a)), httpPort, sampler: new ProcSampler(p.child.pid!, 1_000).start() }
}

export async function startFleet (dir: string, repo: string): Promise<Fleet> {
  // the follower's and the coordinator's lines explain a round that stalls
  const mesh = trackedMesh(dir, ['umesh:follower', 'umesh:coordinator'], NODE_FLAGS)
  const t0 = performance.now()
  const members: Member[] = []
  const fleet: Partial<Fleet> = {
    mesh,
    stop: async () => {
      for (const m of members) m.sampler.stop()
      await mesh.stop()
    }
  }
  try {
    await mesh.start(60_000)
    fleet.bootstrap = member('bootstrap', 'bootstrap', mesh.bootstrap!)
    members.push(fleet.bootstrap)
    const pubPort = await freePort()
    const pub = mesh.addNode('publisher', ['--repo', repo, '--coordinator', '--http-listen', `127.0.0.1:${pubPort}`])
    await pub.waitReady(60_000)
    fleet.publisher = member('publisher', 'publisher', pub, pubPort)
    members.push(fleet.publisher)
    const packages = JSON.stringify({ [PACKAGE]: { health: { command: ['/bin/sh', 'bin/health'], timeoutMs: 10_000, retries: 1, intervalMs: 200 } } })
    const trusted = join(repo, 'metadata', '1.root.json')
    fleet.nodes = []
    for (let first = 0; first < NODES; first += BATCH) {
      const batch: Array<{ p: MeshProcess, port?: number, i: number }> = []
      for (let i = first; i < Math.min(NODES, first + BATCH); i++) {
        const port = METRICS_EVERY > 0 && (i + 1) % METRICS_EVERY === 0 ? await freePort() : undefined
        const args = ['--trusted-root', trusted, '--follow', PACKAGE, '--packages', packages, ...(i === 0 ? ['--tag', 'canary'] : []), ...(port != null ? ['--http-listen', `127.0.0.1:${port}`] : [])]
        batch.push({ p: mesh.addNode(`node-${i + 1}`, args), port, i })
      }
      await Promise.all(batch.map(async b => { await b.p.waitReady(90_000) }))
      for (const b of batch) {
        const m = member(b.p.name, 'node', b.p, b.port)
        fleet.nodes.push(m)
        members.push(m)
      }
      progress(`  ${fleet.nodes.length} of ${NODES} nodes ready after ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    }
    fleet.readyMs = performance.now() - t0
    return fleet as Fleet
  } catch (err) {
    await fleet.stop!()
    throw err
  }
}
