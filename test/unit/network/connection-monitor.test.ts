/**
 * libp2p's connection monitor as the mesh configures it: it pings each
 * connection with the mesh's own ping protocol (which peers serve), at the
 * interval given. Its default protocol, /ipfs/ping/1.0.0, is not served by
 * a mesh node: pings there are refused negotiations that carry no bytes of
 * the ping protocol. Two real nodes on loopback; B's traffic meter counts
 * the ping bytes A's monitor sends.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { waitFor } from '../../helpers/cli.js'
import { startMeshNode } from '../../helpers/mesh-node.js'
import type { MeshNodeParts } from '../../../src/network/create-node.js'

const NETWORK = 'monitor-test'
const PING = `/umesh/${NETWORK}/ping/1.0.0`
const INTERVAL_MS = 250


function pingBytesIn (m: MeshNodeParts<never>): number {
  return m.traffic.totals.byProtocol.get(PING)?.bytesIn ?? 0
}

describe('the connection monitor', () => {
  let a: MeshNodeParts<never>
  let b: MeshNodeParts<never>

  before(async () => {
    a = await startMeshNode(NETWORK, { connectionPingIntervalMs: INTERVAL_MS })
    // B's monitor is left at the default: it pings nothing within this test
    b = await startMeshNode(NETWORK)
    await a.node.dial(b.node.getMultiaddrs()[0])
  })

  after(async () => {
    await a?.node.stop()
    await b?.node.stop()
  })

  it('pings each connection with the mesh ping protocol, at the interval given', async () => {
    // the DHT may ping a new contact once (32 bytes); the monitor pings every interval
    await waitFor('a first ping from the monitor', async () => pingBytesIn(b) > 0, 10_000, 20)
    const first = pingBytesIn(b)
    await new Promise(resolve => setTimeout(resolve, INTERVAL_MS * 8))
    const more = pingBytesIn(b) - first
    assert.ok(more >= 3 * 32, `B received ${more} bytes of ${PING} over ${INTERVAL_MS * 8} ms of pings every ${INTERVAL_MS} ms; expected at least 3 pings of 32 bytes`)
    assert.equal(a.node.getConnections(b.node.peerId).length, 1, 'the connection stays open: every ping was answered')
  })
})
