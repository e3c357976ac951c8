/**
 * Hostile length prefixes on every protocol a daemon speaks besides sync and
 * chunks (attacks-data-floods covers those): a raw peer in the test process
 * sends a length prefix that never ends (continuation bytes at a pace the
 * reader keeps up with, so no read buffer overflows and only the prefix
 * grows) or one of 2^31 bytes followed by junk, on status, identify (its
 * answer to the daemon's identify; a daemon speaks no identify push), ping
 * (endless data to echo) and the DHT. Each flood must be cut off within about a
 * second, by a cap rather than a timeout; afterwards the daemon still answers
 * a well-behaved status query, and its resident memory grew by less than a
 * bound.
 *
 * Before the caps, the endless prefix was read until each protocol's timeout
 * (status and identify 5 s, ping and the DHT 10 s), at over 100 bytes of
 * heap per byte received (the first run of this file: RSS 78 -> 304 MiB,
 * each endless prefix cut off after 15 s), a 2^31-byte prefix on the DHT was
 * buffered up to 4 MiB, and ping echoed 200 MiB in 5.5 s.
 *
 * Traffic is bounded: a flood stops by itself after 200 MiB or 20 s.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { StatusResponse, fetchStatus, statusProtocol } from '../../protocols/status/index.js'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { MeshProcess } from '../../src/demo/local-mesh.js'
import { createClientNode } from '../../src/network/client-node.js'
import { dhtProtocol, protocolPrefix } from '../../src/network/protocol-ids.js'
import { pbStream } from '@libp2p/utils'
import { tempDir, waitFor } from '../helpers/cli.js'
import { describeFloods, flood, varint } from '../helpers/floods.js'
import { rssMiB } from '../helpers/rss.js'
import type { Flood } from '../helpers/floods.js'
import type { Libp2p, Stream } from '@libp2p/interface'

const LOCAL = ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns']
/** a flood must end this soon: by a cap, well before any protocol's timeout (5 s or more) */
const CUT_OFF_MS = 2_000
/** the daemon's resident memory may grow by less than this over all the floods */
const RSS_GROWTH_LIMIT_MIB = 60

/** endless continuation bytes, 32 KiB every 20 ms: slow enough that the reader keeps up, so only the prefix grows */
const CONTINUATION = new Uint8Array(32 * 1024).fill(0xff)
const JUNK = new Uint8Array(64 * 1024).fill(0x41)

type Mode = 'endless prefix' | '2^31 prefix'

async function floodWith (stream: Stream, mode: Mode): Promise<Pick<Flood, 'sent' | 'ms' | 'ended' | 'detail'>> {
  return mode === 'endless prefix'
    ? await flood(stream, CONTINUATION, () => CONTINUATION, 20)
    : await flood(stream, varint(2 ** 31), () => JUNK)
}

