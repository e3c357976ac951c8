/**
 * A libp2p node on loopback serving a release repository over the sync
 * protocol, and a throw-away client dialled to it: what a follower's unit
 * test fetches metadata and indexes from.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { sync } from '../../protocols/sync/index.js'
import { createClientNode } from '../../src/network/client-node.js'
import { repoTimestamp } from './release-repo.js'
import type { Libp2p } from '@libp2p/interface'

export async function syncServerAndClient (network: string, repoDir: string): Promise<{ server: Libp2p, client: Libp2p }> {
  const server = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { sync: sync({ network, mirrorRoot: () => repoDir, summary: () => ({ timestampVersion: repoTimestamp(repoDir).version, releases: [] }) }) }
  })
  const client = await createClientNode()
  await client.dial(server.getMultiaddrs()[0])
  return { server, client }
}
