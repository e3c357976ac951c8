import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { defaultLogger } from '@libp2p/logger'
import { lpStream, pbStream, streamPair } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import { StatusService } from '../../../protocols/status/status-service.js'
import { StatusRequest, StatusResponse } from '../../../protocols/status/status.js'
import { MAX_REQUEST_BYTES, MAX_UNREAD_BYTES, MAX_RESPONSE_BYTES, REVISION, RESPONSE_LIMITS, statusProtocol } from '../../../protocols/status/constants.js'
import { fetchStatus } from '../../../protocols/status/client.js'
import type { StatusReport } from '../../../protocols/status/index.js'
import type { Connection, Stream, StreamCloseEvent } from '@libp2p/interface'

const PEER = '12D3KooWECDtH8SELx8Ztv9sSnjarqgNvdkRaAZR8kSc58FwqWZu'
const connection = { remotePeer: peerIdFromString(PEER) } as unknown as Connection

function report (peers = 2): StatusReport {
  return {
    peerId: PEER,
    role: 'node',
    network: 'test',
    version: '1.2.3',
    uptimeMs: 12345n,
    startedAtMs: 1n,
    phase: 'ready',
    phases: [{ name: 'core', state: 'done', durationMs: 3, detail: '' }, { name: 'sync', state: 'skipped', durationMs: 0, detail: 'later' }],
    connections: peers,
    peers: Array.from({ length: peers }, (_, i) => ({ peerId: PEER, addr: `/ip4/127.0.0.1/tcp/${1000 + i}`, direction: 'inbound' })),
    listenAddrs: ['/ip4/127.0.0.1/tcp/4090'],
    resources: { rssBytes: 1n, heapUsedBytes: 2n, cpuUserUs: 3n, cpuSystemUs: 4n, dataDirBytes: 5n, heapTotalBytes: 6n, externalBytes: 7n, arrayBuffersBytes: 8n },
    traffic: { bytesIn: 6n, bytesOut: 7n },
    releases: [],
    installs: [],
    labels: []
  }
}

function service (make: () => StatusReport = report, extra: Partial<{ maxConcurrent: number, timeout: number }> = {}): StatusService {
  const registrar = { handle: async () => {}, unhandle: async () => {} } as any
  return new StatusService({ registrar, logger: defaultLogger() }, { network: 'test', report: make, ...extra })
}

/** serves one request on a real stream pair; returns the client end */
async function serve (svc: StatusService): Promise<{ client: Stream, served: Promise<void> }> {
  const [client, server] = await streamPair()
  return { client, served: svc.handle(server, connection) }
}

