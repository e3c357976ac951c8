import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { createCipheriv, createHash } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream, pbStream, streamPair } from '@libp2p/utils'
import { CID } from 'multiformats/cid'
import { chunkCid, openChunkStore } from '../../../src/content/index.js'
import { Uint8ArrayList } from 'uint8arraylist'
import { encodeAnswer } from '../../../protocols/chunks/answer.js'
import { ChunksService } from '../../../protocols/chunks/chunks-service.js'
import { ChunksRequest, ChunksResponse } from '../../../protocols/chunks/chunks.js'
import { chunksProtocol, MAX_CHUNK_SIZE, MAX_GET_CIDS, MAX_HAVE_CIDS, MAX_REQUEST_BYTES } from '../../../protocols/chunks/constants.js'
import { getChunks, haveChunks } from '../../../protocols/chunks/client.js'
import { isPeerFault } from '../../../protocols/chunks/errors.js'
import { tempDir } from '../../helpers/cli.js'
import type { ChunkStore } from '../../../src/content/index.js'
import type { ChunksRequestOptions, FetchedChunk } from '../../../protocols/chunks/client.js'
import type { StreamOpener } from '../../../protocols/shared/index.js'
import type { ChunksInit } from '../../../protocols/chunks/index.js'
import type { Connection, Stream } from '@libp2p/interface'

const PEER = '12D3KooWECDtH8SELx8Ztv9sSnjarqgNvdkRaAZR8kSc58FwqWZu'
const peer = peerIdFromString(PEER)
const connection = { remotePeer: peer } as unknown as Connection
type PbStream = ReturnType<typeof pbStream>

function seeded (seed: string, length: number): Uint8Array {
  const key = createHash('sha256').update(seed).digest()
  return new Uint8Array(createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length)))
}

// A small, B medium, C exactly the largest chunk the protocol carries; M is never stored
const A = seeded('a', 1000)
const B = seeded('b', 300 * 1024)
const C = seeded('c', MAX_CHUNK_SIZE)
const M = seeded('m', 2000)
const [cidA, cidB, cidC, cidM] = [A, B, C, M].map(chunkCid)

function service (store: ChunksInit['store'], extra: Partial<ChunksInit> = {}): ChunksService {
  const registrar = { handle: async () => {}, unhandle: async () => {} } as any
  return new ChunksService({ registrar, logger: defaultLogger() }, { network: 'test', store, ...extra })
}

/** serves one request on a real stream pair; returns the client end */
async function serve (svc: ChunksService): Promise<{ client: Stream, served: Promise<void> }> {
  const [client, server] = await streamPair()
  return { client, served: svc.handle(server, connection) }
}

/** an opener whose every stream is served by `svc`; `served` holds the handlers */
function openerFor (svc: ChunksService): StreamOpener & { served: Array<Promise<void>> } {
  const served: Array<Promise<void>> = []
  return {
    served,
    dialProtocol: async () => {
      const pair = await serve(svc)
      served.push(pair.served)
      return pair.client
    }
  }
}

/** a peer that reads the request, does what `behave` says, then closes; `done` settles with how that ended */
function fakePeer (behave: (pb: PbStream, request: ChunksRequest, stream: Stream) => Promise<void>): StreamOpener & { done: () => Promise<unknown>, stream: () => Stream | undefined } {
  let done: Promise<unknown> = Promise.resolve('never dialled')
  let serverEnd: Stream | undefined
  return {
    done: async () => await done,
    stream: () => serverEnd,
    dialProtocol: async () => {
      const [client, server] = await streamPair()
      serverEnd = server
      done = (async () => {
        const pb = pbStream(server, { maxDataLength: MAX_REQUEST_BYTES })
        const request = await pb.read(ChunksRequest)
        try {
          await behave(pb, request, server)
          await server.close()
          return 'finished'
        } catch (err) {
          return err
        }
      })()
      return client
    }
  }
}

function varint (n: number): Uint8Array {
  const bytes: number[] = []
  for (; n >= 0x80; n = Math.floor(n / 0x80)) bytes.push((n & 0x7f) | 0x80)
  bytes.push(n)
  return Uint8Array.from(bytes)
}

