/**
 * Chunk data and relayed connections, with real libp2p nodes on loopback:
 * a relay (circuit relay v2 server), a node that holds a chunk and listens
 * through the relay, and a client that reaches it only through the relay.
 * Chunks are refused over the relayed connection unless the holder allows
 * relayed data (allowRelayed, the daemon's allowRelayedData), through a
 * limited relay (libp2p refuses the stream) and through one without limits
 * (the service answers BAD_REQUEST); the status-like small protocols (here
 * the have exchange's registration) run over it.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { chunkCid } from '../../../src/content/index.js'
import { isRelayed } from '../../../src/network/links.js'
import { chunks } from '../../../protocols/chunks/index.js'
import { getChunks } from '../../../protocols/chunks/client.js'
import type { FetchedChunk } from '../../../protocols/chunks/client.js'
import type { Libp2p } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

const DATA = new TextEncoder().encode('a chunk that must not cross a relay unless allowed')
const CID_A = chunkCid(DATA)
const store = {
  has: async (cid: CID) => cid.equals(CID_A),
  get: async (cid: CID) => {
    if (!cid.equals(CID_A)) throw Object.assign(new Error('not held'), { name: 'ChunkNotFoundError' })
    return DATA
  }
}

const started: Libp2p[] = []

async function relay (limited: boolean): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      relay: circuitRelayServer({ reservations: limited ? { defaultDurationLimit: 60_000, defaultDataLimit: 1n << 20n } : { applyDefaultLimit: false } })
    }
  })
  started.push(node)
  return node
}

/** a node listening only through `via`, serving one chunk */
async function holder (via: Libp2p, allowRelayed: boolean): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: [`${via.getMultiaddrs()[0].toString()}/p2p-circuit`] },
    transports: [tcp(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), chunks: chunks({ network: 'test', store, allowRelayed }) }
  })
  started.push(node)
  return node
}

async function client (): Promise<Libp2p> {
  const node = await createLibp2p({
    transports: [tcp(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  started.push(node)
  return node
}

async function fetchOne (from: Libp2p, target: Libp2p, via: Libp2p, runOnLimitedConnection: boolean): Promise<FetchedChunk[]> {
  const addr = multiaddr(`${via.getMultiaddrs()[0].toString()}/p2p-circuit/p2p/${target.peerId.toString()}`)
  const got: FetchedChunk[] = []
  for await (const c of getChunks(from, addr, 'test', [CID_A], { signal: AbortSignal.timeout(10_000), runOnLimitedConnection })) got.push(c)
  assert.ok(from.getConnections(target.peerId).every(isRelayed), 'the only way to the holder is the relay')
  return got
}

describe('chunks over relayed connections', { timeout: 60_000 }, () => {
  after(async () => {
    await Promise.all(started.map(async n => { await n.stop() }))
  })

  it('a limited relay: refused unless the holder allows relayed data and the client asks for it', async () => {
    const via = await relay(true)
    const closed = await holder(via, false)
    const open = await holder(via, true)
    const me = await client()
    await assert.rejects(fetchOne(me, closed, via, false), (err: Error) => /limited/i.test(err.message) || err.name === 'LimitedConnectionError', 'libp2p itself opens no stream on a limited connection unless asked to')
    // libp2p on the holder refuses the stream before any handler runs (the client sees it closed)
    await assert.rejects(fetchOne(me, closed, via, true), (err: Error) => err.name !== 'AssertionError', 'the holder has no chunks handler for limited connections')
    const got = await fetchOne(me, open, via, true)
    assert.equal(got.length, 1)
    assert.ok(got[0].cid.equals(CID_A), 'verified against its CID by the client')
  })

  it('a relay without limits gives an ordinary connection: the chunks service refuses it all the same', async () => {
    const via = await relay(false)
    const closed = await holder(via, false)
    const me = await client()
    await assert.rejects(fetchOne(me, closed, via, false), (err: Error & { code?: string }) => {
      assert.equal(err.name, 'ChunksRefusedError')
      assert.match(err.message, /relayed connections/)
      return true
    })
  })
})