describe('status protocol', () => {
  // AbortSignal.timeout does not hold the event loop open; in a daemon the sockets do, here this does
  let keepAlive: NodeJS.Timeout
  before(() => { keepAlive = setInterval(() => {}, 1000) })
  after(() => { clearInterval(keepAlive) })

  it('names the network in its protocol id', () => {
    assert.equal(statusProtocol('lab'), '/umesh/lab/status/1.0.0')
    assert.equal(service().protocol, '/umesh/test/status/1.0.0')
  })

  it('answers a request with the full report, which round-trips through the codec', async () => {
    const { client, served } = await serve(service())
    const pb = pbStream(client)
    await pb.write({ revision: REVISION }, StatusRequest)
    const response = await pb.read(StatusResponse, { limits: RESPONSE_LIMITS })
    await served
    assert.equal(response.code, StatusResponse.Code.OK)
    assert.equal(response.peerId, PEER)
    assert.equal(response.uptimeMs, 12345n)
    assert.deepEqual(response.phases.map(p => p.state), ['done', 'skipped'])
    assert.equal(response.traffic?.bytesOut, 7n)
    assert.deepEqual(StatusResponse.decode(StatusResponse.encode(response)), response)
  })

  it('answers malformed bytes with BAD_REQUEST instead of crashing', async () => {
    const { client, served } = await serve(service())
    // a length prefix of 3 followed by bytes that are not a protobuf message
    await lpStream(client).write(Uint8Array.from([0xff, 0xff, 0xff]))
    const response = await pbStream(client).read(StatusResponse)
    await served
    assert.equal(response.code, StatusResponse.Code.BAD_REQUEST)
    assert.match(response.error, /malformed status request/)
  })

  it('answers an oversized request with BAD_REQUEST', async () => {
    const { client, served } = await serve(service())
    await lpStream(client, { maxDataLength: 1 << 20 }).write(new Uint8Array(MAX_REQUEST_BYTES * 100))
    const response = await pbStream(client).read(StatusResponse)
    await served
    assert.equal(response.code, StatusResponse.Code.BAD_REQUEST)
    assert.match(response.error, new RegExp(`at most ${MAX_REQUEST_BYTES} bytes`))
  })

  it('answers an unknown revision with BAD_REQUEST', async () => {
    const { client, served } = await serve(service())
    const pb = pbStream(client)
    await pb.write({ revision: 99 }, StatusRequest)
    const response = await pb.read(StatusResponse)
    await served
    assert.equal(response.code, StatusResponse.Code.BAD_REQUEST)
    assert.match(response.error, /unknown request revision 99/)
  })

  it('answers INTERNAL_ERROR when the report cannot be built', async () => {
    const { client, served } = await serve(service(() => { throw new Error('disk gone') }))
    const pb = pbStream(client)
    await pb.write({ revision: REVISION }, StatusRequest)
    const response = await pb.read(StatusResponse)
    await served
    assert.equal(response.code, StatusResponse.Code.INTERNAL_ERROR)
    assert.match(response.error, /disk gone/)
  })

  it('aborts a client that sends nothing, after the timeout', async () => {
    const { client, served } = await serve(service(report, { timeout: 200 }))
    const started = Date.now()
    await served
    assert.ok(Date.now() - started >= 150)
    // the server reset the stream: the client's read fails at once, not by its own 2 s deadline
    const readStarted = Date.now()
    await assert.rejects(pbStream(client).read(StatusResponse, { signal: AbortSignal.timeout(2_000) }))
    assert.ok(Date.now() - readStarted < 1_000, 'the read failed because the server aborted, not by timing out')
  })

  it('answers BUSY beyond the concurrent request cap', async () => {
    const svc = service(report, { maxConcurrent: 1 })
    const first = await serve(svc) // holds a slot: sends nothing yet
    const second = await serve(svc)
    const pb = pbStream(second.client)
    await pb.write({ revision: REVISION }, StatusRequest)
    const response = await pb.read(StatusResponse)
    assert.equal(response.code, StatusResponse.Code.BUSY)
    await pbStream(first.client).write({ revision: REVISION }, StatusRequest)
    await Promise.all([first.served, second.served])
  })

  it('client: refuses a response with more peers than its limit', async () => {
    const svc = service(() => report(RESPONSE_LIMITS.peers + 1))
    const opener = {
      dialProtocol: async () => {
        const { client } = await serve(svc)
        return client
      }
    }
    await assert.rejects(fetchStatus(opener, null, 'test'), /too many elements/)
  })

  it('client: turns an error code into a StatusRequestError', async () => {
    const svc = service(() => { throw new Error('nope') })
    const opener = { dialProtocol: async () => (await serve(svc)).client }
    await assert.rejects(fetchStatus(opener, null, 'test'), (err: any) => err.name === 'StatusRequestError' && /INTERNAL_ERROR: the node could not build its status: nope/.test(err.message))
  })

  it('answers BAD_REQUEST at once to a length prefix that never ends, and cuts the sender off', async () => {
    const { client, served } = await serve(service())
    const answer = pbStream(client).read(StatusResponse, { signal: AbortSignal.timeout(2_000) })
    // continuation bytes, more than any request needs, then on and on
    const started = Date.now()
    let sent = 0
    try {
      for (let i = 0; i < 200 && client.status === 'open'; i++) {
        client.send(new Uint8Array(4096).fill(0x80))
        sent += 4096
        await new Promise(resolve => setTimeout(resolve, 5))
      }
    } catch {}
    const response = await answer
    await served
    assert.equal(response.code, StatusResponse.Code.BAD_REQUEST)
    assert.match(response.error, /length length too long/i)
    assert.ok(Date.now() - started < 1_000, 'refused by the prefix cap, not by the 5 s timeout')
    // the service stopped reading once a buffer's worth waited unread: the stream is gone
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.notEqual(client.status, 'open', `the sender was cut off (${sent} bytes sent, ${MAX_UNREAD_BYTES} may follow the request)`)
  })

  it('answers an oversized request that comes with a megabyte behind it in one piece, then cuts the sender off', async () => {
    const { client, served } = await serve(service())
    const end = new Promise<StreamCloseEvent>(resolve => { client.addEventListener('close', resolve, { once: true }) })
    const answer = pbStream(client).read(StatusResponse, { signal: AbortSignal.timeout(2_000) })
    // all of it reaches the service before its read runs: the answer must still come first
    client.send(new Uint8Array([0x80, 0x80, 0x40, ...new Uint8Array(1 << 20).fill(7)]))
    const response = await answer
    await served
    assert.equal(response.code, StatusResponse.Code.BAD_REQUEST)
    assert.equal((await end).error?.name, 'StreamResetError', `cut off: more than ${MAX_UNREAD_BYTES} bytes followed the request`)
  })

  it('answers BAD_REQUEST to a 2^31-byte length prefix without reading what follows', async () => {
    const { client, served } = await serve(service())
    client.send(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x08]))
    const response = await pbStream(client).read(StatusResponse, { signal: AbortSignal.timeout(2_000) })
    await served
    assert.equal(response.code, StatusResponse.Code.BAD_REQUEST)
  })

  /** a client whose peer answers with `bytes`, then keeps the stream open */
  async function hostileAnswer (bytes: Uint8Array[]): Promise<{ opener: { dialProtocol: () => Promise<Stream> }, server: Promise<Stream> }> {
    const [client, server] = await streamPair()
    const ready = Promise.withResolvers<Stream>()
    void (async () => {
      await lpStream(server).read()
      for (const b of bytes) {
        if (server.status !== 'open') break
        try { server.send(b) } catch { break }
        await new Promise(resolve => setTimeout(resolve, 2))
      }
      ready.resolve(server)
    })()
    return { opener: { dialProtocol: async () => client }, server: ready.promise }
  }

  it('client: cuts off an answer whose length prefix never ends, with a StatusRequestError', async () => {
    const { opener, server } = await hostileAnswer(Array.from({ length: 200 }, () => new Uint8Array(512).fill(0xff)))
    const started = Date.now()
    await assert.rejects(fetchStatus(opener, null, 'test', { signal: AbortSignal.timeout(5_000) }), (err: any) => err.name === 'StatusRequestError' && /more than a status answer may hold/.test(err.message))
    assert.ok(Date.now() - started < 1_000, 'cut off by the prefix cap, not by a timeout')
    assert.notEqual((await server).status, 'open')
  })

  it('client: refuses an answer longer than its cap before reading it', async () => {
    const prefix = Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x08]) // 2^31
    const { opener } = await hostileAnswer([prefix, new Uint8Array(1024)])
    await assert.rejects(fetchStatus(opener, null, 'test'), (err: any) => err.name === 'StatusRequestError' && new RegExp(String(MAX_RESPONSE_BYTES)).test(err.message))
  })

  it('client: gives up on a peer that answers nothing, within its own exchange limit even when the caller passed no deadline', async () => {
    const [client] = await streamPair()
    const started = Date.now()
    // the caller's signal never fires: the client's own limit ends the wait
    await assert.rejects(fetchStatus({ dialProtocol: async () => client }, null, 'test', { signal: new AbortController().signal, exchangeTimeoutMs: 300 }))
    const ms = Date.now() - started
    assert.ok(ms >= 250 && ms < 2_000, `gave up after ${ms} ms`)
  })
})
