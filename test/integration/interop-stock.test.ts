/**
 * Wire interop with stock libp2p, the guard for any change to the transport
 * stack: a node built only from the stock modules (createLibp2p with tcp,
 * noise, yamux and identify) plus this project's chunks service fetches every
 * chunk of a published release from a publisher daemon process, and a node
 * from createMeshNode (the daemon's own assembly) fetches every chunk of a
 * file from the stock node. The client verifies each chunk against its CID,
 * and the bytes, in order, must hash to the file they were cut from.
 *
 * The stock node keeps identify's default protocol; the mesh speaks identify
 * under its network's prefix, so the two never identify each other and the
 * daemon's network guard, which acts on identify, leaves the stock node be.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { createLibp2p } from 'libp2p'
import { chunks, getChunks, haveChunks, MAX_GET_CIDS } from '../../protocols/chunks/index.js'
import { defaults } from '../../src/config/index.js'
import { openChunkStore } from '../../src/content/index.js'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { MeshProcess } from '../../src/demo/local-mesh.js'
import { createMeshNode } from '../../src/network/create-node.js'
import { pseudoRandomBytes } from '../../src/util/pseudo-random.js'
import { runCli, tempDir } from '../helpers/cli.js'
import type { ChunksService, ChunksTarget } from '../../protocols/chunks/index.js'
import type { StreamOpener } from '../../protocols/shared/stream-opener.js'
import type { ChunkedFile, ChunkStore } from '../../src/content/index.js'
import type { Identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'

const NETWORK = 'umesh'

/** every chunk of `file` from `peer`, in file order and in GETs of at most 32: the sha256 of their bytes, and how many came */
async function fetchFile (opener: StreamOpener, peer: ChunksTarget, file: ChunkedFile): Promise<{ sha256: string, chunks: number }> {
  const hash = createHash('sha256')
  let count = 0
  for (let i = 0; i < file.chunks.length; i += MAX_GET_CIDS) {
    const cids = file.chunks.slice(i, i + MAX_GET_CIDS).map(c => c.cid)
    for await (const chunk of getChunks(opener, peer, NETWORK, cids, { timeout: 30_000 })) {
      assert.ok(chunk.cid.equals(cids[count - i]), `chunk ${count} comes in file order`)
      hash.update(chunk.bytes)
      count++
    }
  }
  return { sha256: hash.digest('hex'), chunks: count }
}

describe('interop with stock libp2p (TCP, Noise, Yamux, identify)', () => {
  const tmp = tempDir('umesh-interop-')
  const repo = join(tmp.path, 'repo')
  let publisher: MeshProcess
  let stock: Libp2p<{ identify: Identify, chunks: ChunksService }>
  let stockStore: ChunkStore
  let published: ChunkedFile
  let stockFile: ChunkedFile

  before(async () => {
    // a release the publisher serves from its repository's chunk store
    const src = join(tmp.path, 'src')
    mkdirSync(src, { recursive: true })
    writeFileSync(join(src, 'data.bin'), pseudoRandomBytes(3 * 1024 * 1024, 11))
    assert.equal((await runCli(['repo', 'init', '--repo', repo])).code, 0)
    const added = await runCli(['release', 'add', src, '--repo', repo, '--package', 'app', '--version', '1.0.0'])
    assert.equal(added.code, 0, added.stderr)
    // its chunk CIDs, cut the same way by a store of our own (FastCDC's boundaries are fixed)
    published = await (await openChunkStore(join(tmp.path, 'scratch'))).chunkFile(join(src, 'data.bin'))
    publisher = new MeshProcess('publisher', 'node', join(tmp.path, 'publisher'), ['--repo', repo, '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns'], join(tmp.path, 'publisher.log'))

    // the stock node: stock modules, and the chunks service on a chunk store holding another file
    writeFileSync(join(tmp.path, 'stock.bin'), pseudoRandomBytes(2 * 1024 * 1024, 12))
    stockStore = await openChunkStore(join(tmp.path, 'stock-chunks'))
    stockFile = await stockStore.chunkFile(join(tmp.path, 'stock.bin'))
    stock = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify(), chunks: chunks({ network: NETWORK, store: stockStore }) }
    })
    await publisher.waitReady()
  })

  after(async () => {
    await publisher?.stop()
    await stock?.stop()
    tmp.remove()
  })

  it('the stock node fetches every chunk of a published release from a daemon', async () => {
    const daemonAddr = multiaddr(readDaemonFile(publisher.dataDir).addrs.find(a => a.includes('/tcp/'))!)
    const got = await fetchFile(stock, daemonAddr, published)
    assert.deepEqual(got, { sha256: published.sha256, chunks: published.chunks.length })
    const connection = stock.getConnections().find(c => c.remotePeer.toString() === publisher.peerId)
    assert.ok(connection != null, 'the stock node is still connected: the daemon did not hang up on it')
    assert.deepEqual([connection.encryption, connection.multiplexer], ['/noise', '/yamux/1.0.0'])
    // HAVE too: the daemon holds the release's chunks and not the stock node's
    const asked = [...published.chunks.slice(0, 3), stockFile.chunks[0]].map(c => c.cid)
    assert.deepEqual(await haveChunks(stock, daemonAddr, NETWORK, asked), [true, true, true, false])
  })

  it('a node from createMeshNode fetches every chunk of a file from the stock node', async () => {
    const { node } = await createMeshNode({
      config: { ...defaults(), network: NETWORK, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [] },
      role: 'node',
      privateKey: await generateKeyPair('Ed25519'),
      datastore: new MemoryDatastore(),
      version: '0.0.0-test',
      report: () => { throw new Error('no status') },
      serve: { mirrorRoot: () => undefined, summary: () => ({ timestampVersion: 0, releases: [] }), store: await openChunkStore(join(tmp.path, 'mesh-chunks')) }
    })
    try {
      await node.start()
      const got = await fetchFile(node, stock.getMultiaddrs(), stockFile)
      assert.deepEqual(got, { sha256: stockFile.sha256, chunks: stockFile.chunks.length })
      const connection = node.getConnections(stock.peerId)[0]
      assert.deepEqual([connection.encryption, connection.multiplexer], ['/noise', '/yamux/1.0.0'])
      assert.deepEqual(await haveChunks(node, stock.getMultiaddrs(), NETWORK, [stockFile.chunks[0].cid, published.chunks[0].cid]), [true, false])
    } finally {
      await node.stop()
    }
  })
})
