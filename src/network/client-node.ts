/**
 * A throw-away libp2p node for asking other nodes things (the CLI's status,
 * the demo's table): TCP, Noise and Yamux only, a fresh identity each time,
 * no listener, no discovery.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from '@libp2p/interface'

export async function createClientNode (): Promise<Libp2p> {
  return await createLibp2p({
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
}
