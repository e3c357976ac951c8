/**
 * The have exchange on real streams: between two libp2p nodes on loopback
 * (the service, sessions both ways, two ReleaseSwarms), and on in-memory
 * stream pairs where a test plays a misbehaving peer byte by byte (every
 * fault must end in HaveProtocolError and a cut stream, never in a hang or a
 * buffer that grows).
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { byteStream, lpStream, streamPair } from '@libp2p/utils'
import { createLibp2p } from 'libp2p'
import { chunkCid } from '../../src/content/index.js'
import { Bitfield } from '../../src/swarm/bitfield.js'
import { ReleaseSwarm } from '../../src/swarm/release-swarm.js'
import { HaveMessage, HaveSession, MAX_ADDED, MAX_MESSAGE_BYTES, MAX_PIECES, have, haveProtocol } from '../../protocols/have/index.js'
import type { HaveHello, HaveService, HaveSwarm } from '../../protocols/have/index.js'
import type { SwarmListener, SwarmPeer } from '../../src/swarm/release-swarm.js'
import type { StreamOpener } from '../../protocols/status/client.js'
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

const NETWORK = 'test'
const PROTOCOL = haveProtocol(NETWORK)
const PEER = peerIdFromString('12D3KooWECDtH8SELx8Ztv9sSnjarqgNvdkRaAZR8kSc58FwqWZu')
const connection = { remotePeer: PEER } as unknown as Connection
const RELEASE = chunkCid(new TextEncoder().encode('release index')).bytes
const OTHER_RELEASE = chunkCid(new TextEncoder().encode('another release')).bytes

type Node = Libp2p<{ have: HaveService }>

function bitfield (count: number, pieces: number[] = []): Uint8Array {
  const b = new Bitfield(count)
  for (const i of pieces) b.set(i)
  return b.bytes
}

function hello (count: number, pieces: number[] = [], release: Uint8Array = RELEASE): HaveHello {
  return { release, count, bitfield: bitfield(count, pieces) }
}

/** any fields, of any size: what a peer may put on the wire */
interface RawMessage { release?: Uint8Array, count?: number, bitfield?: Uint8Array, added?: number[], unknown?: boolean }

function encode (message: RawMessage): Uint8Array {
  return HaveMessage.encode({ added: [], unknown: false, ...message } as unknown as HaveMessage)
}

function varint (n: number): Uint8Array {
  const bytes: number[] = []
  for (; n >= 0x80; n = Math.floor(n / 0x80)) bytes.push((n & 0x7f) | 0x80)
  bytes.push(n)
  return Uint8Array.from(bytes)
}

/** a message with its length prefix, as on the wire */
function framed (message: RawMessage): Uint8Array {
  const body = encode(message)
  return Uint8Array.from([...varint(body.length), ...body])
}

/** `p`, or a failure once `ms` have passed: a broken session must fail the test, not hang it */
async function within<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`timed out waiting for ${what}`)) }, ms) })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

