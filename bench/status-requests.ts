/**
 * Status requests from a benchmark's one in-process client, counted: how
 * many, how many failed and why, and their round trips, for the report.
 */
import { performance } from 'node:perf_hooks'
import { fetchStatus } from '../protocols/status/index.js'
import type { StatusResponse } from '../protocols/status/index.js'
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export const requests = { made: 0, failed: 0, ms: [] as number[], errors: new Map<string, number>() }

/** a daemon the benchmark asks: its addresses, its network, and whether its process still runs */
export interface StatusTarget { addrs: Multiaddr[], network: string, p: { running: boolean } }

/** one status request, counted; throws what fetchStatus threw */
export async function countedStatus (client: Libp2p, n: StatusTarget, timeoutMs: number): Promise<StatusResponse> {
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
  }
}
