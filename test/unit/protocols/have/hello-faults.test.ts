/**
 * The first message of a have session from a misbehaving peer, on in-memory
 * stream pairs: every malformed hello, an oversized message or an endless
 * length prefix, and silence, both when accepting and when opening. Every
 * fault must end in HaveProtocolError and a cut stream, never in a hang or a
 * buffer that grows.
 */
import '../../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { lpStream, streamPair } from '@libp2p/utils'
import { Bitfield } from '../../../../protocols/shared/index.js'
import { HaveMessage, HaveSession, MAX_PIECES } from '../../../../protocols/have/index.js'
import { accepting, answering, framing } from '../../../helpers/have-scripted-peers.js'
import { NETWORK, OTHER_RELEASE, PEER, RELEASE, assertCut, bitfield, connection, encode, framed, hello, isProtocolError, keepEventLoopAlive, rejection } from '../../../helpers/have-streams.js'

describe('have protocol', () => {
  keepEventLoopAlive()

  describe('a misbehaving peer, on a stream pair', () => {
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
  })
})
