/**
 * What each peer speaks: learnt from identify events, seeded from the peer
 * store at start for peers met before, emitted as `peer`, and capped so a
 * node that meets many peers keeps only the most recently identified.
 * The node is a stub that dispatches `peer:identify` like libp2p does.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerProtocols } from '../../../src/network/index.js'
import type { IdentifyResult, PeerId } from '@libp2p/interface'

const SYNC = '/umesh/test/sync/1.0.0'
const HAVE = '/umesh/test/have/1.0.0'

async function newPeer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

/** the parts of a libp2p node PeerProtocols reads */
class StubNode extends EventTarget {
  /** peer -> open connections */
  readonly connections = new Map<string, number>()
  readonly peers: PeerId[] = []
  /** what the peer store holds; `storeDelayMs` delays its answers */
  readonly store = new Map<string, string[]>()
  storeDelayMs = 0

  readonly peerStore = {
    get: async (peer: PeerId) => {
      await new Promise(resolve => setTimeout(resolve, this.storeDelayMs))
      const protocols = this.store.get(peer.toString())
      if (protocols == null) throw new Error('not found')
      return { id: peer, protocols }
    }
  }

  connect (peer: PeerId): void {
    if (!this.peers.some(p => p.equals(peer))) this.peers.push(peer)
    this.connections.set(peer.toString(), 1)
  }

  getPeers (): PeerId[] { return [...this.peers] }
  getConnections (peer: PeerId): unknown[] { return Array.from({ length: this.connections.get(peer.toString()) ?? 0 }) }

  identify (peer: PeerId, protocols: string[]): void {
    this.dispatchEvent(new CustomEvent<IdentifyResult>('peer:identify', { detail: { peerId: peer, protocols } as unknown as IdentifyResult }))
  }
}

function peerProtocols (node: StubNode): { pp: PeerProtocols, events: Array<[string, string[]]> } {
  const pp = new PeerProtocols({ node: node as any })
  const events: Array<[string, string[]]> = []
  pp.on('peer', (peer, protocols) => { events.push([peer.toString(), protocols]) })
  return { pp, events }
}

describe('PeerProtocols', () => {
  it('learns what a peer speaks from identify, and emits it as `peer`', async () => {
    const node = new StubNode()
    const { pp, events } = peerProtocols(node)
    pp.start()
    const a = await newPeer()
    assert.equal(pp.speaks(a, SYNC), false)
    node.identify(a, [SYNC, HAVE])
    assert.equal(pp.speaks(a, SYNC), true)
    assert.equal(pp.speaks(a, HAVE), true)
    assert.equal(pp.speaks(a, '/other/1.0.0'), false)
    // identify again (the peer's protocols changed): the newer list counts
    node.identify(a, [HAVE])
    assert.equal(pp.speaks(a, SYNC), false)
    assert.deepEqual(events, [[a.toString(), [SYNC, HAVE]], [a.toString(), [HAVE]]])
    pp.stop()
  })

  it('connectedSpeaking lists the connected peers that speak a protocol', async () => {
    const node = new StubNode()
    const { pp } = peerProtocols(node)
    pp.start()
    const [a, b, c, d] = await Promise.all([newPeer(), newPeer(), newPeer(), newPeer()])
    for (const p of [a, b, c]) node.connect(p)
    node.identify(a, [SYNC, HAVE])
    node.identify(b, [HAVE])
    node.identify(c, [SYNC])
    node.identify(d, [SYNC]) // identified, not connected
    node.connections.set(c.toString(), 0) // its connection closed
    assert.deepEqual(pp.connectedSpeaking(SYNC).map(String), [a.toString()])
    assert.deepEqual(pp.connectedSpeaking(HAVE).map(String), [a, b].map(String))
    pp.stop()
  })

  it('seeds peers met before start from the peer store, emitting `peer` for each it finds', async () => {
    const node = new StubNode()
    const [a, b, unknown] = await Promise.all([newPeer(), newPeer(), newPeer()])
    for (const p of [a, b, unknown]) node.connect(p)
    node.store.set(a.toString(), [SYNC])
    node.store.set(b.toString(), [HAVE])
    const { pp, events } = peerProtocols(node)
    pp.start()
    await new Promise(resolve => setTimeout(resolve, 20))
    assert.deepEqual(pp.connectedSpeaking(SYNC).map(String), [a.toString()])
    assert.deepEqual(pp.connectedSpeaking(HAVE).map(String), [b.toString()])
    assert.deepEqual(events.sort(), [[a.toString(), [SYNC]], [b.toString(), [HAVE]]].sort())
    pp.stop()
  })

  it('a peer identified while its peer store record is read keeps what identify said', async () => {
    const node = new StubNode()
    const a = await newPeer()
    node.connect(a)
    node.store.set(a.toString(), [HAVE])
    node.storeDelayMs = 30
    const { pp, events } = peerProtocols(node)
    pp.start()
    node.identify(a, [SYNC])
    await new Promise(resolve => setTimeout(resolve, 80))
    assert.equal(pp.speaks(a, SYNC), true)
    assert.equal(pp.speaks(a, HAVE), false, 'the older peer store record does not overwrite identify')
    assert.deepEqual(events, [[a.toString(), [SYNC]]])
    pp.stop()
  })

  it('stop() stops listening: later identifies change nothing and emit nothing', async () => {
    const node = new StubNode()
    const { pp, events } = peerProtocols(node)
    pp.start()
    pp.stop()
    const a = await newPeer()
    node.identify(a, [SYNC])
    assert.equal(pp.speaks(a, SYNC), false)
    assert.deepEqual(events, [])
  })

  it('remembers at most 4096 peers, forgetting the least recently identified first', async () => {
    const node = new StubNode()
    const { pp } = peerProtocols(node)
    pp.start()
    // only toString() is read from a peer id here: cheap stand-ins for 4097 keys
    const fake = (i: number): PeerId => ({ toString: () => `peer-${i}`, equals: (o: PeerId) => o.toString() === `peer-${i}` }) as unknown as PeerId
    for (let i = 0; i < 4096; i++) node.identify(fake(i), [SYNC])
    assert.equal(pp.speaks(fake(0), SYNC), true, '4096 fit')
    node.identify(fake(0), [SYNC]) // identified again: now the most recent
    node.identify(fake(4096), [SYNC])
    assert.equal(pp.speaks(fake(4096), SYNC), true)
    assert.equal(pp.speaks(fake(0), SYNC), true, 'a peer identified again is kept')
    assert.equal(pp.speaks(fake(1), SYNC), false, 'the least recently identified is forgotten')
    assert.equal(pp.speaks(fake(2), SYNC), true)
    pp.stop()
  })
})

