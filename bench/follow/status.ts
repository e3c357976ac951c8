/**
 * A daemon's memory as it says it in status (the status protocol, from the
 * benchmark's one in-process client): RSS, V8's heap, and what lives
 * outside it. The connection stays open between requests.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { fetchStatus } from '../../protocols/status/index.js'
import type { BenchDaemon } from './daemons.js'
import type { StatusResponse } from '../../protocols/status/index.js'
import type { Libp2p } from '@libp2p/interface'

export interface MemoryView {
  rss: number
  heapUsed: number
  heapTotal: number
  external: number
  arrayBuffers: number
}

export async function statusOf (client: Libp2p, d: BenchDaemon, timeoutMs = 5_000): Promise<StatusResponse | undefined> {
  try {
    return await fetchStatus(client, multiaddr(d.addr()), 'umesh', { signal: AbortSignal.timeout(timeoutMs) })
  } catch {
    return undefined
  }
}

export async function memoryOf (client: Libp2p, d: BenchDaemon): Promise<MemoryView | undefined> {
  const r = (await statusOf(client, d))?.resources
  if (r == null) return undefined
  return { rss: Number(r.rssBytes), heapUsed: Number(r.heapUsedBytes), heapTotal: Number(r.heapTotalBytes), external: Number(r.externalBytes), arrayBuffers: Number(r.arrayBuffersBytes) }
}
