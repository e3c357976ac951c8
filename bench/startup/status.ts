/**
 * One status request to a daemon, from the benchmark's in-process client;
 * the connection is closed afterwards so the client takes no place in the
 * node's peer budget.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { fetchStatus } from '../../protocols/status/index.js'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import type { StatusResponse } from '../../protocols/status/index.js'
import type { Libp2p } from '@libp2p/interface'

export interface DaemonTarget { peerId: string, network: string, addrs: ReturnType<typeof multiaddr>[] }

export function targetOf (dataDir: string): DaemonTarget {
  const info = readDaemonFile(dataDir)
  const local = [...info.addrs].sort((a, b) => Number(!a.includes('/127.0.0.1/')) - Number(!b.includes('/127.0.0.1/')))
  return { peerId: info.peerId, network: info.network, addrs: local.map(a => multiaddr(a)) }
}

/** one status request; the connection is closed afterwards, so the benchmark holds no slot of the node's peer budget between polls */
export async function statusOf (client: Libp2p, target: DaemonTarget, timeoutMs = 3_000): Promise<StatusResponse> {
  try {
    return await fetchStatus(client, target.addrs, target.network, { signal: AbortSignal.timeout(timeoutMs) })
  } finally {
    await client.hangUp(peerIdFromString(target.peerId), { signal: AbortSignal.timeout(1_000) }).catch(() => {})
  }
}
