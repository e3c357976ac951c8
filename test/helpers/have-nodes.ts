/**
 * Two libp2p nodes on loopback running the have service, connected both
 * ways, and a stand-in for the swarm the service asks: the have exchange
 * between real nodes, with the swarm's answers under the test's control.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { have } from '../../protocols/have/index.js'
import { NETWORK, listen, waitFor } from './have-streams.js'
import type { HaveHello, HaveService, HaveSession, HaveSwarm } from '../../protocols/have/index.js'
import type { Heard } from './have-streams.js'
import type { Libp2p } from '@libp2p/interface'

export type HaveNode = Libp2p<{ have: HaveService }>

/** the node's swarm as the have service sees it: answers with `answer`, keeps every session it adopts */
export class FakeSwarm implements HaveSwarm {
  readonly hellos: Array<{ release: Uint8Array, count: number }> = []
  readonly adopted: Heard[] = []

  constructor (private readonly answer: (release: Uint8Array, count: number) => HaveHello | undefined) {}

  async hello (release: Uint8Array, count: number): Promise<HaveHello | undefined> {
    this.hellos.push({ release, count })
    return this.answer(release, count)
  }

  adopt (session: HaveSession): void {
    this.adopted.push(listen(session))
  }
}

async function haveNode (swarm: () => HaveSwarm | undefined): Promise<HaveNode> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { have: have({ network: NETWORK, swarm }) }
  })
}

/** A and B, A dialled B; each service asks the swarm its getter returns at the time */
export async function connectedPair (swarmA: () => HaveSwarm | undefined, swarmB: () => HaveSwarm | undefined): Promise<{ a: HaveNode, b: HaveNode }> {
  const a = await haveNode(swarmA)
  const b = await haveNode(swarmB)
  try {
    await a.dial(b.getMultiaddrs()[0])
    // the dialler has the connection before the listener does; B dials A back on it
    await waitFor('B to see the connection', () => b.getConnections(a.peerId).length > 0)
  } catch (err) {
    // their sockets would keep the test process alive
    await a.stop()
    await b.stop()
    throw err
  }
  return { a, b }
}