async function waitFor (what: string, condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

/** what one side of a session heard */
interface Heard {
  session: HaveSession
  added: number[][]
  /** how the session ended; fails when it has not ended within `ms` */
  closed: (ms?: number) => Promise<Error | undefined>
  isClosed: () => boolean
}

function listen (session: HaveSession): Heard {
  const added: number[][] = []
  let done = false
  const closed = new Promise<Error | undefined>(resolve => {
    session.events = {
      onAdded: (pieces) => { added.push([...pieces]) },
      onClose: (err) => { done = true; resolve(err) }
    }
  })
  session.start()
  return { session, added, closed: async (ms = 3000) => await within(closed, ms, 'the session to close'), isClosed: () => done }
}

/** the node's swarm as the have service sees it: answers with `answer`, keeps every session it adopts */
class FakeSwarm implements HaveSwarm {
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

function isProtocolError (pattern: RegExp): (err: any) => boolean {
  return (err: any) => {
    assert.equal(err?.name, 'HaveProtocolError', `expected HaveProtocolError, got ${String(err?.name)}: ${String(err?.message)}`)
    assert.match(err.message, pattern)
    return true
  }
}

/** resolves with what `p` rejected with; fails when it resolves */
async function rejection (p: Promise<unknown>): Promise<any> {
  return await p.then(value => assert.fail(`expected a rejection, got ${String(value)}`), (err: unknown) => err)
}

/** reading on `stream` fails (the other side cut it) rather than waiting */
async function assertCut (stream: Stream, ms = 3000): Promise<void> {
  const err = await rejection(lpStream(stream).read({ signal: AbortSignal.timeout(ms) }))
  assert.notEqual(err.name, 'TimeoutError', 'the stream was left open')
  assert.notEqual(err.name, 'AbortError', 'the stream was left open')
}

describe('have protocol', () => {
  // AbortSignal.timeout does not hold the event loop open; the nodes' sockets do, and this between tests
  let keepAlive: NodeJS.Timeout
  let a: Node
  let b: Node
  let swarmA: HaveSwarm | undefined
  let swarmB: HaveSwarm | undefined

  async function node (swarm: () => HaveSwarm | undefined): Promise<Node> {
    return await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { have: have({ network: NETWORK, swarm }) }
    })
  }

  before(async () => {
    keepAlive = setInterval(() => {}, 1000)
    a = await node(() => swarmA)
    b = await node(() => swarmB)
    await a.dial(b.getMultiaddrs()[0])
    // the dialler has the connection before the listener does; B dials A back on it
    await waitFor('B to see the connection', () => b.getConnections(a.peerId).length > 0)
  })

  after(async () => {
    clearInterval(keepAlive)
    await a?.stop()
    await b?.stop()
  })

  describe('between two nodes', () => {
    it('registers /umesh/<network>/have/1.0.0', () => {
      assert.equal(PROTOCOL, '/umesh/test/have/1.0.0')
      assert.equal(b.services.have.protocol, PROTOCOL)
      assert.ok(b.getProtocols().includes(PROTOCOL))
      assert.equal(b.services.have.isStarted(), true)
    })

    it('exchanges hellos: each side gets the other\'s bitfield, the swarm is asked for the release and count', async () => {
      const fake = new FakeSwarm((release, count) => hello(count, [1, 2, 19], release))
      swarmB = fake
      const session = await HaveSession.open(a, b.peerId, NETWORK, hello(20, [0, 3]))
      assert.ok(session != null)
      assert.equal(session.peer.toString(), b.peerId.toString())
      assert.deepEqual([[...session.remote.release], session.remote.count, [...session.remote.bitfield]], [[...RELEASE], 20, [...bitfield(20, [1, 2, 19])]])
      await waitFor('B to adopt the session', () => fake.adopted.length === 1)
      assert.deepEqual(fake.hellos.map(h => [[...h.release], h.count]), [[[...RELEASE], 20]])
      const remote = fake.adopted[0].session
      assert.equal(remote.peer.toString(), a.peerId.toString())
      assert.deepEqual([[...remote.remote.release], remote.remote.count, [...remote.remote.bitfield]], [[...RELEASE], 20, [...bitfield(20, [0, 3])]])
      session.close()
      await fake.adopted[0].closed()
    })

    it('answers unknown (undefined) when the swarm does not know the release, or there is no swarm yet', async () => {
      const fake = new FakeSwarm(() => undefined)
      swarmB = fake
      assert.equal(await HaveSession.open(a, b.peerId, NETWORK, hello(5)), undefined)
      assert.equal(fake.hellos.length, 1)
      swarmB = undefined
      assert.equal(await HaveSession.open(a, b.peerId, NETWORK, hello(5)), undefined)
      await new Promise(resolve => setTimeout(resolve, 20))
      assert.equal(fake.adopted.length, 0)
    })

    it('sends announced pieces to the other side in one batch, both ways', async () => {
      const fake = new FakeSwarm((release, count) => hello(count, [], release))
      swarmB = fake
      const ours = listen((await HaveSession.open(a, b.peerId, NETWORK, hello(16)))!)
      await waitFor('B to adopt the session', () => fake.adopted.length === 1)
      const theirs = fake.adopted[0]
      ours.session.announce(4)
      ours.session.announce(7)
      ours.session.announce(5)
      await waitFor('the increments at B', () => theirs.added.length > 0)
      await new Promise(resolve => setTimeout(resolve, 50))
      assert.deepEqual(theirs.added, [[4, 7, 5]], 'three announcements in one message')
      theirs.session.announce(15)
      await waitFor('the increment at A', () => ours.added.length > 0)
      assert.deepEqual(ours.added, [[15]])
      ours.session.announce(0)
      await waitFor('a second batch at B', () => theirs.added.length === 2)
      assert.deepEqual(theirs.added, [[4, 7, 5], [0]])
      ours.session.close()
      assert.equal(await theirs.closed(), undefined)
    })

    it('closing one side fires onClose on the other, without an error for a clean close', async () => {
      const fake = new FakeSwarm((release, count) => hello(count, [], release))
      swarmB = fake
      const first = listen((await HaveSession.open(a, b.peerId, NETWORK, hello(8)))!)
      await waitFor('B to adopt', () => fake.adopted.length === 1)
      fake.adopted[0].session.close()
      assert.equal(await first.closed(), undefined, 'A hears the end of the stream')
      assert.equal(first.session.isClosed, true)
      first.session.announce(1) // after the close: ignored
      const second = listen((await HaveSession.open(a, b.peerId, NETWORK, hello(8)))!)
      await waitFor('B to adopt', () => fake.adopted.length === 2)
      second.session.close(new Error('giving up'))
      const err = await fake.adopted[1].closed()
      assert.ok(err != null, 'an abort reaches the other side as an error')
      assert.ok(fake.adopted[1].session.isClosed)
    })

    it('the service cuts off a peer whose first message breaks the protocol, without asking the swarm', async () => {
      const fake = new FakeSwarm((release, count) => hello(count, [], release))
      swarmB = fake
      const bad: Array<[string, Uint8Array]> = [
        ['a bitfield of the wrong length', framed({ release: RELEASE, count: 10, bitfield: new Uint8Array(1) })],
        ['unused bits set', framed({ release: RELEASE, count: 10, bitfield: Uint8Array.from([0, 0x01]) })],
        ['a count of 0', framed({ release: RELEASE })],
        ['a count above MAX_PIECES', framed({ release: RELEASE, count: MAX_PIECES + 1, bitfield: new Uint8Array(MAX_PIECES / 8 + 1) })],
        ['no release', framed({ count: 8, bitfield: new Uint8Array(1) })],
        ['not protobuf', Uint8Array.from([3, 0xff, 0xff, 0xff])],
        ['a message longer than MAX_MESSAGE_BYTES', Uint8Array.from([...varint(MAX_MESSAGE_BYTES + 1), 1, 2, 3])],
        ['a length prefix that never ends', new Uint8Array(64).fill(0xff)]
      ]
      for (const [what, bytes] of bad) {
        const stream = await a.dialProtocol(b.peerId, PROTOCOL)
        await byteStream(stream).write(bytes)
        await assertCut(stream).catch((err: Error) => { throw new Error(`${what}: ${err.message}`) })
      }
      assert.deepEqual(fake.hellos, [], 'the swarm was never asked')
      assert.equal(fake.adopted.length, 0)
      // and the service still answers a good peer afterwards
      const good = await HaveSession.open(a, b.peerId, NETWORK, hello(8))
      assert.ok(good != null)
      good.close()
    })

    it('the opener cuts off a peer that answers for another release or piece count', async () => {
      swarmB = new FakeSwarm((_, count) => hello(count, [], OTHER_RELEASE))
      await assert.rejects(HaveSession.open(a, b.peerId, NETWORK, hello(8)), isProtocolError(/another release or piece count/))
      swarmB = new FakeSwarm((release) => hello(9, [], release))
      await assert.rejects(HaveSession.open(a, b.peerId, NETWORK, hello(8)), isProtocolError(/another release or piece count \(9, expected 8\)/))
      swarmB = new FakeSwarm((release, count) => ({ release, count, bitfield: Uint8Array.from([0xff, 0xff]) }))
      await assert.rejects(HaveSession.open(a, b.peerId, NETWORK, hello(9)), isProtocolError(/bitfield of 2 bytes for 9 pieces/))
    })
  })

  describe('two ReleaseSwarms', () => {
    const cids: CID[] = Array.from({ length: 8 }, (_, i) => chunkCid(Uint8Array.from([i])))
    const release = chunkCid(new TextEncoder().encode('swarm release'))

    function releaseSwarm (self: Node, held: number[], opener: StreamOpener = self): ReleaseSwarm {
      return new ReleaseSwarm({ release, pieces: { cids, sizes: cids.map(() => 1) }, held: new Bitfield(8, bitfield(8, held)), self: self.peerId, opener, network: NETWORK, log: defaultLogger().forComponent('test:have') })
    }

    /** the service's view of one ReleaseSwarm (what src/swarm/swarm.ts does for many) */
    function serving (rs: ReleaseSwarm): HaveSwarm {
      return {
        hello: async (bytes, count) => Buffer.compare(bytes, release.bytes) === 0 && count === rs.count ? rs.hello() : undefined,
        adopt: (session) => { rs.adopt(session, false) }
      }
    }

    function events (rs: ReleaseSwarm): string[] {
      const log: string[] = []
      const listener: SwarmListener = {
        peerJoined: (p: SwarmPeer) => { log.push(`joined ${p.key === a.peerId.toString() ? 'a' : 'b'}`) },
        peerHas: (_: SwarmPeer, i: number) => { log.push(`has ${i}`) },
        peerLeft: () => { log.push('left') }
      }
      rs.listener = listener
      return log
    }

    const view = (rs: ReleaseSwarm, peer: PeerId): number[] => {
      const have = rs.peers.get(peer.toString())?.have
      return have == null ? [] : Array.from({ length: 8 }, (_, i) => i).filter(i => have.has(i))
    }

    it('connect opens one session; markHeld on one side shows in the other\'s peer `have` and availability', async () => {
      let dials = 0
      const counting: StreamOpener = { dialProtocol: async (peer, protocol, options) => { dials++; return await a.dialProtocol(peer, protocol, options) } }
      const onA = releaseSwarm(a, [0, 1], counting)
      const onB = releaseSwarm(b, [2])
      swarmA = serving(onA)
      swarmB = serving(onB)
      const heardOnB = events(onB)
      assert.deepEqual(await Promise.all([onA.connect(b.peerId), onA.connect(b.peerId)]), [true, true])
      assert.equal(dials, 1, 'two connects at once open one session')
      assert.equal(await onA.connect(b.peerId), true)
      assert.equal(dials, 1, 'a peer in the swarm is not dialled again')
      await waitFor('B to take the session', () => onB.peers.size === 1)
      assert.deepEqual(view(onA, b.peerId), [2])
      assert.deepEqual(view(onB, a.peerId), [0, 1])
      assert.deepEqual([...onA.availability], [0, 0, 1, 0, 0, 0, 0, 0])
      assert.deepEqual([...onB.availability], [1, 1, 0, 0, 0, 0, 0, 0])
      assert.deepEqual(heardOnB, ['joined a'])

      onA.markHeld(5)
      onA.markHeld(5) // twice: announced once
      await waitFor('B to hear of piece 5', () => onB.availability[5] === 1)
      assert.deepEqual(view(onB, a.peerId), [0, 1, 5])
      onB.markHeld(0)
      await waitFor('A to hear of piece 0', () => onA.availability[0] === 1)
      assert.deepEqual(view(onA, b.peerId), [0, 2])
      await new Promise(resolve => setTimeout(resolve, 50))
      assert.deepEqual(heardOnB, ['joined a', 'has 5'])
      assert.equal(onB.availability[5], 1)

      onA.close()
      await waitFor('B to see A leave', () => onB.peers.size === 0)
      assert.deepEqual([...onB.availability], [0, 0, 0, 0, 0, 0, 0, 0])
      assert.deepEqual(heardOnB, ['joined a', 'has 5', 'left'])
      assert.equal(onA.peers.size, 0)
    })

    it('markFetching reaches the other side as a hint that ends when the piece is held or the peer leaves', async () => {
      const onA = releaseSwarm(a, [0])
      const onB = releaseSwarm(b, [])
      swarmA = serving(onA)
      swarmB = serving(onB)
      assert.equal(await onA.connect(b.peerId), true)
      await waitFor('B to take the session', () => onB.peers.size === 1)
      onB.markFetching([3, 4])
      onB.markFetching([3])
      await waitFor('A to hear B fetches 3 and 4', () => onA.fetching[3] === 1 && onA.fetching[4] === 1)
      await new Promise(resolve => setTimeout(resolve, 50))
      assert.deepEqual([...onA.fetching], [0, 0, 0, 1, 1, 0, 0, 0], 'a piece counts once per peer')
      onB.markHeld(3)
      await waitFor('A to hear B holds 3', () => onA.availability[3] === 1)
      assert.deepEqual([...onA.fetching], [0, 0, 0, 0, 1, 0, 0, 0], 'held is no longer fetching')
      onB.close()
      await waitFor('A to see B leave', () => onA.peers.size === 0)
      assert.deepEqual([...onA.fetching], [0, 0, 0, 0, 0, 0, 0, 0], 'a peer that left fetches nothing')
    })

    it('connect is false when the peer does not know the release', async () => {
      const onA = releaseSwarm(a, [])
      swarmA = serving(onA)
      swarmB = new FakeSwarm(() => undefined)
      assert.equal(await onA.connect(b.peerId), false)
      assert.equal(onA.peers.size, 0)
    })

    it('sessions opened by both sides at once end as one session, the same on both sides', async () => {
      const onA = releaseSwarm(a, [0])
      const onB = releaseSwarm(b, [1])
      swarmA = serving(onA)
      swarmB = serving(onB)
      await Promise.all([onA.connect(b.peerId), onB.connect(a.peerId)])
      await new Promise(resolve => setTimeout(resolve, 200))
      assert.equal(onA.peers.size, 1)
      assert.equal(onB.peers.size, 1)
      onA.markHeld(6)
      onB.markHeld(7)
      await waitFor('both to hear', () => view(onB, a.peerId).includes(6) && view(onA, b.peerId).includes(7))
      assert.deepEqual([...onA.availability], [0, 1, 0, 0, 0, 0, 0, 1])
      assert.deepEqual([...onB.availability], [1, 0, 0, 0, 0, 0, 1, 0])
      onA.close()
      await waitFor('B to see A leave', () => onB.peers.size === 0)
    })

    it('of two sessions opened at once, both sides keep the one the smaller peer id opened, whatever the order they arrive in', async () => {
      const smaller = a.peerId.toString() < b.peerId.toString() ? 'a' : 'b'
      for (const orderOnA of [['x', 'y'], ['y', 'x']]) {
        for (const orderOnB of [['x', 'y'], ['y', 'x']]) {
          const onA = releaseSwarm(a, [0])
          const onB = releaseSwarm(b, [1])
          /** a session pair on a stream pair: `from` opened it */
          const pair = async (from: ReleaseSwarm, fromId: PeerId, to: ReleaseSwarm, toId: PeerId): Promise<{ opener: HaveSession, accepter: HaveSession }> => {
            const [client, server] = await streamPair()
            const [opener, accepter] = await Promise.all([
              HaveSession.open({ dialProtocol: async () => client }, toId, NETWORK, from.hello()),
              HaveSession.accept(server, { remotePeer: fromId } as unknown as Connection, async () => to.hello())
            ])
            return { opener: opener!, accepter: accepter! }
          }
          const x = await pair(onA, a.peerId, onB, b.peerId) // opened by a
          const y = await pair(onB, b.peerId, onA, a.peerId) // opened by b
          const label = new Map<HaveSession, string>([[x.opener, 'x'], [x.accepter, 'x'], [y.opener, 'y'], [y.accepter, 'y']])
          for (const s of orderOnA) s === 'x' ? onA.adopt(x.opener, true) : onA.adopt(y.accepter, false)
          for (const s of orderOnB) s === 'x' ? onB.adopt(x.accepter, false) : onB.adopt(y.opener, true)
          await new Promise(resolve => setTimeout(resolve, 30))
          const keptOnA = onA.peers.get(b.peerId.toString())?.session
          const keptOnB = onB.peers.get(a.peerId.toString())?.session
          const at = `a adopts ${orderOnA.join(',')}, b adopts ${orderOnB.join(',')}`
          assert.ok(keptOnA != null && keptOnB != null, `${at}: a peer was lost`)
          assert.equal(label.get(keptOnA), smaller === 'a' ? 'x' : 'y', `${at}: a kept the wrong session`)
          assert.equal(label.get(keptOnB), label.get(keptOnA), `${at}: the two sides kept different sessions`)
          assert.equal(keptOnA.isClosed || keptOnB.isClosed, false, at)
          const lost = label.get(keptOnA) === 'x' ? y : x
          assert.ok(lost.opener.isClosed && lost.accepter.isClosed, `${at}: the other session is closed on both ends`)
          assert.deepEqual([...onA.availability], [0, 1, 0, 0, 0, 0, 0, 0], `${at}: b counted once`)
          assert.deepEqual([...onB.availability], [1, 0, 0, 0, 0, 0, 0, 0], `${at}: a counted once`)
          onA.close()
          onB.close()
        }
      }
    })

    it('a piece marked held while the session is being opened reaches the peer', async () => {
      // a dial that takes 100 ms, as over a real network
      const slow: StreamOpener = { dialProtocol: async (peer, protocol, options) => { await new Promise(resolve => setTimeout(resolve, 100)); return await a.dialProtocol(peer, protocol, options) } }
      const onA = releaseSwarm(a, [0], slow)
      const onB = releaseSwarm(b, [])
      swarmA = serving(onA)
      swarmB = serving(onB)
      const connected = onA.connect(b.peerId)
      onA.markHeld(3)
      assert.equal(await connected, true)
      try {
        await waitFor('B to hear of piece 3', () => view(onB, a.peerId).includes(3), 500)
      } finally {
        onA.close()
        await waitFor('B to see A leave', () => onB.peers.size === 0)
      }
    })

    it('two complete holders close their session', async () => {
      const onA = releaseSwarm(a, [0, 1, 2, 3, 4, 5, 6, 7])
      const onB = releaseSwarm(b, [0, 1, 2, 3, 4, 5, 6])
      swarmA = serving(onA)
      swarmB = serving(onB)
      assert.equal(await onB.connect(a.peerId), true)
      await waitFor('A to take the session', () => onA.peers.size === 1)
      onB.markHeld(7)
      await waitFor('both to close', () => onA.peers.size === 0 && onB.peers.size === 0)
    })
  })

  describe('a misbehaving peer, on a stream pair', () => {
    /** a peer opening a session with raw bytes; accept answers with hello(count) when asked */
    async function accepting (bytes: Uint8Array): Promise<{ result: Promise<HaveSession | undefined>, lookups: number, client: Stream, server: Stream }> {
      const [client, server] = await streamPair()
      const state = { lookups: 0 }
      const result = HaveSession.accept(server, connection, async (release, count) => { state.lookups++; return hello(count, [], release) }, { helloTimeout: 2000 })
      await byteStream(client).write(bytes)
      return { result, get lookups () { return state.lookups }, client, server }
    }

    const faults: Array<[string, Uint8Array, RegExp]> = [
      ['a bitfield of the wrong length', framed({ release: RELEASE, count: 10, bitfield: new Uint8Array(1) }), /bitfield of 1 bytes for 10 pieces/],
      ['a bitfield one byte long', framed({ release: RELEASE, count: 8, bitfield: new Uint8Array(2) }), /bitfield of 2 bytes for 8 pieces/],
      ['unused bits set', framed({ release: RELEASE, count: 10, bitfield: Uint8Array.from([0, 0x01]) }), /unused bits zero/],
      ['a count of 0', framed({ release: RELEASE }), /piece count of 0/],
      ['a count above MAX_PIECES', framed({ release: RELEASE, count: MAX_PIECES + 1, bitfield: new Uint8Array(MAX_PIECES / 8 + 1) }), /piece count of 1048577/],
      ['no release CID', framed({ count: 8, bitfield: new Uint8Array(1) }), /release CID/],
      ['a release CID over 64 bytes', framed({ release: new Uint8Array(65), count: 8, bitfield: new Uint8Array(1) }), /release CID of at most 64 bytes/],
      ['a message that is not protobuf', Uint8Array.from([3, 0xff, 0xff, 0xff]), /malformed/]
    ]
    // refused by the framing (lpStream) before any byte of the message is kept
    const OVERSIZED = Uint8Array.from([...varint(MAX_MESSAGE_BYTES + 1), 1, 2, 3])
    const ENDLESS = new Uint8Array(64).fill(0xff)
    const framing: Array<[string, Uint8Array]> = [['a message longer than MAX_MESSAGE_BYTES', OVERSIZED], ['a length prefix that never ends', ENDLESS]]

    for (const [what, bytes, pattern] of faults) {
      it(`accept refuses ${what} with HaveProtocolError, at once, and cuts the stream`, async () => {
        const started = Date.now()
        const peer = await accepting(bytes)
        await assert.rejects(peer.result, isProtocolError(pattern))
        assert.ok(Date.now() - started < 1000, 'refused before the hello timeout')
        assert.equal(peer.lookups, 0, 'the swarm was not asked')
        assert.equal(peer.server.status, 'aborted')
        await assertCut(peer.client)
      })
    }

    for (const [what, bytes] of framing) {
      it(`accept refuses ${what} at once and cuts the stream`, async () => {
        const started = Date.now()
        const peer = await accepting(bytes)
        const err = await rejection(peer.result)
        assert.ok(err instanceof Error && err.name !== 'TimeoutError' && err.name !== 'AbortError', `refused for the fault, not a timeout: ${String(err?.name)}`)
        assert.ok(Date.now() - started < 1000, 'refused before the hello timeout')
        assert.equal(peer.lookups, 0)
        assert.equal(peer.server.status, 'aborted')
        await assertCut(peer.client)
      })
    }

    it('accept takes a bitfield of exactly MAX_PIECES pieces, the largest hello', async () => {
      const full = new Uint8Array(MAX_PIECES / 8).fill(0xff)
      const peer = await accepting(framed({ release: RELEASE, count: MAX_PIECES, bitfield: full }))
      const session = await peer.result
      assert.ok(session != null)
      assert.equal(session.remote.count, MAX_PIECES)
      assert.equal(peer.lookups, 1)
      assert.ok(new Bitfield(MAX_PIECES, session.remote.bitfield).complete)
      session.close()
    })

    it('accept gives up on a peer that says nothing within the hello timeout', async () => {
      const [client, server] = await streamPair()
      const started = Date.now()
      const err = await rejection(HaveSession.accept(server, connection, async () => hello(8), { helloTimeout: 150 }))
      assert.ok(Date.now() - started >= 140, `gave up after ${Date.now() - started} ms`)
      assert.ok(err != null)
      assert.equal(server.status, 'aborted')
      await assertCut(client)
    })

    it('accept says unknown and closes when the swarm does not know the release', async () => {
      const [client, server] = await streamPair()
      const result = HaveSession.accept(server, connection, async () => undefined)
      const lp = lpStream(client)
      await lp.write(encode({ release: RELEASE, count: 8, bitfield: new Uint8Array(1) }))
      const answer = HaveMessage.decode((await lp.read({ signal: AbortSignal.timeout(2000) })).subarray())
      assert.equal(answer.unknown, true)
      assert.equal(await result, undefined)
      const end = await rejection(lp.read({ signal: AbortSignal.timeout(2000) }))
      assert.equal(end.name, 'UnexpectedEOFError', 'a clean close after the answer')
    })

    /** an opener whose peer answers the hello with `answer` (raw bytes), then runs `then` */
    function answering (answer: (hello: HaveMessage) => Uint8Array | undefined, then?: (server: Stream) => Promise<void>): { dialProtocol: () => Promise<Stream>, server: () => Stream } {
      let end: Stream | undefined
      return {
        server: () => end!,
        dialProtocol: async () => {
          const [client, server] = await streamPair()
          end = server
          void (async () => {
            const lp = lpStream(server, { maxDataLength: MAX_MESSAGE_BYTES })
            const first = HaveMessage.decode((await lp.read()).subarray())
            const bytes = answer(first)
            if (bytes != null) await byteStream(server).write(bytes)
            await then?.(server)
          })().catch(() => {})
          return client
        }
      }
    }

    const echo = (h: HaveMessage): Uint8Array => framed({ release: h.release, count: h.count, bitfield: bitfield(h.count) })

    it('open refuses a bad answer with HaveProtocolError and cuts the stream', async () => {
      const answers: Array<[string, (h: HaveMessage) => Uint8Array, RegExp]> = [
        ['another release', h => framed({ release: OTHER_RELEASE, count: h.count, bitfield: bitfield(h.count) }), /another release/],
        ['another count', h => framed({ release: h.release, count: h.count + 8, bitfield: bitfield(h.count + 8) }), /another release or piece count/],
        ['a short bitfield', h => framed({ release: h.release, count: h.count, bitfield: new Uint8Array(1) }), /bitfield of 1 bytes for 12 pieces/],
        ['unused bits set', h => framed({ release: h.release, count: h.count, bitfield: Uint8Array.from([0, 0x08]) }), /unused bits zero/],
        ['not protobuf', () => Uint8Array.from([2, 0xff, 0xff]), /malformed/]
      ]
      for (const [what, answer, pattern] of answers) {
        const opener = answering(answer)
        const err = await rejection(HaveSession.open(opener, PEER, NETWORK, hello(12), { helloTimeout: 2000 }))
        try {
          isProtocolError(pattern)(err)
          await assertCut(opener.server())
        } catch (e) {
          throw new Error(`${what}: ${(e as Error).message}`)
        }
      }
    })

    it('open refuses an oversized answer or an endless length prefix at once and cuts the stream', async () => {
      for (const [what, bytes] of framing) {
        const opener = answering(() => bytes)
        const started = Date.now()
        const err = await rejection(HaveSession.open(opener, PEER, NETWORK, hello(12), { helloTimeout: 2000 }))
        assert.ok(err instanceof Error && err.name !== 'TimeoutError' && err.name !== 'AbortError', `${what}: refused for the fault, not a timeout: ${String(err?.name)}`)
        assert.ok(Date.now() - started < 1000, what)
        await assertCut(opener.server())
      }
    })

    it('open gives up on a peer that never answers within the hello timeout', async () => {
      const opener = answering(() => undefined)
      const started = Date.now()
      await assert.rejects(HaveSession.open(opener, PEER, NETWORK, hello(8), { helloTimeout: 150 }))
      assert.ok(Date.now() - started >= 140)
      await assertCut(opener.server())
    })

    /** an open session whose peer, after a good answer, sends `bytes` */
    async function sessionThen (count: number, bytes: Uint8Array, options = {}): Promise<{ heard: Heard, server: Stream }> {
      const opener = answering(echo, async (server) => { if (bytes.length > 0) await byteStream(server).write(bytes) })
      const session = await HaveSession.open(opener, PEER, NETWORK, hello(count), options)
      assert.ok(session != null)
      return { heard: listen(session), server: opener.server() }
    }

    it('a piece index >= count in `added` closes the session with HaveProtocolError; none of the message counts', async () => {
      const { heard, server } = await sessionThen(12, framed({ added: [1, 2, 12] }))
      await assert.rejects(heard.closed().then(err => { throw err }), isProtocolError(/announced piece 12 of a release with 12/))
      assert.deepEqual(heard.added, [])
      await assertCut(server)
    })

    it('`added` with more than MAX_ADDED pieces is refused; exactly MAX_ADDED is taken', async () => {
      const pieces = Array.from({ length: MAX_ADDED }, (_, i) => i)
      const ok = await sessionThen(MAX_ADDED + 1, framed({ added: pieces }))
      await waitFor('the increments', () => ok.heard.added.length === 1)
      assert.equal(ok.heard.added[0].length, MAX_ADDED)
      ok.heard.session.close()
      const bad = await sessionThen(MAX_ADDED + 1, framed({ added: [...pieces, MAX_ADDED] }))
      await assert.rejects(bad.heard.closed().then(err => { throw err }), isProtocolError(/malformed/))
      assert.deepEqual(bad.heard.added, [])
    })

    it('a session announcing more than MAX_ADDED pieces at once sends several messages the peer accepts', async () => {
      const [client, server] = await streamPair()
      const opened = HaveSession.open({ dialProtocol: async () => client }, PEER, NETWORK, hello(10_000))
      const accepted = HaveSession.accept(server, connection, async (release, count) => hello(count, [], release))
      const [ours, theirs] = await Promise.all([opened, accepted])
      assert.ok(ours != null && theirs != null)
      const there = listen(theirs)
      listen(ours)
      for (let i = 0; i < 9000; i++) ours.announce(i)
      await waitFor('every increment', () => there.added.flat().length === 9000)
      assert.deepEqual(there.added.map(batch => batch.length), [MAX_ADDED, MAX_ADDED, 9000 - 2 * MAX_ADDED])
      assert.deepEqual(there.added.flat(), Array.from({ length: 9000 }, (_, i) => i))
      ours.close()
      assert.equal(await there.closed(), undefined)
    })

    it('an oversized or endless message mid-session closes the session with an error and cuts the stream', async () => {
      for (const [what, bytes] of framing) {
        const { heard, server } = await sessionThen(8, bytes)
        const err = await heard.closed()
        assert.ok(err instanceof Error, `${what}: closed with an error`)
        assert.deepEqual(heard.added, [])
        await assertCut(server)
      }
    })

    it('an oversized message or an endless length prefix is refused as HaveProtocolError, like every other fault', async () => {
      for (const [what, bytes] of framing) {
        await assert.rejects((await accepting(bytes)).result, isProtocolError(/./), `accept, ${what}`)
        await assert.rejects(HaveSession.open(answering(() => bytes), PEER, NETWORK, hello(12)), isProtocolError(/./), `open, ${what}`)
        const { heard } = await sessionThen(8, bytes)
        await assert.rejects(heard.closed().then(err => { throw err }), isProtocolError(/./), `mid-session, ${what}`)
      }
    })

    it('a session with no message either way for the idle timeout is closed with HaveProtocolError', async () => {
      const { heard, server } = await sessionThen(8, new Uint8Array(0), { idleTimeout: 150 })
      const started = Date.now()
      // our own announcements keep it alive
      for (let n = 0; n < 4; n++) {
        heard.session.announce(n)
        await new Promise(resolve => setTimeout(resolve, 75))
        assert.equal(heard.isClosed(), false, `closed after ${Date.now() - started} ms though it sent every 75 ms`)
      }
      await assert.rejects(heard.closed().then(err => { throw err }), isProtocolError(/no have message either way for 150 ms/))
      assert.ok(Date.now() - started >= 300)
      await assertCut(server)
    })
  })
})