describe('hostile length prefixes on status, identify, ping and the DHT', () => {
  const tmp = tempDir('umesh-attacks-proto-')
  const dataDir = join(tmp.path, 'node')
  let daemon: MeshProcess
  let hostile: Libp2p
  let network: string
  let addrs: ReturnType<typeof multiaddr>[]
  let baselineRss = 0
  let maxRss = 0
  let sampler: NodeJS.Timeout | undefined
  const results: Flood[] = []

  before(async () => {
    mkdirSync(dataDir, { recursive: true })
    daemon = new MeshProcess('node', 'node', dataDir, LOCAL, join(tmp.path, 'node.log'))
    await daemon.waitReady()
    const info = readDaemonFile(dataDir)
    network = info.network
    addrs = info.addrs.map(a => multiaddr(a))
    hostile = await createClientNode()
    // settle, then sample the daemon's memory all along
    await fetchStatus(hostile, addrs, network)
    baselineRss = rssMiB(daemon.child.pid!)
    maxRss = baselineRss
    sampler = setInterval(() => { try { maxRss = Math.max(maxRss, rssMiB(daemon.child.pid!)) } catch {} }, 50)
  })

  after(async () => {
    clearInterval(sampler)
    console.log(`# protocol floods:\n${describeFloods(results)}\ndaemon RSS ${baselineRss.toFixed(0)} MiB before, ${maxRss.toFixed(0)} MiB at most`)
    await hostile?.stop()
    await daemon?.stop()
    tmp.remove()
  })

  /** the flood was ended by the daemon, early; the daemon lives and answers a good status query */
  async function assertCutOffAndServing (f: Flood): Promise<void> {
    results.push(f)
    const line = describeFloods([f])
    assert.equal(f.ended, 'cut off', `the daemon cut the flood off: ${line}`)
    assert.ok(f.ms < CUT_OFF_MS, `cut off by a cap within ${CUT_OFF_MS} ms, not by a timeout: ${line}`)
    assert.ok(daemon.running, 'the daemon is still running')
    const status = await fetchStatus(hostile, addrs, network, { signal: AbortSignal.timeout(5_000) })
    assert.equal(status.code, StatusResponse.Code.OK)
    assert.equal(status.peerId, daemon.peerId)
    assert.ok(maxRss - baselineRss < RSS_GROWTH_LIMIT_MIB, `the daemon's RSS grew by less than ${RSS_GROWTH_LIMIT_MIB} MiB (${baselineRss.toFixed(0)} -> ${maxRss.toFixed(0)} MiB): ${line}`)
  }

  const modes: Mode[] = ['endless prefix', '2^31 prefix']

  for (const mode of modes) {
    it(`status: a request with a ${mode} is refused`, async () => {
      const stream = await hostile.dialProtocol(addrs, statusProtocol(network), { signal: AbortSignal.timeout(5_000) })
      // the daemon may answer BAD_REQUEST before it resets: read it if it comes
      const answer = pbStream(stream, { maxDataLength: 64 * 1024 }).read(StatusResponse, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined)
      const result = await floodWith(stream, mode)
      const response = await answer
      if (response != null) assert.equal(response.code, StatusResponse.Code.BAD_REQUEST)
      await assertCutOffAndServing({ mode, request: 'status request', ...result })
    })
  }

  for (const mode of modes) {
    it(`DHT: a message with a ${mode} is refused`, async () => {
      const stream = await hostile.dialProtocol(addrs, dhtProtocol(network), { signal: AbortSignal.timeout(5_000) })
      await assertCutOffAndServing({ mode, request: 'DHT message', ...await floodWith(stream, mode) })
    })
  }

  it('ping: an endless stream to echo is cut off', async () => {
    const stream = await hostile.dialProtocol(addrs, `/${protocolPrefix(network)}/ping/1.0.0`, { signal: AbortSignal.timeout(5_000) })
    // the echo is dropped as it comes
    stream.addEventListener('message', () => {})
    await assertCutOffAndServing({ mode: 'endless data', request: 'ping', ...await flood(stream, JUNK, () => JUNK) })
  })

  for (const mode of modes) {
    it(`identify: an answer to the daemon's identify with a ${mode} is refused`, async () => {
      const identify = `/${protocolPrefix(network)}/id/1.0.0`
      const done = Promise.withResolvers<Flood>()
      await hostile.handle(identify, async (stream: Stream) => {
        done.resolve({ mode, request: 'identify answer', ...await floodWith(stream, mode) })
      }, { force: true })
      try {
        // a new connection: the daemon identifies the new peer at once
        await hostile.hangUp(addrs[0]).catch(() => {})
        await waitFor('no connection to the daemon', () => hostile.getConnections().length === 0, 5_000, 50)
        await hostile.dial(addrs, { signal: AbortSignal.timeout(5_000) })
        let timer: NodeJS.Timeout | undefined
        const result = await Promise.race([done.promise, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error('the daemon did not run identify on a new connection within 15 s')) }, 15_000) })])
        clearTimeout(timer)
        await assertCutOffAndServing(result)
      } finally {
        await hostile.unhandle(identify)
      }
    })
  }
})
