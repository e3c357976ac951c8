/**
 * Part 2 of the start-up benchmark: a bootstrap node and N nodes started at
 * once (LocalMesh), polled over the status protocol until full discovery,
 * a stall, or the time limit.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { LocalMesh } from '../../src/demo/local-mesh.js'
import { track } from '../procs.js'
import { seconds, summarize } from '../report.js'
import { DISCOVERY_TIMEOUT_MS, NODES, POLL_MS, STALL_MS, TARGET_PEERS } from './options.js'
import { progress } from './output.js'
import { statusOf, targetOf } from './status.js'
import type { MeshProcess } from '../../src/demo/local-mesh.js'
import type { Libp2p } from '@libp2p/interface'

export interface NodeCounts { name: string, regular: number, any: number, rssBytes: number, heapUsedBytes: number, error?: string }

export interface MeshResult {
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

export async function meshRun (dir: string, client: Libp2p): Promise<MeshResult> {
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
