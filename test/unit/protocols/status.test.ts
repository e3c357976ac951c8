import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { defaultLogger } from '@libp2p/logger'
import { lpStream, pbStream, streamPair } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import { StatusService } from '../../../protocols/status/status-service.js'
import { StatusRequest, StatusResponse } from '../../../protocols/status/status.js'
import { MAX_REQUEST_BYTES, REVISION, RESPONSE_LIMITS, statusProtocol } from '../../../protocols/status/constants.js'
import { fetchStatus } from '../../../protocols/status/client.js'
import type { StatusReport } from '../../../protocols/status/index.js'
import type { Connection, Stream } from '@libp2p/interface'

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
    installs: []
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
})
