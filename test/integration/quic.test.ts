/**
 * QUIC beside TCP (`--quic`), between real daemons on 127.0.0.1: a follower
 * fetches a release from a QUIC publisher over QUIC; a QUIC node and a
 * TCP-only node then hand the release to each other over TCP, each way; the
 * connection gater's per-IP cap and deny-list hold for QUIC connections; a
 * peer that offers QUIC whose UDP never answers is still reached over TCP;
 * a QUIC listen address in the config is refused, naming the field.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { quic } from '@chainsafe/libp2p-quic'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { createLibp2p } from 'libp2p'
import { fetchStatus } from '../../protocols/status/index.js'
import { defaults } from '../../src/config/index.js'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { LocalMesh, MeshProcess } from '../../src/demo/local-mesh.js'
import { createClientNode } from '../../src/network/client-node.js'
import { createMeshNode } from '../../src/network/create-node.js'
import { pseudoRandomBytes } from '../../src/util/pseudo-random.js'
import { runCli, tempDir, waitFor } from '../helpers/cli.js'
import type { StatusResponse } from '../../protocols/status/index.js'
import type { Libp2p } from '@libp2p/interface'

const QUIC = '/quic-v1'
const RELEASE_BYTES = 4 * 1024 * 1024

describe('QUIC beside TCP between daemons', () => {
  const tmp = tempDir('umesh-quic-')
  const repo = join(tmp.path, 'repo')
  const mesh = new LocalMesh({ dir: join(tmp.path, 'mesh'), nodes: 0 })
  const followerArgs = ['--trusted-root', join(repo, 'metadata', '1.root.json'), '--follow', 'app']
  const started: MeshProcess[] = []
  let client: Libp2p
  let publisher: MeshProcess
  let quicFollower: MeshProcess
  let tcpFollower: MeshProcess

  const addrsOf = (p: MeshProcess): string[] => readDaemonFile(p.dataDir).addrs
  const status = async (p: MeshProcess): Promise<StatusResponse> =>
    await fetchStatus(client, addrsOf(p).map(a => multiaddr(a)), 'umesh', { signal: AbortSignal.timeout(3_000) })
  const holds = async (p: MeshProcess, version: string): Promise<boolean> =>
    (await status(p)).releases.some(r => r.package === 'app' && r.version === version && r.state === 'held')
  /** the addresses of `from`'s connections to `to`, as `from` reports them */
  const linkAddrs = async (from: MeshProcess, to: MeshProcess): Promise<string[]> =>
    (await status(from)).peers.filter(p => p.peerId === to.peerId).map(p => p.addr)

  before(async () => {
    client = await createClientNode()
    assert.equal((await runCli(['repo', 'init', '--repo', repo])).code, 0)
    const src = join(tmp.path, 'src')
    mkdirSync(src, { recursive: true })
    writeFileSync(join(src, 'data.bin'), pseudoRandomBytes(RELEASE_BYTES, 7))
    const added = await runCli(['release', 'add', src, '--repo', repo, '--package', 'app', '--version', '1.0.0'])
    assert.equal(added.code, 0, added.stderr)
    // the bootstrap node speaks TCP only: every node reaches it over TCP
    await mesh.start()
  })

  after(async () => {
    await Promise.all(started.map(async p => await p.stop()))
    await mesh.stop()
    await client?.stop()
    tmp.remove()
  })

  it('a follower with QUIC fetches the release from a QUIC publisher over QUIC', async () => {
    publisher = mesh.addNode('publisher', ['--repo', repo, '--quic', '--announce-interval', '5'])
    await publisher.waitReady()
    assert.ok(addrsOf(publisher).some(a => a.includes('/udp/') && a.endsWith(`${QUIC}/p2p/${publisher.peerId}`)), `the publisher listens on QUIC: ${addrsOf(publisher).join(' ')}`)
    // the publisher is the only holder while this follower fetches, and the two
    // find each other through the bootstrap node, so they dial by peer id
    quicFollower = mesh.addNode('quic-follower', [...followerArgs, '--quic'])
    await quicFollower.waitReady()
    await waitFor('the QUIC follower holding app 1.0.0', async () => await holds(quicFollower, '1.0.0'), 60_000, 500)
    const seen = await linkAddrs(quicFollower, publisher)
    const served = await linkAddrs(publisher, quicFollower)
    console.log(`quic-follower -> publisher: ${seen.join(' ')}; publisher -> quic-follower: ${served.join(' ')}`)
    assert.ok(seen.length > 0 && seen.every(a => a.includes(QUIC)), `every connection of the follower to the publisher is QUIC: ${seen.join(' ')}`)
    assert.ok(served.length > 0 && served.every(a => a.includes(QUIC)), `every connection of the publisher to the follower is QUIC: ${served.join(' ')}`)
    const fetched = Number((await status(quicFollower)).bandwidth?.downloadedBytes ?? 0)
    assert.ok(fetched >= RELEASE_BYTES, `the follower fetched the release's chunks (${fetched} bytes)`)
  })

  it('a QUIC node serves a TCP-only node over TCP, and a TCP-only node serves a QUIC node', async () => {
    // the publisher leaves: the QUIC follower is the only holder
    assert.equal(await publisher.stop(), 0)
    tcpFollower = mesh.addNode('tcp-follower', followerArgs)
    await tcpFollower.waitReady()
    assert.ok(addrsOf(tcpFollower).every(a => !a.includes(QUIC)), 'a node without --quic listens on TCP only')
    await waitFor('the TCP-only follower holding app 1.0.0', async () => await holds(tcpFollower, '1.0.0'), 60_000, 500)
    const toQuicNode = await linkAddrs(tcpFollower, quicFollower)
    assert.ok(toQuicNode.length > 0 && toQuicNode.every(a => a.includes('/tcp/')), `the TCP-only node reached the QUIC node over TCP: ${toQuicNode.join(' ')}`)

    // and back: the QUIC follower leaves, a new QUIC node can only get the release from the TCP-only one
    assert.equal(await quicFollower.stop(), 0)
    const late = mesh.addNode('late-quic', [...followerArgs, '--quic'])
    await late.waitReady()
    await waitFor('the late QUIC node holding app 1.0.0', async () => await holds(late, '1.0.0'), 60_000, 500)
    const toTcpNode = await linkAddrs(late, tcpFollower)
    assert.ok(toTcpNode.length > 0 && toTcpNode.every(a => a.includes('/tcp/')), `the QUIC node reached the TCP-only node over TCP: ${toTcpNode.join(' ')}`)
  })

  it('the per-IP inbound cap and the deny-list hold for QUIC connections', async () => {
    const deniedKey = await generateKeyPair('Ed25519')
    const dataDir = join(tmp.path, 'gated')
    const gated = new MeshProcess('gated', 'node', dataDir, [
      '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--quic', '--max-inbound-per-ip', '1', '--deny-peer', peerIdFromPrivateKey(deniedKey).toString()
    ], join(tmp.path, 'gated.log'))
    started.push(gated)
    await gated.waitReady()
    const quicAddr = multiaddr(addrsOf(gated).find(a => a.includes(QUIC))!)
    // stock libp2p clients with QUIC alone: no TCP to fall back on
    const quicClient = async (privateKey?: Awaited<ReturnType<typeof generateKeyPair>>): Promise<Libp2p> =>
      await createLibp2p({ ...(privateKey != null ? { privateKey } : {}), addresses: { listen: [] }, transports: [quic()] })
    const [first, second, denied] = await Promise.all([quicClient(), quicClient(), quicClient(deniedKey)])
    const ask = async (node: Libp2p): Promise<StatusResponse> => await fetchStatus(node, quicAddr, 'umesh', { signal: AbortSignal.timeout(5_000) })
    try {
      // nothing else is connected yet, so the cap cannot be why a denied peer id is refused
      await assert.rejects(ask(denied), 'a denied peer cannot connect over QUIC')
      const answer = await ask(first)
      assert.equal(answer.peerId, gated.peerId)
      assert.ok(first.getConnections()[0].remoteAddr.toString().includes(QUIC))
      // the first client's connection is open: a second one from 127.0.0.1 is over the cap
      await assert.rejects(ask(second), 'a second inbound QUIC connection from the same IP is refused')
      const inbound = (await ask(first)).peers.filter(p => p.direction === 'inbound')
      assert.deepEqual(inbound.map(p => p.peerId), [first.peerId.toString()])
      // once the first leaves, the second gets in: it was the cap
      await first.hangUp(peerIdFromString(gated.peerId))
      await waitFor('the gated node to let the second client in', async () => {
        try { return (await ask(second)).peerId === gated.peerId } catch { return false }
      }, 15_000, 500)
    } finally {
      await Promise.all([first, second, denied].map(async n => { await n.stop() }))
    }
  })

  it('a peer that offers QUIC but whose UDP never answers is reached over TCP', async () => {
    // a UDP socket that takes every packet and answers none: QUIC's handshake times out
    const hole = createSocket('udp4')
    await new Promise<void>(resolve => { hole.bind(0, '127.0.0.1', resolve) })
    const { node } = await createMeshNode({
      config: { ...defaults(), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, quic: true, bootstrap: [] },
      role: 'node',
      privateKey: await generateKeyPair('Ed25519'),
      datastore: new MemoryDatastore(),
      version: '0.0.0-test',
      report: () => { throw new Error('no status') },
      serve: { mirrorRoot: () => undefined, summary: () => ({ timestampVersion: 0, releases: [] }), store: { has: async () => false, get: async () => { throw new Error('none') } } }
    })
    try {
      await node.start()
      // the bootstrap node: TCP only, up for the whole suite
      const target = mesh.bootstrap!
      const tcpAddr = multiaddr(addrsOf(target).find(a => a.includes('/tcp/'))!.replace(`/p2p/${target.peerId}`, ''))
      const deadQuic = multiaddr(`/ip4/127.0.0.1/udp/${hole.address().port}${QUIC}`)
      const targetId = peerIdFromString(target.peerId)
      await node.peerStore.merge(targetId, { multiaddrs: [tcpAddr, deadQuic] })
      const t0 = Date.now()
      // 5 s: what the daemon's peer keeper and bootstrap dialer give a dial
      const connection = await node.dial(targetId, { signal: AbortSignal.timeout(5_000) })
      console.log(`connected over ${connection.remoteAddr.toString()} ${Date.now() - t0} ms after the dial (QUIC tried first)`)
      assert.ok(connection.remoteAddr.toString().includes('/tcp/'), `reached over TCP: ${connection.remoteAddr.toString()}`)
    } finally {
      await node.stop()
      hole.close()
    }
  })

  it('a QUIC listen address in the config is refused, naming the field', async () => {
    const dir = tempDir('umesh-quic-listen-')
    try {
      const run = await runCli(['node', '--data-dir', dir.path, '--no-mdns', '--quic', '--listen', '/ip4/127.0.0.1/udp/0/quic-v1'])
      assert.equal(run.code, 2, run.stderr)
      assert.match(run.stderr, /--listen\[0\]: expected a TCP listen address, found the QUIC address/)
    } finally {
      dir.remove()
    }
  })
})
