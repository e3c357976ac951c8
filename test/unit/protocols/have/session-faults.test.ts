/**
 * A have session that goes bad after a good hello, on in-memory stream
 * pairs: pieces out of range, too many pieces in one message (and a sender
 * that splits its own), oversized messages, endless length prefixes and
 * silence past the idle timeout. Every fault must close the session with
 * HaveProtocolError and cut the stream, never hang it.
 */
import '../../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { streamPair } from '@libp2p/utils'
import { HaveSession, MAX_ADDED } from '../../../../protocols/have/index.js'
import { accepting, answering, framing, sessionThen } from '../../../helpers/have-scripted-peers.js'
import { NETWORK, PEER, assertCut, connection, framed, hello, isProtocolError, keepEventLoopAlive, listen, waitFor } from '../../../helpers/have-streams.js'

describe('have protocol', () => {
  keepEventLoopAlive()

  describe('a misbehaving peer, on a stream pair', () => {
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