async function collect (chunks: AsyncIterable<FetchedChunk>, got: FetchedChunk[] = []): Promise<FetchedChunk[]> {
  for await (const chunk of chunks) got.push(chunk)
  return got
}

function get (opener: StreamOpener, cids: CID[], options: ChunksRequestOptions = {}): Promise<FetchedChunk[]> {
  return collect(getChunks(opener, peer, 'test', cids, options))
}

function ok (cid: CID, data: Uint8Array): Partial<ChunksResponse> {
  return { code: ChunksResponse.Code.OK, cid: cid.bytes as Uint8Array<ArrayBuffer>, data: data as Uint8Array<ArrayBuffer> }
}

/** sends a raw request and reads every answer until the server closes */
async function exchange (svc: ChunksService, request: Partial<ChunksRequest>): Promise<ChunksResponse[]> {
  const { client, served } = await serve(svc)
  const pb = pbStream(client, { maxDataLength: MAX_CHUNK_SIZE * 2 })
  await pb.write(request, ChunksRequest)
  const answers: ChunksResponse[] = []
  while (true) {
    try {
      answers.push(await pb.read(ChunksResponse))
    } catch (err) {
      assert.equal((err as Error).name, 'UnexpectedEOFError', 'the server closes the stream after its answers')
      break
    }
  }
  await served
  return answers
}

function isError (name: string, pattern: RegExp): (err: any) => boolean {
  return (err: any) => {
    assert.equal(err.name, name, `expected ${name}, got ${String(err.name)}: ${String(err.message)}`)
    assert.match(err.message, pattern)
    return true
  }
}

