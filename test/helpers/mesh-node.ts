/**
 * A real mesh node (createMeshNode) on loopback for unit tests: TCP on a free
 * port, mDNS off, no bootstrap, an in-memory datastore, a status protocol
 * that refuses to report and a chunk store that holds nothing, unless `init`
 * says otherwise. Started; the caller stops it.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { MemoryDatastore } from 'datastore-core'
import { defaults } from '../../src/config/index.js'
import { createMeshNode } from '../../src/network/create-node.js'
import { VERSION } from '../../src/version.js'
import type { HaveSwarm } from '../../protocols/have/index.js'
import type { MeshNodeInit, MeshNodeParts } from '../../src/network/create-node.js'

export const EMPTY_STORE = { has: async () => false, put: async () => {}, get: async () => { throw new Error('none') } }

export async function startMeshNode<S extends HaveSwarm = never> (network: string, init: Partial<MeshNodeInit<S>> = {}): Promise<MeshNodeParts<S>> {
  const mesh = await createMeshNode<S>({
    config: { ...defaults(), network, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [] },
    role: 'node',
    privateKey: await generateKeyPair('Ed25519'),
    datastore: new MemoryDatastore(),
    version: VERSION,
    report: () => { throw new Error('no status here') },
    serve: { mirrorRoot: () => undefined, summary: () => ({ timestampVersion: 0, releases: [] }), store: EMPTY_STORE as any },
    ...init
  })
  await mesh.node.start()
  return mesh
}