describe('PeerProtocols: a peer whose identify failed', () => {
  /** a connection as checkUnknown reads it */
  function connection (peer: PeerId, openedAgoMs: number, direction: 'inbound' | 'outbound' = 'outbound', protocols: string[] = []): { remotePeer: PeerId, direction: string, streams: Array<{ protocol: string }>, status: string, timeline: { open: number }, closed: number, close: () => Promise<void>, abort: () => void } {
    const conn = {
      remotePeer: peer,
      direction,
      streams: protocols.map(protocol => ({ protocol })),
      status: 'open',
      timeline: { open: Date.now() - openedAgoMs },
      closed: 0,
      close: async () => { conn.closed++; conn.status = 'closed' },
      abort: () => { conn.status = 'closed' }
    }
    return conn
  }

  /** a node whose identify service fails `failures` times, then answers `protocols` */
  function nodeWithIdentify (failures: number, protocols: string[]): { node: StubNode & { services: any, getConnections: any }, conns: any[], calls: () => number } {
    const node = new StubNode() as StubNode & { services: any, getConnections: any }
    const conns: any[] = []
    let calls = 0
    node.getConnections = (peer?: PeerId) => peer == null ? conns.filter(c => c.status === 'open') : conns.filter(c => c.status === 'open' && c.remotePeer.equals(peer))
    node.services = {
      identify: {
        identify: async (conn: any) => {
          calls++
          if (calls <= failures) throw Object.assign(new Error('identify timed out'), { name: 'TimeoutError' })
          node.identify(conn.remotePeer, protocols)
          return { peerId: conn.remotePeer, protocols }
        }
      }
    }
    return { node, conns, calls: () => calls }
  }

  it('is identified again once its connection has been open reidentifyAfterMs, and what it speaks is learnt', async () => {
    const { node, conns, calls } = nodeWithIdentify(1, [SYNC])
    const a = await newPeer()
    node.connect(a)
    conns.push(connection(a, 0))
    const pp = new PeerProtocols({ node: node as any }, { reidentifyAfterMs: 50, checkEveryMs: 1_000_000 })
    pp.start()
    pp.checkUnknown()
    assert.equal(calls(), 0, 'a connection younger than reidentifyAfterMs is left to the identify libp2p runs')
    assert.equal(pp.unknownCount(), 1)
    conns[0].timeline.open -= 60
    pp.checkUnknown()
    await new Promise(resolve => setTimeout(resolve, 5))
    assert.equal(calls(), 1)
    assert.equal(pp.speaks(a, SYNC), false, 'the first try again failed')
    pp.checkUnknown()
    await new Promise(resolve => setTimeout(resolve, 5))
    assert.equal(calls(), 2)
    assert.equal(pp.speaks(a, SYNC), true)
    assert.deepEqual(pp.connectedSpeaking(SYNC).map(String), [a.toString()])
    assert.equal(pp.unknownCount(), 0)
    pp.checkUnknown()
    await new Promise(resolve => setTimeout(resolve, 5))
    assert.equal(calls(), 2, 'a known peer is not identified again')
    pp.stop()
  })

  it('after reidentifyAttempts failed tries its connection is closed, so discovery dials it afresh', async () => {
    const { node, conns, calls } = nodeWithIdentify(100, [SYNC])
    const a = await newPeer()
    node.connect(a)
    conns.push(connection(a, 1_000))
    const pp = new PeerProtocols({ node: node as any }, { reidentifyAfterMs: 50, reidentifyAttempts: 2, checkEveryMs: 1_000_000 })
    pp.start()
    for (let i = 0; i < 4; i++) {
      pp.checkUnknown()
      await new Promise(resolve => setTimeout(resolve, 5))
    }
    assert.equal(calls(), 2, 'two tries, then no more')
    assert.equal(conns[0].closed, 1, 'then the connection is closed')
    assert.equal(pp.speaks(a, SYNC), false)
    pp.stop()
  })

  for (const [what, name, message] of [
    ['refuses identify', 'UnsupportedProtocolError', 'Protocol selection failed - could not negotiate /umesh/umesh/id/1.0.0'],
    ['resets identify', 'StreamResetError', 'stream reset']
  ]) {
    it(`a connection on which the peer ${what} is closed at once: only a timeout is tried again`, async () => {
      const { node, conns, calls } = nodeWithIdentify(0, [SYNC])
      let tries = 0
      node.services.identify.identify = async () => {
        tries++
        throw Object.assign(new Error(message), { name })
      }
      const a = await newPeer()
      node.connect(a)
      conns.push(connection(a, 1_000))
      const pp = new PeerProtocols({ node: node as any }, { reidentifyAfterMs: 50, reidentifyAttempts: 3, checkEveryMs: 1_000_000 })
      pp.start()
      pp.checkUnknown()
      await new Promise(resolve => setTimeout(resolve, 5))
      assert.equal(tries, 1)
      assert.equal(conns[0].closed, 1, `closed after the first ${name}`)
      assert.equal(calls(), 0)
      pp.stop()
    })
  }

  /** a node whose identify is refused on an inbound connection carrying streams of `protocols`: how often it tried, and the connection */
  async function refusedInbound (protocols: string[]): Promise<{ tries: number, conn: any }> {
    const { node, conns } = nodeWithIdentify(0, [SYNC])
    let tries = 0
    node.services.identify.identify = async () => {
      tries++
      throw Object.assign(new Error('Protocol selection failed - could not negotiate /umesh/umesh/id/1.0.0'), { name: 'UnsupportedProtocolError' })
    }
    const peer = await newPeer()
    node.connect(peer)
    conns.push(connection(peer, 1_000, 'inbound', protocols))
    const pp = new PeerProtocols({ node: node as any }, { reidentifyAfterMs: 50, reidentifyAttempts: 3, checkEveryMs: 1_000_000 })
    pp.start()
    for (let i = 0; i < 3; i++) {
      pp.checkUnknown()
      await new Promise(resolve => setTimeout(resolve, 5))
    }
    pp.stop()
    return { tries, conn: conns[0] }
  }

  it('a connection the peer dialled with no mesh stream (a status client, no mesh identify) is left open and not tried again', async () => {
    for (const protocols of [[], ['/umesh/umesh/status/1.0.0'], ['']]) {
      const { tries, conn } = await refusedInbound(protocols)
      assert.equal(tries, 1, `given up on after the refusal (${protocols.join()})`)
      assert.equal(conn.closed, 0, `and not hung up on (${protocols.join()})`)
      assert.equal(conn.status, 'open')
    }
  })

  it('a connection the peer dialled that carries a mesh stream (gossipsub) is closed, so the peer dials afresh', async () => {
    const { tries, conn } = await refusedInbound(['/umesh/umesh/status/1.0.0', '/meshsub/1.2.0'])
    assert.equal(tries, 1)
    assert.equal(conn.closed, 1, 'a mesh peer unidentified here would never get this node\'s gossip')
  })

  it('the periodic check runs by itself and stops with stop()', async () => {
    const { node, conns, calls } = nodeWithIdentify(0, [HAVE])
    const a = await newPeer()
    node.connect(a)
    conns.push(connection(a, 1_000))
    const pp = new PeerProtocols({ node: node as any }, { reidentifyAfterMs: 50, checkEveryMs: 20 })
    pp.start()
    await waitUntil(() => pp.speaks(a, HAVE))
    pp.stop()
    const before = calls()
    const b = await newPeer()
    node.connect(b)
    conns.push(connection(b, 1_000))
    await new Promise(resolve => setTimeout(resolve, 80))
    assert.equal(calls(), before, 'no check after stop()')
  })
})

async function waitUntil (cond: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}
