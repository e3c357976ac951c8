/**
 * libp2p's connection monitor as the mesh configures it: it pings each
 * connection with the mesh's own ping protocol (which peers serve), at the
 * interval given. Its default protocol, /ipfs/ping/1.0.0, is not served by
 * a mesh node: pings there are refused negotiations that carry no bytes of
 * the ping protocol. Two real nodes on loopback; B's traffic meter counts
 * the ping bytes A's monitor sends.
 */
import '../../../src/polyfill.js'
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
    // the monitor closes a connection whose ping runs out of time (a loaded CI machine): dial again, that is not what is tested here
    const connected = async (): Promise<void> => {
      if (a.node.getConnections(b.node.peerId).length === 0) await a.node.dial(b.node.getMultiaddrs()[0]).catch(() => {})
    }
    // the DHT may ping a new contact once (32 bytes); the monitor pings every interval
    await waitFor('a first ping from the monitor', async () => { await connected(); return pingBytesIn(b) > 0 }, 30_000, 50)
    const first = pingBytesIn(b)
    const windowMs = INTERVAL_MS * 20
    await waitFor(`3 more pings within ${windowMs} ms`, async () => { await connected(); return pingBytesIn(b) - first >= 3 * 32 }, windowMs, 50)
      .catch(err => { throw new Error(`${(err as Error).message}: B received ${pingBytesIn(b) - first} bytes of ${PING} with pings every ${INTERVAL_MS} ms; expected at least 3 pings of 32 bytes`) })
  })
})
