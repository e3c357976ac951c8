/**
 * Have peers scripted on in-memory stream pairs: one that opens a session
 * with raw bytes, one that answers a hello with raw bytes, and a session that
 * goes bad after a good answer. Faults the framing (lpStream) refuses before
 * any byte of the message is kept are listed here, as every side meets them.
 */
import assert from 'node:assert/strict'
import { byteStream, lpStream, streamPair } from '@libp2p/utils'
import { HaveMessage, HaveSession, MAX_MESSAGE_BYTES } from '../../protocols/have/index.js'
import { NETWORK, PEER, bitfield, connection, framed, hello, listen, varint } from './have-streams.js'
import type { Heard } from './have-streams.js'
import type { Stream } from '@libp2p/interface'

// refused by the framing (lpStream) before any byte of the message is kept
export const OVERSIZED = Uint8Array.from([...varint(MAX_MESSAGE_BYTES + 1), 1, 2, 3])
export const ENDLESS = new Uint8Array(64).fill(0xff)
export const framing: Array<[string, Uint8Array]> = [['a message longer than MAX_MESSAGE_BYTES', OVERSIZED], ['a length prefix that never ends', ENDLESS]]

/** a peer opening a session with raw bytes; accept answers with hello(count) when asked */
export async function accepting (bytes: Uint8Array): Promise<{ result: Promise<HaveSession | undefined>, lookups: number, client: Stream, server: Stream }> {
  const [client, server] = await streamPair()
  const state = { lookups: 0 }
  const result = HaveSession.accept(server, connection, async (release, count) => { state.lookups++; return hello(count, [], release) }, { helloTimeout: 2000 })
  await byteStream(client).write(bytes)
  return { result, get lookups () { return state.lookups }, client, server }
}

/** an opener whose peer answers the hello with `answer` (raw bytes), then runs `then` */
export function answering (answer: (hello: HaveMessage) => Uint8Array | undefined, then?: (server: Stream) => Promise<void>): { dialProtocol: () => Promise<Stream>, server: () => Stream } {
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

export const echo = (h: HaveMessage): Uint8Array => framed({ release: h.release, count: h.count, bitfield: bitfield(h.count) })

/** an open session whose peer, after a good answer, sends `bytes` */
export async function sessionThen (count: number, bytes: Uint8Array, options = {}): Promise<{ heard: Heard, server: Stream }> {
  const opener = answering(echo, async (server) => { if (bytes.length > 0) await byteStream(server).write(bytes) })
  const session = await HaveSession.open(opener, PEER, NETWORK, hello(count), options)
  assert.ok(session != null)
  return { heard: listen(session), server: opener.server() }
}
