/**
 * What the rollout benchmark knows of each node: its status, asked from one
 * in-process client on a connection that stays open, and polling every node
 * until each is done or a stall watch gives up. Every request is counted.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { multiaddr } from '@multiformats/multiaddr'
import { countedStatus } from '../status-requests.js'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { PACKAGE, POLL_MS } from './options.js'
import { wallNow } from './processes.js'
import type { StatusResponse } from '../../protocols/status/index.js'
import type { MeshProcess } from '../../src/demo/local-mesh.js'
import type { Libp2p } from '@libp2p/interface'

export interface Watched { name: string, p: MeshProcess, peerId: string, network: string, addrs: ReturnType<typeof multiaddr>[], tags: string[] }

export function watch (p: MeshProcess, tags: string[]): Watched {
  const info = readDaemonFile(p.dataDir)
  const local = [...info.addrs].sort((a, b) => Number(!a.includes('/127.0.0.1/')) - Number(!b.includes('/127.0.0.1/')))
  return { name: p.name, p, peerId: info.peerId, network: info.network, addrs: local.map(a => multiaddr(a)), tags }
}

export { requests } from '../status-requests.js'

/** one status request on a connection that stays open between polls (this client speaks neither gossipsub nor sync) */
export async function tryStatus (client: Libp2p, n: Watched, timeoutMs = 3_000): Promise<StatusResponse | undefined> {
  try {
    return await countedStatus(client, n, timeoutMs)
  } catch {
    return undefined
  }
}

export function currentOf (s: StatusResponse | undefined): string {
  return s?.installs.find(i => i.package === PACKAGE)?.current ?? ''
}

export function holds (s: StatusResponse | undefined, version: string): boolean {
  return s?.releases.some(r => r.package === PACKAGE && r.version === version && r.state === 'held') === true
}

export function describeNode (n: Watched, s: StatusResponse | undefined): string {
  if (s == null) return `${n.name}: no status answer${n.p.running ? '' : ' (exited)'}`
  const i = s.installs.find(x => x.package === PACKAGE)
  return `${n.name}: current ${i?.current ?? '-'}, state ${i?.state ?? '-'}${i?.pending != null && i.pending !== '' ? `, installing ${i.pending}` : ''}${i?.error != null && i.error !== '' ? `, error ${i.error.slice(0, 120)}` : ''}`
}

/**
 * Polls every node at once every POLL_MS (round start to round start) until
 * `done` is true for each, or the deadline (wall ms), or `onRound` (run
 * after each round: the stall watch) says to stop. Returns the nodes not done.
 */
export async function pollUntil (client: Libp2p, nodes: Watched[], deadline: number, done: (n: Watched, s: StatusResponse | undefined, at: number) => boolean, onRound?: () => Promise<boolean>): Promise<Watched[]> {
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
