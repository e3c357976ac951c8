/**
 * What the release benchmark knows of each daemon: its status, asked from one
 * in-process client, the traffic and CPU time in it, and polling every
 * pending node until each is done. Every request is counted for the report.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { countedStatus } from '../status-requests.js'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { POLL_MS, RECONNECT } from './options.js'
import { wallNow } from './processes.js'
import type { StatusResponse } from '../../protocols/status/index.js'
import type { MeshProcess } from '../../src/demo/local-mesh.js'
import type { Libp2p } from '@libp2p/interface'

export interface Watched { name: string, p: MeshProcess, peerId: string, network: string, addrs: ReturnType<typeof multiaddr>[] }

export function watch (p: MeshProcess): Watched {
  const info = readDaemonFile(p.dataDir)
  const local = [...info.addrs].sort((a, b) => Number(!a.includes('/127.0.0.1/')) - Number(!b.includes('/127.0.0.1/')))
  return { name: p.name, p, peerId: info.peerId, network: info.network, addrs: local.map(a => multiaddr(a)) }
}

export { requests } from '../status-requests.js'

/**
 * One status request. The connection stays open between polls unless
 * --reconnect-per-poll (the start-up benchmark's way, which holds no slot of
 * a node's peer budget): at every 150 ms to 20 nodes that is some 130 Noise
 * handshakes a second, enough load on 2 cores to move the figures measured.
 * An open connection is one slot of --max-connections (100); this client
 * speaks neither gossipsub nor sync, so no node gossips or fetches through it.
 */
export async function statusOf (client: Libp2p, n: Watched, timeoutMs = 3_000): Promise<StatusResponse> {
  try {
    return await countedStatus(client, n, timeoutMs)
  } finally {
    if (RECONNECT) await hangUp(client, n)
  }
}

export async function hangUp (client: Libp2p, n: Watched): Promise<void> {
  await client.hangUp(peerIdFromString(n.peerId), { signal: AbortSignal.timeout(1_000) }).catch(() => {})
}

export async function tryStatus (client: Libp2p, n: Watched): Promise<StatusResponse | undefined> {
  try { return await statusOf(client, n) } catch { return undefined }
}

export interface Traffic { bytesIn: number, bytesOut: number, cpuMs: number }

export function trafficOf (s: StatusResponse | undefined): Traffic | undefined {
  if (s == null) return undefined
  return {
    bytesIn: Number(s.traffic?.bytesIn ?? NaN),
    bytesOut: Number(s.traffic?.bytesOut ?? NaN),
    cpuMs: (Number(s.resources?.cpuUserUs ?? NaN) + Number(s.resources?.cpuSystemUs ?? NaN)) / 1000
  }
}

export async function snapshot (client: Libp2p, nodes: Watched[]): Promise<Array<Traffic | undefined>> {
  return await Promise.all(nodes.map(async n => trafficOf(await tryStatus(client, n))))
}

export function holds (s: StatusResponse, version: string): boolean {
  return s.releases.some(r => r.package === 'app' && r.version === version && r.state === 'held')
}

/**
 * Polls every pending node at once every intervalMs (from round start to
 * round start) until `done` says so for each, or the deadline (wall ms).
 * `done` sees each answer with the wall time it arrived.
 */
export async function pollUntil (client: Libp2p, nodes: Watched[], intervalMs: number, deadline: number, done: (n: Watched, s: StatusResponse, at: number) => boolean): Promise<Watched[]> {
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

export interface FollowerFetch {
  name: string
  /** wall ms of the first poll that listed the release (fetching or held), and of the first that showed it held */
  seenAt?: number
  heldAt?: number
  /** bytesIn in the answer that first showed it held */
  heldBytesIn?: number
}

/**
 * Polls `nodes` until each holds `version` of app or `deadline` passes:
 * when each first listed it and first held it, and its bytes in then; and
 * the nodes that never held it.
 */
export async function watchFetches (client: Libp2p, nodes: Watched[], version: string, deadline: number): Promise<{ fetches: FollowerFetch[], notHeld: string[] }> {
  const fetches: FollowerFetch[] = nodes.map(f => ({ name: f.name }))
  const byName = new Map(fetches.map(f => [f.name, f]))
  const notHeld = await pollUntil(client, nodes, POLL_MS, deadline, (n, s, at) => {
    const f = byName.get(n.name)!
    if (f.seenAt == null && s.releases.some(r => r.package === 'app' && r.version === version)) f.seenAt = at
    if (!holds(s, version)) return false
    f.heldAt = at
    f.heldBytesIn = Number(s.traffic?.bytesIn ?? NaN)
    return true
  })
  return { fetches, notHeld: notHeld.map(n => n.name) }
}
