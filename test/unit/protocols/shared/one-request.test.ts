/**
 * The server side of a one-request stream, on real stream pairs: a request
 * in any number of pieces, a refused length decided on the bytes that carry
 * it, an early close, the answer framed as lpStream reads it, and a client
 * that goes on sending cut off only once its answer has been sent.
 */
import '../../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { lpStream, streamPair } from '@libp2p/utils'
import { lengthPrefix, OneRequest, varintBytes } from '../../../../protocols/shared/index.js'
import type { Stream, StreamCloseEvent } from '@libp2p/interface'

const INIT = { maxDataLength: 64, maxUnreadBytes: 1024 }

async function pair (): Promise<{ client: Stream, server: Stream, exchange: OneRequest }> {
  const [client, server] = await streamPair()
  return { client, server, exchange: new OneRequest(server, INIT) }
}

const tick = async (ms = 20): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

function closed (stream: Stream): Promise<StreamCloseEvent> {
  return new Promise(resolve => { stream.addEventListener('close', resolve, { once: true }) })
}

describe('OneRequest', () => {
  // AbortSignal.timeout does not hold the event loop open
  let keepAlive: NodeJS.Timeout
  before(() => { keepAlive = setInterval(() => {}, 1000) })
  after(() => { clearInterval(keepAlive) })

  it('reads a request sent a byte at a time, and drops what follows it', async () => {
    const { client, exchange } = await pair()
    const request = Uint8Array.from({ length: 40 }, (_, i) => i)
    const wire = [...varintBytes(request.length), ...request, 9, 9, 9]
    for (const byte of wire) {
      client.send(Uint8Array.of(byte))
      await tick(1)
    }
    const read = await exchange.read({ signal: AbortSignal.timeout(2_000) })
    assert.deepEqual(read.subarray(), request)
    assert.equal(client.status, 'open', '3 bytes after the request are under the limit')
  })

  it('refuses a length above the limit at its prefix, and one whose prefix is too long', async () => {
    const tooLong = await pair()
    tooLong.client.send(Uint8Array.of(65))
    await assert.rejects(tooLong.exchange.read({ signal: AbortSignal.timeout(2_000) }), { name: 'InvalidDataLengthError', message: 'Message length too long - 65 > 64' })
    const endless = await pair()
    endless.client.send(Uint8Array.of(0x80, 0x80))
    await assert.rejects(endless.exchange.read({ signal: AbortSignal.timeout(2_000) }), { name: 'InvalidDataLengthLengthError', message: /^Message length length too long - 2 > 1 / })
  })

  it('rejects with UnexpectedEOFError when the client closes before a whole request', async () => {
    const { client, exchange } = await pair()
    client.send(Uint8Array.of(10, 1, 2, 3))
    await client.close()
    await assert.rejects(exchange.read({ signal: AbortSignal.timeout(2_000) }), { name: 'UnexpectedEOFError', message: /after 4 bytes, before a whole request/ })
  })

  it('gives up on a request when the signal aborts', async () => {
    const { exchange } = await pair()
    await assert.rejects(exchange.read({ signal: AbortSignal.timeout(50) }), { name: 'TimeoutError' })
  })

  it('writes answers lpStream reads, with a length prefix each', async () => {
    const { client, exchange } = await pair()
    client.send(Uint8Array.of(1, 42))
    assert.deepEqual((await exchange.read()).subarray(), Uint8Array.of(42))
    const big = new Uint8Array(300_000).fill(5)
    await exchange.write(Uint8Array.of(7))
    await exchange.write(big)
    await exchange.finish('a test answer')
    const lp = lpStream(client, { maxDataLength: 1 << 20 })
    assert.deepEqual((await lp.read()).subarray(), Uint8Array.of(7))
    assert.deepEqual((await lp.read()).subarray(), big)
  })

  it('a flood past the limit before the answer: the answer still goes out, then the client is cut off', async () => {
    const { client, server, exchange } = await pair()
    const end = closed(client)
    // an oversized request and far more than the limit, in one piece
    client.send(new Uint8Array([...varintBytes(1 << 20), ...new Uint8Array(64 * 1024)]))
    await assert.rejects(exchange.read(), { name: 'InvalidDataLengthLengthError' })
    await tick()
    assert.equal(server.status, 'open', 'not cut off before its answer')
    const answer = lpStream(client).read({ signal: AbortSignal.timeout(2_000) })
    await exchange.write(Uint8Array.of(1, 2, 3))
    await exchange.finish('a test answer')
    assert.deepEqual((await answer).subarray(), Uint8Array.of(1, 2, 3))
    assert.equal((await end).error?.name, 'StreamResetError')
  })

  it('a client that goes on sending after its answer is cut off when it passes the limit, not before', async () => {
    const { client, exchange } = await pair()
    client.send(Uint8Array.of(1, 42))
    await exchange.read()
    await exchange.write(Uint8Array.of(0))
    await exchange.finish('a test answer')
    client.send(new Uint8Array(INIT.maxUnreadBytes))
    await tick()
    assert.equal(client.status, 'open', 'at the limit')
    const end = closed(client)
    client.send(Uint8Array.of(1))
    assert.equal((await end).error?.name, 'StreamResetError', 'one byte past it')
  })
})

describe('lengthPrefix', () => {
  it('gives the value and the size of a prefix, undefined while incomplete, and reads non-canonical prefixes', () => {
    assert.deepEqual(lengthPrefix(Uint8Array.of(0x2c, 9), 300), { value: 44, bytes: 1 })
    assert.deepEqual(lengthPrefix(Uint8Array.of(0xac, 0x02), 300), { value: 300, bytes: 2 })
    assert.deepEqual(lengthPrefix(Uint8Array.of(0x80, 0x00), 300), { value: 0, bytes: 2 })
    assert.equal(lengthPrefix(Uint8Array.of(0xac), 300), undefined)
    assert.throws(() => lengthPrefix(Uint8Array.of(0x80, 0x80, 0x01), 300), { name: 'InvalidDataLengthLengthError' })
  })

  it('varintBytes writes what lengthPrefix reads', () => {
    for (const value of [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 31 - 1, 2 ** 40 + 5]) {
      assert.deepEqual(lengthPrefix(varintBytes(value), value), { value, bytes: varintBytes(value).length })
    }
  })
})
