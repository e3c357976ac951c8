/**
 * A download's fallback to a static HTTP mirror (src/swarm/mirror-pieces.ts
 * through downloadPieces): which pieces it takes (only those no peer offers
 * for afterMs, or any once the peers stall), that a download with no peer at
 * all completes from the mirror (a real HttpMirror on a node:http server),
 * that a mirror serving a wrong chunk is refused and nothing wrong is stored,
 * and that the download then gives up (to be retried) once nothing moves.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Bitfield, chunkCid, verifyChunk } from '../../../protocols/shared/index.js'
import { downloadPieces } from '../../../src/swarm/download.js'
import { MirrorPieces } from '../../../src/swarm/mirror-pieces.js'
import { ReleaseSwarm } from '../../../src/swarm/release-swarm.js'
import { HttpMirror, mirrorChunkPath } from '../../../src/trust/http-mirror.js'
import { captureLogger } from '../../helpers/capture-logger.js'
import type { FallbackHost } from '../../../src/swarm/mirror-pieces.js'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { CID } from 'multiformats/cid'

const COUNT = 12

describe('the mirror fallback of a download', { timeout: 60_000 }, () => {
  const chunks = Array.from({ length: COUNT }, (_, i) => Buffer.alloc(20_000 + i, i + 1))
  const cids = chunks.map(c => chunkCid(c))
  const byPath = new Map(cids.map((cid, i) => [`/${mirrorChunkPath(cid)}`, chunks[i]]))
  /** pieces the server sends wrong bytes for */
  const corrupt = new Set<number>()
  let hits = 0
  let server: Server
  let url: string

  before(async () => {
    server = createServer((req, res) => {
      hits++
      const bytes = byPath.get(req.url ?? '')
      if (bytes == null) { res.writeHead(404).end(); return }
      const i = chunks.indexOf(bytes)
      res.end(corrupt.has(i) ? Buffer.alloc(bytes.length, 0xff) : bytes)
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  })

  after(() => {
    server.closeAllConnections()
    server.close()
  })

  const swarmOf = async (): Promise<ReleaseSwarm> => {
    const self = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const { logger } = captureLogger()
    return new ReleaseSwarm({
      release: chunkCid(Buffer.from(`release ${Math.random()}`)),
      pieces: { cids, sizes: chunks.map(c => c.length) },
      held: new Bitfield(COUNT),
      self,
      opener: { dialProtocol: async () => { throw new Error('no peers in this test') } },
      network: 'test',
      log: logger
    })
  }

  const storeOf = (): { stored: Map<string, Uint8Array>, has: (cid: CID) => Promise<boolean>, put: (cid: CID, bytes: Uint8Array) => Promise<boolean> } => {
    const stored = new Map<string, Uint8Array>()
    return {
      stored,
      has: async (cid) => stored.has(cid.toString()),
      put: async (cid, bytes) => { stored.set(cid.toString(), bytes); return true }
    }
  }

  it('with no peer, takes every piece from the mirror, each verified, after afterMs', async () => {
    const swarm = await swarmOf()
    const store = storeOf()
    const { logger, lines } = captureLogger()
    const mirror = new HttpMirror({ urls: [url] })
    const started = Date.now()
    let firstAt = 0
    await downloadPieces({
      swarm,
      store,
      get: () => { throw new Error('no peer to ask') },
      isBadData: () => false,
      candidates: () => [],
      log: logger,
      idleMs: 20_000,
      onProgress: () => { if (firstAt === 0) firstAt = Date.now() },
      fallback: { source: mirror, afterMs: 400, parallel: 3 }
    })
    assert.equal(store.stored.size, COUNT)
    for (const [i, cid] of cids.entries()) assert.ok(verifyChunk(cid, store.stored.get(cid.toString())!), `piece ${i}`)
    assert.ok(firstAt - started >= 350, `the first piece came ${firstAt - started} ms after the start, before afterMs`)
    assert.equal(mirror.counters.chunks, COUNT)
    assert.equal(mirror.counters.chunkBytes, chunks.reduce((a, c) => a + c.length, 0))
    assert.ok(lines.some(l => /held .* from mirror 0\.2 MiB/.test(l)), lines.join('\n'))
  })

  it('refuses a wrong chunk from the mirror, stores nothing wrong, names it in the log, and gives up on that piece only when nothing else moves', async () => {
    const swarm = await swarmOf()
    const store = storeOf()
    const { logger } = captureLogger()
    const mirrorLines: string[] = []
    const mirror = new HttpMirror({ urls: [url], log: captureLogger(mirrorLines).logger })
    corrupt.add(3)
    const controller = new AbortController()
    const done = downloadPieces({
      swarm, store, get: () => { throw new Error('no peer to ask') }, isBadData: () => false, candidates: () => [], log: logger,
      idleMs: 1_500, signal: controller.signal, fallback: { source: mirror, afterMs: 100 }
    })
    try {
      await assert.rejects(done, /11 of 12 chunks|1 of 12 chunks/)
    } finally {
      corrupt.clear()
      controller.abort()
    }
    assert.equal(store.stored.size, COUNT - 1)
    assert.equal(store.stored.has(cids[3].toString()), false, 'the wrong chunk was not stored')
    for (const [key, bytes] of store.stored) assert.ok(verifyChunk(cids.find(c => c.toString() === key)!, bytes))
    assert.ok(mirrorLines.some(l => l.startsWith('error: ') && l.includes(cids[3].toString()) && l.includes('hash to')), mirrorLines.join('\n'))
  })

  it('takes only pieces no peer offers for afterMs, and any piece once the peers stall', () => {
    let now = 10_000
    let lastProgress = now
    const offered = new Map<number, number>([[0, 1], [1, 2], [2, 0], [3, 0]])
    const requested = new Set<number>([1])
    const host: FallbackHost = {
      cids: cids.slice(0, 4),
      sizes: [1, 1, 1, 1],
      held: () => false,
      offered: i => offered.get(i) ?? 0,
      requested: i => requested.has(i),
      lastProgress: () => lastProgress,
      claim: () => {},
      release: () => {},
      stall: () => {},
      deliver: async () => true,
      log: captureLogger().logger
    }
    const realNow = Date.now
    Date.now = () => now
    try {
      const pieces = new MirrorPieces(host, { source: { available: true, fetchChunk: async () => new Uint8Array() }, afterMs: 1_000 }, () => 0)
      // the first look starts the clock of the unoffered pieces
      assert.deepEqual(pieces.choose(now, 4), [])
      now += 500
      lastProgress = now
      assert.deepEqual(pieces.choose(now, 4), [], 'not before afterMs')
      now += 600
      lastProgress = now
      assert.deepEqual(pieces.choose(now, 4).sort(), [2, 3], 'the unoffered pieces, not those peers hold or fetch')
      // piece 3 is offered again (a peer fetches it): its clock starts over
      offered.set(3, 1)
      assert.deepEqual(pieces.choose(now, 4), [2])
      // the peers stall: pieces they were not asked for go first, then any
      now += 1_000
      assert.deepEqual(pieces.choose(now, 2).sort(), [0, 2])
      assert.deepEqual(pieces.choose(now, 4).sort(), [0, 1, 2, 3])
    } finally {
      Date.now = realNow
    }
  })

  it('lets peers be asked too for a piece the mirror is slow with', async () => {
    let now = 50_000
    const stalled: number[] = []
    const claimed: number[] = []
    const controller = new AbortController()
    const host: FallbackHost = {
      cids: cids.slice(0, 2),
      sizes: [1, 1],
      held: () => false,
      offered: () => 0,
      requested: () => false,
      lastProgress: () => 0,
      claim: i => { claimed.push(i) },
      release: () => {},
      stall: i => { stalled.push(i) },
      deliver: async () => true,
      log: captureLogger().logger
    }
    const realNow = Date.now
    Date.now = () => now
    try {
      // a mirror that never answers (until the test ends)
      const never = async (): Promise<Uint8Array> => await new Promise((_resolve, reject) => { controller.signal.addEventListener('abort', () => { reject(new Error('test over')) }) })
      const pieces = new MirrorPieces(host, { source: { available: true, fetchChunk: never }, afterMs: 1_000, parallel: 1 }, () => 0)
      now += 1_000
      pieces.tick(now)
      await new Promise(resolve => setImmediate(resolve))
      assert.deepEqual(claimed, [0])
      now += 500
      pieces.tick(now)
      assert.deepEqual(stalled, [], 'not before afterMs')
      now += 600
      pieces.tick(now)
      pieces.tick(now + 5_000)
      assert.deepEqual(stalled, [0], 'once, after afterMs')
      pieces.stop()
    } finally {
      controller.abort()
      Date.now = realNow
    }
  })
})