describe('chunks protocol', () => {
  // AbortSignal.timeout does not hold the event loop open; in a daemon the sockets do, here this does
  let keepAlive: NodeJS.Timeout
  let dir: ReturnType<typeof tempDir>
  let store: ChunkStore
  before(async () => {
    keepAlive = setInterval(() => {}, 1000)
    dir = tempDir('umesh-chunks-')
    store = await openChunkStore(dir.path, { fsync: false })
    for (const bytes of [A, B, C]) await store.put(chunkCid(bytes), bytes)
  })
  after(() => {
    clearInterval(keepAlive)
    dir.remove()
  })

  it('names the network in its protocol id, and registers and unregisters its handler with the stream caps', async () => {
    assert.equal(chunksProtocol('lab'), '/umesh/lab/chunks/1.0.0')
    const calls: unknown[][] = []
    const registrar = { handle: async (...args: unknown[]) => { calls.push(['handle', ...args]) }, unhandle: async (...args: unknown[]) => { calls.push(['unhandle', ...args]) } } as any
    const svc = new ChunksService({ registrar, logger: defaultLogger() }, { network: 'test', store, maxInboundStreams: 3 })
    await svc.start()
    assert.equal(svc.isStarted(), true)
    assert.equal(calls[0][1], '/umesh/test/chunks/1.0.0')
    assert.deepEqual(calls[0][3], { maxInboundStreams: 3, maxOutboundStreams: 8, runOnLimitedConnection: false }, 'no chunks over a relayed connection unless allowed')
    await svc.stop()
    assert.equal(svc.isStarted(), false)
    assert.deepEqual(calls[1], ['unhandle', '/umesh/test/chunks/1.0.0'])
  })

  it('HAVE: answers a bitfield, bit i (high bit first) set when chunk i is held', async () => {
    const cids = [cidA, cidM, cidB, cidM, cidC, cidM, cidM, cidM, cidA]
    const [answer, ...rest] = await exchange(service(store), { kind: ChunksRequest.Kind.HAVE, cids: cids.map(c => c.bytes) })
    assert.equal(rest.length, 0)
    assert.equal(answer.code, ChunksResponse.Code.OK)
    assert.deepEqual([...answer.bitfield], [0b10101000, 0b10000000])
    assert.deepEqual(await haveChunks(openerFor(service(store)), peer, 'test', cids), [true, false, true, false, true, false, false, false, true])
  })

  it('HAVE: the client refuses a bitfield of the wrong length or with stray bits', async () => {
    for (const bitfield of [Uint8Array.of(0xff, 0), Uint8Array.of(0x81)]) {
      const fake = fakePeer(async (pb) => { await pb.write({ code: ChunksResponse.Code.OK, bitfield: bitfield as Uint8Array<ArrayBuffer> }, ChunksResponse) })
      await assert.rejects(haveChunks(fake, peer, 'test', [cidA, cidB]), isError('ChunksProtocolError', /bitfield of \d bytes; expected 1 bytes with unused bits zero/))
    }
  })

  it('GET: yields every chunk, verified, in request order, up to the largest chunk size', async () => {
    const opener = openerFor(service(store))
    const got = await get(opener, [cidC, cidA, cidB, cidA])
    assert.deepEqual(got.map(c => c.cid.toString()), [cidC, cidA, cidB, cidA].map(c => c.toString()))
    assert.deepEqual(got.map(c => Buffer.from(c.bytes).equals(Buffer.from([C, A, B, A][got.indexOf(c)]))), [true, true, true, true])
    await Promise.all(opener.served)
  })

  it('GET: answers NOT_FOUND for a chunk it lacks, and the client skips it', async () => {
    const answers = await exchange(service(store), { kind: ChunksRequest.Kind.GET, cids: [cidM, cidA].map(c => c.bytes) })
    assert.deepEqual(answers.map(a => a.code), [ChunksResponse.Code.NOT_FOUND, ChunksResponse.Code.OK])
    assert.ok(CID.decode(answers[0].cid).equals(cidM))
    assert.equal(answers[0].data.length, 0)
    const got = await get(openerFor(service(store)), [cidM, cidA, cidM])
    assert.deepEqual(got.map(c => c.cid.toString()), [cidA.toString()])
  })

  it('GET: a store failure answers INTERNAL_ERROR for that chunk only', async () => {
    const broken = { has: async () => true, get: async (cid: CID) => { if (cid.equals(cidB)) throw new Error('EIO'); return await store.get(cid) } }
    const answers = await exchange(service(broken), { kind: ChunksRequest.Kind.GET, cids: [cidA, cidB, cidA].map(c => c.bytes) })
    assert.deepEqual(answers.map(a => a.code), [ChunksResponse.Code.OK, ChunksResponse.Code.INTERNAL_ERROR, ChunksResponse.Code.OK])
    assert.match(answers[1].error, /EIO/)
  })

  describe('BAD_REQUEST', () => {
    async function refused (request: Partial<ChunksRequest> | Uint8Array, pattern: RegExp): Promise<void> {
      const { client, served } = await serve(service(store))
      if (request instanceof Uint8Array) await lpStream(client, { maxDataLength: 1 << 20 }).write(request)
      else await pbStream(client).write(request, ChunksRequest)
      const pb = pbStream(client)
      const answer = await pb.read(ChunksResponse)
      await assert.rejects(pb.read(ChunksResponse), { name: 'UnexpectedEOFError' }, 'one answer, then the server closes')
      await served
      assert.equal(answer.code, ChunksResponse.Code.BAD_REQUEST)
      assert.match(answer.error, pattern)
    }

    it('for bytes that are not a request', async () => {
      await refused(Uint8Array.from([0xff, 0xff, 0xff]), /malformed chunks request/)
    })

    it('for an unknown kind', async () => {
      await refused({ kind: ChunksRequest.Kind.UNKNOWN, cids: [cidA.bytes] }, /unknown request kind UNKNOWN/)
    })

    it(`for a GET of more than ${MAX_GET_CIDS} CIDs`, async () => {
      await refused({ kind: ChunksRequest.Kind.GET, cids: Array(MAX_GET_CIDS + 1).fill(cidA.bytes) }, /at most 32 chunks, found 33/)
    })

    it(`for a HAVE of more than ${MAX_HAVE_CIDS} CIDs`, async () => {
      await refused({ kind: ChunksRequest.Kind.HAVE, cids: Array(MAX_HAVE_CIDS + 1).fill(cidA.bytes) }, /too many elements/)
    })

    it('for a CID that is not a chunk CID: another codec, CIDv0, garbage', async () => {
      const dagPb = CID.createV1(0x70, cidA.multihash)
      await refused({ kind: ChunksRequest.Kind.GET, cids: [cidA.bytes, dagPb.bytes] }, /CID 1: expected a chunk CID .*codec 0x70/)
      await refused({ kind: ChunksRequest.Kind.HAVE, cids: [CID.createV0(cidA.multihash as any).bytes] }, /CID 0: expected a chunk CID .*version 0/)
      await refused({ kind: ChunksRequest.Kind.HAVE, cids: [Uint8Array.of(1, 2, 3)] }, /CID 0: expected the binary form of a chunk CID/)
    })

    it('for a request larger than its cap, even one that would decode', async () => {
      // a valid HAVE padded past the cap with an unknown field (field 15, length-delimited), which a decoder skips
      const padding = new Uint8Array(MAX_REQUEST_BYTES)
      const oversized = new Uint8Array(Buffer.concat([ChunksRequest.encode({ kind: ChunksRequest.Kind.HAVE, cids: [cidA.bytes] }), Uint8Array.of(0x7a), varint(padding.length), padding]))
      assert.deepEqual(ChunksRequest.decode(oversized).cids, [cidA.bytes], 'without the cap it would be served')
      await refused(oversized, new RegExp(`Message length too long - ${oversized.length} > ${MAX_REQUEST_BYTES}.*at most ${MAX_REQUEST_BYTES} bytes`))
    })
  })

  it('resets a client that floods the request, holding at most the request buffer', async () => {
    const svc = service(store)
    const { client, served } = await serve(svc)
    const flood = lpStream(client, { maxDataLength: 64 << 20 }).write(new Uint8Array(8 << 20)).catch(() => {})
    await served
    assert.equal(svc.requestsInFlight, 0)
    const started = Date.now()
    await assert.rejects(pbStream(client).read(ChunksResponse, { signal: AbortSignal.timeout(2_000) }))
    assert.ok(Date.now() - started < 1_000, 'the server reset the stream')
    await flood
  })

  it('answers BUSY beyond the concurrent request cap', async () => {
    const svc = service(store, { maxConcurrent: 1 })
    const first = await serve(svc) // holds the only slot: sends nothing yet
    await assert.rejects(get(openerFor(svc), [cidA]), (err: any) => err.name === 'ChunksRefusedError' && err.code === 'BUSY' && /try again shortly/.test(err.message))
    await assert.rejects(haveChunks(openerFor(svc), peer, 'test', [cidA]), (err: any) => err.name === 'ChunksRefusedError' && err.code === 'BUSY')
    await pbStream(first.client).write({ kind: ChunksRequest.Kind.HAVE, cids: [cidA.bytes] }, ChunksRequest)
    await first.served
    assert.deepEqual(await haveChunks(openerFor(svc), peer, 'test', [cidA]), [true], 'a slot is free again')
  })

  it('aborts a client that sends nothing, after the timeout', async () => {
    const { client, served } = await serve(service(store, { timeout: 200 }))
    const started = Date.now()
    await served
    assert.ok(Date.now() - started >= 150)
    const readStarted = Date.now()
    await assert.rejects(pbStream(client).read(ChunksResponse, { signal: AbortSignal.timeout(2_000) }))
    assert.ok(Date.now() - readStarted < 1_000, 'the read failed because the server aborted, not by timing out')
  })

  describe('client against a misbehaving peer', () => {
    it('throws ChunkVerificationError, naming peer and CID, for bytes of another chunk under the CID asked for', async () => {
      const fake = fakePeer(async (pb) => { await pb.write(ok(cidA, B), ChunksResponse) })
      await assert.rejects(get(fake, [cidA]), (err: any) => {
        isError('ChunkVerificationError', new RegExp(`peer ${PEER} sent ${B.length} bytes for chunk ${cidA.toString()} that hash to ${cidB.toString()}`))(err)
        assert.ok(err.cid.equals(cidA))
        assert.equal(err.peer, PEER)
        assert.equal(isPeerFault(err), true)
        return true
      })
    })

    it('throws ChunkVerificationError for a valid chunk of other content sent in place of the one asked for', async () => {
      const fake = fakePeer(async (pb) => { await pb.write(ok(cidB, B), ChunksResponse) })
      await assert.rejects(get(fake, [cidA]), isError('ChunkVerificationError', new RegExp(`chunk ${cidA.toString()}, with chunk ${cidB.toString()}, which was not asked for`)))
    })

    it('throws ChunkVerificationError for answers out of order, after yielding none of them', async () => {
      const fake = fakePeer(async (pb) => { await pb.write(ok(cidB, B), ChunksResponse); await pb.write(ok(cidA, A), ChunksResponse) })
      const got: FetchedChunk[] = []
      await assert.rejects(collect(getChunks(fake, peer, 'test', [cidA, cidB]), got), isError('ChunkVerificationError', /asked for at place 1: answers come in request order/))
      assert.equal(got.length, 0)
    })

    it('cuts off an answer whose length prefix exceeds one chunk plus overhead, without waiting for it', async () => {
      // 2 MiB - 1 (the longest 3-byte length), and 100 MiB (a 4-byte length); then nothing
      for (const [prefix, pattern] of [[[0xff, 0xff, 0x7f], /Message length too long - 2097151 > 1052672/], [[0x80, 0x80, 0x80, 0x32], /Message length length too long/]] as const) {
        const fake = fakePeer(async (_pb, _request, stream) => {
          stream.send(Uint8Array.from(prefix))
          await new Promise(resolve => setTimeout(resolve, 3_000))
        })
        const started = Date.now()
        await assert.rejects(get(fake, [cidA], { timeout: 5_000 }), isError('ChunksProtocolError', pattern))
        assert.ok(Date.now() - started < 2_000, 'refused at the length prefix, not by the timeout')
      }
    })

    it('refuses chunk data larger than the largest chunk, even under its own CID', async () => {
      const big = seeded('big', MAX_CHUNK_SIZE + 1)
      const fake = fakePeer(async (pb) => { await pb.write(ok(chunkCid(big), big), ChunksResponse) })
      await assert.rejects(get(fake, [chunkCid(big)]), isError('ChunksProtocolError', /sent 1048577 bytes for chunk .*more than the 1048576 a chunk may hold/))
    })

    it('refuses more answers than it asked for, after yielding the ones it asked for', async () => {
      const fake = fakePeer(async (pb) => { await pb.write(ok(cidA, A), ChunksResponse); await pb.write(ok(cidA, A), ChunksResponse) })
      const got: FetchedChunk[] = []
      await assert.rejects(collect(getChunks(fake, peer, 'test', [cidA]), got), isError('ChunksProtocolError', /sent more than the 1 answers to a GET of 1 chunks; it was cut off/))
      assert.equal(got.length, 1)
    })

    it('cuts off a peer that never stops sending, with bounded memory', async () => {
      let written = 0
      const fake = fakePeer(async (pb) => {
        await pb.write(ok(cidB, B), ChunksResponse)
        while (true) { await pb.write(ok(cidB, B), ChunksResponse); written++ }
      })
      const got: FetchedChunk[] = []
      const before = process.memoryUsage().arrayBuffers
      // a slow consumer: the peer's flood piles up in the stream's buffer until the cap cuts it off
      await assert.rejects(async () => { for await (const chunk of getChunks(fake, peer, 'test', [cidB])) { got.push(chunk); await new Promise(resolve => setTimeout(resolve, 300)) } },
        isError('ChunksProtocolError', /(sent more than its answers|sent more than the 1 answers)/))
      const ended = await fake.done()
      assert.notEqual(ended, 'finished', 'the peer\'s writes failed: its stream was reset')
      assert.equal(fake.stream()?.status, 'reset')
      assert.equal(got.length, 1)
      assert.ok(written <= 8, `the peer wrote ${written} extra answers of ${B.length} bytes before it was cut off`)
      assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20)
    })

    it('throws ChunksProtocolError when the peer closes before its last answer', async () => {
      const fake = fakePeer(async (pb) => { await pb.write(ok(cidA, A), ChunksResponse) })
      await assert.rejects(get(fake, [cidA, cidB]), isError('ChunksProtocolError', /closed the stream after 1 of the 2 answers/))
    })

    it('stops at its timeout when the peer says nothing', async () => {
      const fake = fakePeer(async () => { await new Promise(resolve => setTimeout(resolve, 3_000)) })
      let started = Date.now()
      await assert.rejects(get(fake, [cidA], { timeout: 200 }), isError('ChunksTimeoutError', new RegExp(`peer ${PEER} did not answer a GET of 1 chunks within 200 ms`)))
      assert.ok(Date.now() - started < 1_500)
      started = Date.now()
      await assert.rejects(haveChunks(fake, peer, 'test', [cidA], { timeout: 200 }), isError('ChunksTimeoutError', /did not answer a HAVE of 1 chunks within 200 ms/))
      assert.ok(Date.now() - started < 1_500)
    })

    it('rethrows the caller\'s own abort as it is', async () => {
      const fake = fakePeer(async () => { await new Promise(resolve => setTimeout(resolve, 3_000)) })
      await assert.rejects(get(fake, [cidA], { signal: AbortSignal.timeout(100) }), (err: any) => err.name !== 'ChunksTimeoutError' && err.name === 'TimeoutError')
    })

    it('passes a refusal on as ChunksRefusedError with its code', async () => {
      const fake = fakePeer(async (pb) => { await pb.write({ code: ChunksResponse.Code.INTERNAL_ERROR, error: 'disk gone' }, ChunksResponse) })
      await assert.rejects(get(fake, [cidA, cidB]), (err: any) => err.name === 'ChunksRefusedError' && err.code === 'INTERNAL_ERROR' && /answered INTERNAL_ERROR to a GET of 2 chunks: disk gone/.test(err.message))
    })
  })

  it('client: aborts the stream when the caller stops reading early', async () => {
    const opener = openerFor(service(store))
    let client: Stream | undefined
    const spy: StreamOpener = { dialProtocol: async (...args) => (client = await opener.dialProtocol(...args)) }
    for await (const chunk of getChunks(spy, peer, 'test', [cidA, cidB, cidC])) {
      assert.ok(chunk.cid.equals(cidA))
      break
    }
    assert.equal(client?.status, 'aborted')
    await Promise.all(opener.served)
  })

  it('client: refuses, before dialling, too many CIDs or a CID that is not a chunk CID', async () => {
    const never: StreamOpener = { dialProtocol: async () => { throw new Error('dialled') } }
    await assert.rejects(get(never, Array(MAX_GET_CIDS + 1).fill(cidA)), isError('TooManyChunksError', /at most 32 CIDs, found 33/))
    await assert.rejects(haveChunks(never, peer, 'test', Array(MAX_HAVE_CIDS + 1).fill(cidA)), isError('TooManyChunksError', /at most 1024 CIDs, found 1025/))
    await assert.rejects(get(never, [CID.createV1(0x70, cidA.multihash)]), { name: 'InvalidChunkCidError' })
    assert.deepEqual(await get(never, []), [])
    assert.deepEqual(await haveChunks(never, peer, 'test', []), [])
  })
})

