/**
 * Paced reads: real loopback sockets, the connection object a stand-in for
 * @libp2p/tcp's (a socket, sendPause, sendResume), and a real libp2p pair
 * (TCP with paced reads, Noise, Yamux) moving bytes both ways.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer, connect } from 'node:net'
import { after, describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { pacedReads, paceReads } from '../../../src/network/paced-reads.js'
import { pseudoRandomBytes } from '../../../src/util/pseudo-random.js'
import { handleHash, sendForHash } from '../../helpers/hash-stream.js'
import type { Server, Socket } from 'node:net'

const servers: Server[] = []
after(() => { for (const s of servers) s.close() })

/** a connected socket pair on loopback: [the server's end, the client's end] */
async function socketPair (): Promise<[Socket, Socket]> {
  const server = createServer()
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const accepted = new Promise<Socket>(resolve => server.once('connection', resolve))
  const client = connect(port, '127.0.0.1')
  await new Promise(resolve => client.once('connect', resolve))
  return [await accepted, client]
}

/** the connection as paceReads sees it, counting what it passes on */
function connection (socket: Socket): { socket: Socket, sendPause: () => void, sendResume: () => void, pauses: number, resumes: number } {
  const conn = {
    socket,
    pauses: 0,
    resumes: 0,
    sendPause: () => { conn.pauses++; socket.pause() },
    sendResume: () => { conn.resumes++; socket.resume() }
  }
  return conn
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('paceReads', () => {
  it('delivers every byte in order and the end, with small writes in a flow', async () => {
    const [server, client] = await socketPair()
    const received: Buffer[] = []
    client.on('data', (b: Buffer) => received.push(b))
    // a hold long enough that a loaded machine's slow timers (1 ms sleeps taking 7) still make a flow
    assert.equal(paceReads(connection(client), { holdMs: 50 }), true)
    const ended = new Promise(resolve => client.once('end', resolve))
    const sent: Buffer[] = []
    for (let i = 0; i < 60; i++) {
      const b = pseudoRandomBytes(3000, i)
      sent.push(b)
      server.write(b)
      await sleep(1)
    }
    server.end()
    await ended
    assert.deepEqual(Buffer.concat(received), Buffer.concat(sent))
    assert.ok(received.length < sent.length / 2, `held reads gather writes: ${received.length} reads for ${sent.length} writes`)
    client.destroy()
  })

  it('does not hold for a lone read, a trickle of small reads, or a large read', async () => {
    const [server, client] = await socketPair()
    let paused = 0
    const pause = client.pause.bind(client)
    client.pause = () => { paused++; return pause() }
    paceReads(connection(client), { holdMs: 20 })
    const got = new Promise(resolve => client.once('data', resolve))
    server.write('lone request')
    await got
    assert.equal(paused, 0, 'a lone read is not held')
    for (let i = 0; i < 10; i++) {
      server.write(Buffer.alloc(100))
      await sleep(2)
    }
    assert.equal(paused, 0, 'a trickle (window updates, requests) is not held')
    await sleep(60)
    const large = new Promise(resolve => client.once('data', resolve))
    server.write(Buffer.alloc(32 * 1024))
    await large
    await sleep(5)
    assert.equal(paused, 0, 'a large read is not held')
    client.destroy()
    server.destroy()
  })

  it('a hold never resumes a socket libp2p paused, and libp2p\'s resume waits for the hold', async () => {
    const [server, client] = await socketPair()
    const conn = connection(client)
    client.on('data', () => {})
    paceReads(conn, { holdMs: 30 })
    server.write(Buffer.alloc(5000))
    await sleep(5)
    server.write(Buffer.alloc(5000))
    await sleep(5) // the second small read makes a flow: held now
    assert.equal(client.isPaused(), true, 'held')
    conn.sendPause() // backpressure from above
    await sleep(50) // the hold ended
    assert.equal(client.isPaused(), true, 'still paused: libp2p asked for it')
    conn.sendResume()
    assert.equal(client.isPaused(), false)
    await sleep(100) // quiet: the next read starts a new flow
    server.write(Buffer.alloc(5000))
    await sleep(5)
    server.write(Buffer.alloc(5000))
    await sleep(5)
    assert.equal(client.isPaused(), true, 'held again')
    conn.sendResume() // libp2p resumes during a hold: the hold still ends it
    assert.equal(client.isPaused(), true, 'the hold is kept')
    await sleep(40)
    assert.equal(client.isPaused(), false, 'resumed when the hold ended')
    client.destroy()
    server.destroy()
  })

  it('holdMs 0, or a connection with no socket, is left alone', () => {
    assert.equal(paceReads({ sendPause: () => {}, sendResume: () => {} }, { holdMs: 5 }), false)
    const factory = tcp()
    assert.equal(pacedReads(factory, { holdMs: 0 }), factory)
  })
})

describe('pacedReads: a libp2p pair over TCP + Noise + Yamux', () => {
  it('moves 8 MiB each way intact, with one side paced and the other stock', async () => {
    const paced = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [pacedReads(tcp(), { holdMs: 3 })], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
    const stock = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
    try {
      const data = pseudoRandomBytes(8 * 1024 * 1024, 42)
      const digest = createHash('sha256').update(data).digest('hex')
      for (const node of [paced, stock]) await handleHash(node)
      for (const [from, to] of [[paced, stock], [stock, paced]]) {
        assert.equal(await sendForHash(from, to, data), digest)
      }
    } finally {
      await paced.stop()
      await stock.stop()
    }
  })
})
