/**
 * `umesh status --peer MA` without --network asks the node which protocols
 * it handles and takes the network whose status protocol it speaks; a peer
 * that speaks none, or two, gets a usage error naming what it speaks; --network
 * still picks the network; a peer that never answers is given up on at
 * --timeout.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { MeshProcess } from '../../src/demo/local-mesh.js'
import { runCli, tempDir } from '../helpers/cli.js'
import type { Libp2p } from '@libp2p/interface'
import type { Server, Socket } from 'node:net'

const LOCAL = ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns']
/** no network from the environment: the command must find it */
const ENV = { UMESH_NETWORK: '', UMESH_DATA_DIR: '' }

describe('umesh status --peer without --network', () => {
  const tmp = tempDir('umesh-status-net-')
  let node: MeshProcess
  let addr = ''

  before(async () => {
    node = new MeshProcess('lab', 'node', join(tmp.path, 'lab'), [...LOCAL, '--network', 'lab-a'], join(tmp.path, 'lab.log'))
    await node.waitReady()
    addr = /listening on (\S+)/.exec(node.output)![1]
  })
  after(async () => {
    await node?.stop()
    tmp.remove()
  })

  it('finds the node\'s network (lab-a) and shows its status', async () => {
    const result = await runCli(['status', '--peer', addr, '--json'], { env: ENV, timeoutMs: 15_000 })
    assert.equal(result.code, 0, result.stderr)
    const status = JSON.parse(result.stdout)
    assert.equal(status.network, 'lab-a')
    assert.equal(status.peerId, node.peerId)
  })

  it('--network still chooses: the right one answers, another fails as before', async () => {
    const right = await runCli(['status', '--peer', addr, '--json', '--network', 'lab-a'], { env: ENV, timeoutMs: 15_000 })
    assert.equal(right.code, 0, right.stderr)
    assert.equal(JSON.parse(right.stdout).network, 'lab-a')
    const wrong = await runCli(['status', '--peer', addr, '--network', 'lab-b'], { env: ENV, timeoutMs: 15_000 })
    assert.equal(wrong.code, 1)
    assert.match(wrong.stderr, /on network lab-b/)
  })

  describe('a peer that speaks no umesh status protocol', () => {
    let other: Libp2p
    before(async () => {
      other = await createLibp2p({
        addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        services: { ping: ping() }
      })
    })
    after(async () => { await other?.stop() })

    it('is a usage error naming what it speaks and --network', async () => {
      const result = await runCli(['status', '--peer', other.getMultiaddrs()[0].toString()], { env: ENV, timeoutMs: 15_000 })
      assert.equal(result.code, 2, result.stderr)
      assert.match(result.stderr, /speaks no umesh status protocol/)
      assert.match(result.stderr, /\/ipfs\/ping\/1\.0\.0/)
      assert.match(result.stderr, /--network NAME/)
      assert.equal(result.stdout, '')
    })

    it('one that handles the status protocol of two networks: a usage error naming both', async () => {
      await other.handle(['/umesh/lab-a/status/1.0.0', '/umesh/lab-b/status/1.0.0'], (stream) => { stream.abort(new Error('not a status server')) })
      try {
        const result = await runCli(['status', '--peer', other.getMultiaddrs()[0].toString()], { env: ENV, timeoutMs: 15_000 })
        assert.equal(result.code, 2, result.stderr)
        assert.match(result.stderr, /answers status on 2 networks \(lab-a, lab-b\); pick one with --network NAME/)
      } finally {
        await other.unhandle(['/umesh/lab-a/status/1.0.0', '/umesh/lab-b/status/1.0.0'])
      }
    })
  })

  describe('a peer that accepts the connection and never answers', () => {
    let server: Server
    let port = 0
    const sockets: Socket[] = []
    before(async () => {
      server = createServer(socket => { sockets.push(socket) })
      await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
      port = (server.address() as { port: number }).port
    })
    after(async () => {
      sockets.forEach(s => s.destroy())
      await new Promise<void>(resolve => server.close(() => { resolve() }))
    })

    it('is given up on at --timeout', async () => {
      const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      const started = Date.now()
      const result = await runCli(['status', '--peer', `/ip4/127.0.0.1/tcp/${port}/p2p/${peer.toString()}`, '--timeout', '1000'], { env: ENV, timeoutMs: 15_000 })
      assert.equal(result.code, 1, result.stderr)
      assert.match(result.stderr, /no answer within 1000 ms/)
      assert.match(result.stderr, /--network NAME/)
      assert.ok(Date.now() - started < 8_000, `took ${Date.now() - started} ms`)
    })
  })
})