describe('chunks answer encoding', () => {
  it('writes the bytes protons writes, with the chunk not copied', () => {
    const cid = chunkCid(new Uint8Array([1, 2, 3]))
    for (const size of [1, 127, 128, 300, 16_384, 262_144, MAX_CHUNK_SIZE]) {
      const data = new Uint8Array(size).map((_, i) => i * 7)
      const answer = { code: ChunksResponse.Code.OK, cid: cid.bytes, data }
      const encoded = encodeAnswer(answer)
      assert.deepEqual(encoded.subarray(), ChunksResponse.encode(answer), `${size} bytes`)
      assert.deepEqual(ChunksResponse.decode(encoded).data, data)
      // the chunk itself, not a copy: a change to it shows in the answer
      assert.ok(encoded instanceof Uint8ArrayList)
      data[size - 1] ^= 0xff
      assert.equal(encoded.get(encoded.byteLength - 1), data[size - 1])
    }
    for (const answer of [{ code: ChunksResponse.Code.NOT_FOUND, cid: cid.bytes, error: 'not held' }, { code: ChunksResponse.Code.OK, cid: cid.bytes, data: new Uint8Array(0) }, { code: ChunksResponse.Code.BUSY, error: 'busy' }]) {
      assert.deepEqual(encodeAnswer(answer).subarray(), ChunksResponse.encode(answer))
    }
  })
})
