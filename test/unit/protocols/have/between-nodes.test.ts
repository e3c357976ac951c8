/**
 * The have exchange between two libp2p nodes on loopback: the service
 * registered, hellos both ways, unknown releases, batched announcements, a
 * close heard on the other side, and a first message or an answer that breaks
 * the protocol cutting the peer off.
 */
import '../../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { byteStream } from '@libp2p/utils'
import { HaveSession, MAX_MESSAGE_BYTES, MAX_PIECES } from '../../../../protocols/have/index.js'
import { FakeSwarm, connectedPair } from '../../../helpers/have-nodes.js'
import { NETWORK, OTHER_RELEASE, PROTOCOL, RELEASE, assertCut, bitfield, framed, hello, isProtocolError, keepEventLoopAlive, listen, varint, waitFor } from '../../../helpers/have-streams.js'
import type { HaveSwarm } from '../../../../protocols/have/index.js'
import type { HaveNode } from '../../../helpers/have-nodes.js'

describe('have protocol', () => {
  // the nodes' sockets hold the event loop open during a test, and this between tests
  keepEventLoopAlive()
  let a: HaveNode
  let b: HaveNode
  let swarmB: HaveSwarm | undefined

  before(async () => {
    ({ a, b } = await connectedPair(() => undefined, () => swarmB))
  })

  after(async () => {
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
})
