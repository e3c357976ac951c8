/**
 * Two ReleaseSwarms talking through the have service of two libp2p nodes on
 * loopback: one session per peer however many connects, pieces held and
 * fetching hints reaching the other side, sessions opened by both sides at
 * once ending as one, and a piece held while a session opens.
 */
import '../../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { defaultLogger } from '@libp2p/logger'
import { streamPair } from '@libp2p/utils'
import { chunkCid } from '../../../../src/content/index.js'
import { Bitfield } from '../../../../protocols/shared/index.js'
import { ReleaseSwarm } from '../../../../src/swarm/release-swarm.js'
import { HaveSession } from '../../../../protocols/have/index.js'
import { FakeSwarm, connectedPair } from '../../../helpers/have-nodes.js'
import { NETWORK, bitfield, keepEventLoopAlive, waitFor } from '../../../helpers/have-streams.js'
import type { HaveSwarm } from '../../../../protocols/have/index.js'
import type { SwarmListener, SwarmPeer } from '../../../../src/swarm/release-swarm.js'
import type { StreamOpener } from '../../../../protocols/shared/index.js'
import type { HaveNode } from '../../../helpers/have-nodes.js'
import type { Connection, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

describe('have protocol', () => {
  // the nodes' sockets hold the event loop open during a test, and this between tests
  keepEventLoopAlive()
  let a: HaveNode
  let b: HaveNode
  let swarmA: HaveSwarm | undefined
  let swarmB: HaveSwarm | undefined

  before(async () => {
    ({ a, b } = await connectedPair(() => swarmA, () => swarmB))
  })

  after(async () => {
    await a?.stop()
    await b?.stop()
  })

  describe('two ReleaseSwarms', () => {
    const cids: CID[] = Array.from({ length: 8 }, (_, i) => chunkCid(Uint8Array.from([i])))
    const release = chunkCid(new TextEncoder().encode('swarm release'))

    function releaseSwarm (self: HaveNode, held: number[], opener: StreamOpener = self): ReleaseSwarm {
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
})
