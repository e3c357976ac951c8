/**
 * What the release benchmark knows of each daemon: its status, asked from one
 * in-process client, the traffic and CPU time in it, and polling every
 * pending node until each is done. Every request is counted for the report.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { fetchStatus } from '../../protocols/status/index.js'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { RECONNECT } from './options.js'
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

export const requests = { made: 0, failed: 0, ms: [] as number[], errors: new Map<string, number>() }

/**
 * One status request. The connection stays open between polls unless
 * --reconnect-per-poll (the start-up benchmark's way, which holds no slot of
 * a node's peer budget): at every 150 ms to 20 nodes that is some 130 Noise
 * handshakes a second, enough load on 2 cores to move the figures measured.
 * An open connection is one slot of --max-connections (100); this client
 * speaks neither gossipsub nor sync, so no node gossips or fetches through it.
 */
export async function statusOf (client: Libp2p, n: Watched, timeoutMs = 3_000): Promise<StatusResponse> {
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
