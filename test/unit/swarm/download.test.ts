/**
 * The download loop (downloadPieces) over a real ReleaseSwarm: have sessions
 * with fake peers run on in-memory stream pairs (each peer says what it
 * holds in its hello, and may announce more later), and each peer's chunk
 * answers come from a test-given `get`. What is checked is what the loop
 * does with peers: asks several, stores every piece, drops a peer that sends
 * a wrong chunk, asks another peer for a stalled piece, gives up when
 * nothing moves, stops when aborted.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { HaveSession } from '../../../protocols/have/index.js'
import { Bitfield, chunkCid } from '../../../protocols/shared/index.js'
import { downloadPieces } from '../../../src/swarm/download.js'
import { ReleaseSwarm } from '../../../src/swarm/release-swarm.js'
import { captureLogger } from '../../helpers/capture-logger.js'
import { waitFor } from '../../helpers/cli.js'
import type { DownloadInit } from '../../../src/swarm/download.js'
import type { ChunkSink, FetchedChunk } from '../../../src/swarm/index.js'
import type { Connection, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

const NETWORK = 'test'

/** a chunk the peer sent that does not hash to its CID, as the chunks client reports it */
class WrongChunkError extends Error {
  override readonly name = 'WrongChunkError'
}

async function newPeer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

/** `p`, or a failure once `ms` have passed */
async function within<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`timed out after ${ms} ms waiting for ${what}`)) }, ms) })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

/** one request the loop made of a fake peer */
interface Asked { pieces: number[], at: number, signal: AbortSignal }

/** how a fake peer answers a request: it is given the CIDs asked for (yield those very objects) */
type Answer = (cids: CID[], signal: AbortSignal, peer: FakePeer, scenario: Scenario) => AsyncIterable<FetchedChunk>

interface FakePeer {
  id: PeerId
  /** pieces it says it holds (its hello), and serves when honest */
  have: Set<number>
  answer: Answer
  asked: Asked[]
  /** its side of the have session, once opened */
  remote?: HaveSession
}

/** a release of `count` pieces of a few hundred bytes each, and a swarm of fake peers to fetch it from */
class Scenario {
  readonly chunks: Uint8Array[]
  readonly cids: CID[]
  readonly release = chunkCid(new TextEncoder().encode(`release ${Math.random()}`))
  readonly peers = new Map<string, FakePeer>()
  readonly stored = new Map<number, Uint8Array>()
  /** piece -> the peer that sent the stored copy */
  readonly from = new Map<number, string>()
  readonly progress: Array<[number, number]> = []
  /** ends the download when the test does, whatever happened */
  readonly controller = new AbortController()
  readonly lines: string[] = []
  swarm!: ReleaseSwarm
  self!: PeerId

  constructor (readonly count: number) {
    this.chunks = Array.from({ length: count }, (_, i) => new TextEncoder().encode(`piece ${i} `.repeat(40)))
    this.cids = this.chunks.map(c => chunkCid(c))
  }

  async init (): Promise<this> {
    this.self = await newPeer()
    const { logger } = captureLogger(this.lines)
    this.swarm = new ReleaseSwarm({
      release: this.release,
      pieces: { cids: this.cids, sizes: this.chunks.map(c => c.byteLength) },
      held: new Bitfield(this.count),
      self: this.self,
      network: NETWORK,
      log: logger,
      // every dial lands on the fake peer's side of a stream pair, which answers with what it holds
      opener: {
        dialProtocol: async (peer: PeerId) => {
          const fake = this.peers.get(peer.toString())
          assert.ok(fake != null, `a dial to an unknown peer ${peer.toString()}`)
          const [client, server] = await streamPair()
          void HaveSession.accept(server, { remotePeer: this.self } as unknown as Connection, async (release, count) => {
            const bitfield = new Bitfield(count)
            for (const i of fake.have) bitfield.set(i)
            return { release, count, bitfield: bitfield.bytes }
          }).then(session => {
            if (session == null) return
            fake.remote = session
            session.start()
          }, () => {})
          return client
        }
      }
    })
    return this
  }

  async peer (have: Iterable<number>, answer: Answer = honest): Promise<FakePeer> {
    const fake: FakePeer = { id: await newPeer(), have: new Set(have), answer, asked: [] }
    this.peers.set(fake.id.toString(), fake)
    return fake
  }

  /** the loop's options, with the fake peers as candidates and their answers as `get` */
  options (overrides: Partial<DownloadInit> = {}): DownloadInit {
    const store: ChunkSink = {
      has: async (cid) => [...this.stored.keys()].some(i => this.cids[i].equals(cid)),
      put: async (cid, bytes) => {
        assert.ok(chunkCid(bytes).equals(cid), 'only verified chunks reach the store')
        const i = this.cids.findIndex(c => c.equals(cid))
        assert.equal(this.stored.has(i), false, `piece ${i} stored twice`)
        this.stored.set(i, bytes)
        return true
      }
    }
    return {
      swarm: this.swarm,
      store,
      get: (peer, cids, signal) => {
        const fake = this.peers.get(peer.toString())!
        fake.asked.push({ pieces: cids.map(c => this.cids.indexOf(c)), at: Date.now(), signal })
        return this.recordSender(fake, fake.answer(cids, signal, fake, this))
      },
      isBadData: (err) => err instanceof WrongChunkError,
      candidates: () => [...this.peers.values()].map(p => p.id),
      log: captureLogger(this.lines).logger,
      onProgress: (held, total) => { this.progress.push([held, total]) },
      idleMs: 5_000,
      requestTimeoutMs: 10_000,
      signal: this.controller.signal,
      ...overrides
    }
  }

  /** the first peer to send each piece is the one whose copy is stored */
  private async * recordSender (fake: FakePeer, chunks: AsyncIterable<FetchedChunk>): AsyncIterable<FetchedChunk> {
    for await (const chunk of chunks) {
      const i = this.cids.indexOf(chunk.cid)
      if (!this.from.has(i)) this.from.set(i, fake.id.toString())
      yield chunk
    }
  }

  /** ends the download and every session, both sides */
  close (): void {
    this.controller.abort(new Error('test over'))
    this.swarm.close()
    for (const p of this.peers.values()) p.remote?.close()
  }

  get piecesIndexes (): number[] {
    return Array.from({ length: this.count }, (_, i) => i)
  }
}

/** answers with every asked piece it holds, in order; a piece it lacks is left out (NOT_FOUND) */
const honest: Answer = async function * (cids, _signal, peer, scenario) {
  for (const cid of cids) {
    const i = scenario.cids.findIndex(c => c.equals(cid))
    if (peer.have.has(i)) yield { cid, bytes: scenario.chunks[i] }
  }
}

/** never answers; ends when the loop aborts the request */
const silent: Answer = async function * (_cids, signal) {
  await new Promise((_resolve, reject) => { signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true }) })
}

async function scenario (count: number, peers: Array<{ have: Iterable<number>, answer?: Answer }>): Promise<{ s: Scenario, fakes: FakePeer[] }> {
  const s = await new Scenario(count).init()
  const fakes: FakePeer[] = []
  for (const p of peers) {
    fakes.push(await s.peer(p.have, p.answer))
  }
  return { s, fakes }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)

describe('downloadPieces', () => {
  it('fetches the pieces from several peers, each from one that holds it, and stores every one', async () => {
    const { s, fakes: [a, b] } = await scenario(12, [{ have: range(0, 6) }, { have: range(6, 12) }])
    try {
      await within(downloadPieces(s.options()), 5_000, 'the download')
      assert.deepEqual([...s.stored.keys()].sort((x, y) => x - y), s.piecesIndexes)
      for (const [i, bytes] of s.stored) assert.deepEqual(bytes, s.chunks[i])
      assert.ok(s.swarm.held.complete)
      for (const i of range(0, 6)) assert.equal(s.from.get(i), a.id.toString(), `piece ${i} from a`)
      for (const i of range(6, 12)) assert.equal(s.from.get(i), b.id.toString(), `piece ${i} from b`)
      assert.ok(a.asked.every(r => r.pieces.every(i => i < 6)), 'a is asked only for what it holds')
      assert.ok(b.asked.every(r => r.pieces.every(i => i >= 6)), 'b is asked only for what it holds')
      assert.ok(a.asked.concat(b.asked).every(r => r.pieces.length <= 3), 'at most 3 pieces a request')
      assert.deepEqual(s.progress.at(-1), [12, 12])
      assert.equal(s.progress.length, 12)
      assert.equal(s.swarm.listener, undefined, 'the swarm is free for the next download')
    } finally {
      s.close()
    }
  })

  it('returns at once for a release held in full, and refuses a second download of a release under way', async () => {
    const done = await scenario(2, [])
    done.s.swarm.held.set(0)
    done.s.swarm.held.set(1)
    await within(downloadPieces(done.s.options({ candidates: () => assert.fail('no peer is looked for') })), 500, 'a held release')

    const { s, fakes: [hung] } = await scenario(3, [{ have: [0, 1, 2], answer: silent }])
    try {
      const controller = new AbortController()
      const running = downloadPieces(s.options({ signal: controller.signal }))
      await waitFor('a request', () => hung.asked.length > 0, 3_000, 10)
      await assert.rejects(downloadPieces(s.options()), /already being fetched/)
      controller.abort(new Error('test over'))
      await within(assert.rejects(running, /test over/), 1_000, 'the first download to stop')
    } finally {
      s.close()
    }
  })

  it('drops a peer that sends a wrong chunk at once, and fetches the rest from the others', async () => {
    const wrong: Answer = async function * () {
      throw new WrongChunkError('chunk does not hash to its CID')
    }
    // the good peer answers each chunk a little later, so the download is under way when the wrong chunk comes
    const slowly: Answer = async function * (cids, signal, peer, scenario) {
      for await (const chunk of honest(cids, signal, peer, scenario)) {
        await new Promise(resolve => setTimeout(resolve, 5))
        yield chunk
      }
    }
    const { s, fakes: [bad, good] } = await scenario(12, [{ have: range(0, 12), answer: wrong }, { have: range(0, 12), answer: slowly }])
    try {
      // in the swarm first, so it is asked first
      assert.equal(await s.swarm.connect(bad.id), true)
      const base = captureLogger(s.lines).logger
      let askedAtDrop = -1
      const log = Object.assign((format: any, ...args: any[]) => {
        if (String(format).startsWith('dropping')) askedAtDrop = bad.asked.length
        base(format, ...args)
      }, base)
      await within(downloadPieces(s.options({ log })), 5_000, 'the download')
      assert.deepEqual([...s.stored.keys()].sort((x, y) => x - y), s.piecesIndexes)
      assert.ok([...s.from.values()].every(p => p === good.id.toString()), 'every piece from the good peer')
      assert.ok(bad.asked.length > 0, 'the bad peer was asked')
      assert.ok(s.lines.some(l => l.startsWith('dropping') && l.includes('chunk does not hash')), s.lines.join('\n'))
      assert.deepEqual(s.lines.filter(l => /chunk request to .* failed/.test(l)), [], 'dropped at its first wrong chunk, not counted as a failure to retry')
      assert.equal(bad.asked.length, askedAtDrop, 'not asked again once dropped')
    } finally {
      s.close()
    }
  })

  it('asks another peer for a piece whose request overran its deadline', async () => {
    // slow says it holds piece 0 and never answers; fast holds every piece but the last, which
    // nobody has yet (so no end-game copies): only the stall can get piece 0 from fast
    const last = 7
    const { s, fakes: [slow, fast] } = await scenario(8, [{ have: [0], answer: silent }, { have: range(0, last) }])
    try {
      assert.equal(await s.swarm.connect(slow.id), true)
      const download = downloadPieces(s.options())
      await waitFor('piece 0 from the fast peer', () => s.stored.has(0), 4_000, 10)
      assert.equal(s.from.get(0), fast.id.toString())
      assert.equal(slow.asked.length, 1)
      assert.deepEqual(slow.asked[0].pieces, [0])
      const second = fast.asked.find(r => r.pieces.includes(0))!
      const waited = second.at - slow.asked[0].at
      assert.ok(waited >= 1_900, `asked again after ${waited} ms, not at the deadline (about 2 s for a piece this small)`)
      // the first copy wins: the stalled request is cancelled once its pieces arrived from elsewhere
      await waitFor('the stalled request to be cancelled', () => slow.asked[0].signal.aborted, 1_000, 10)
      // the last piece appears: fast announces it, and the download completes
      fast.have.add(last)
      fast.remote!.announce(last)
      await within(download, 3_000, 'the download')
      assert.ok(s.swarm.held.complete)
      assert.equal(slow.asked.length, 1, 'the slow peer is not asked again')
    } finally {
      s.close()
    }
  })

  it('a peer that lacks a piece it announced (NOT_FOUND) no longer counts for it; the piece comes from another', async () => {
    const liar: Answer = async function * () {}
    const { s, fakes: [claims, holds] } = await scenario(6, [{ have: range(0, 6), answer: liar }, { have: range(0, 6) }])
    try {
      await within(downloadPieces(s.options()), 5_000, 'the download')
      assert.ok(s.swarm.held.complete)
      assert.ok([...s.from.values()].every(p => p === holds.id.toString()))
      const asked = claims.asked.flatMap(r => r.pieces)
      assert.ok(asked.length > 0)
      const view = s.swarm.peers.get(claims.id.toString())?.have
      for (const i of asked) assert.equal(view?.has(i), false, `piece ${i} no longer counted as held by the peer`)
    } finally {
      s.close()
    }
  })

  it('fails with ChunksUnavailableError when nothing is in flight and nothing arrives for idleMs', async () => {
    const { s } = await scenario(4, [])
    try {
      const started = Date.now()
      const err = await within(downloadPieces(s.options({ idleMs: 300 })).then(() => assert.fail('resolved'), (e: Error) => e), 3_000, 'the failure')
      const took = Date.now() - started
      assert.equal(err.name, 'ChunksUnavailableError')
      assert.match(err.message, /4 of 4 chunks/)
      assert.ok(took >= 300 && took < 1_500, `failed after ${took} ms`)
      assert.equal(s.swarm.listener, undefined)
    } finally {
      s.close()
    }
  })

  it('does not give up while a request is in flight; the abort signal stops it and ends the requests', async () => {
    const { s, fakes: [hung] } = await scenario(4, [{ have: range(0, 4), answer: silent }])
    try {
      const controller = new AbortController()
      const download = downloadPieces(s.options({ idleMs: 300, signal: controller.signal }))
      let outcome: unknown = 'running'
      download.then(() => { outcome = 'resolved' }, (err) => { outcome = err })
      await waitFor('a request', () => hung.asked.length > 0, 3_000, 10)
      await new Promise(resolve => setTimeout(resolve, 900))
      assert.equal(outcome, 'running', 'a request in flight is not idleness')
      const reason = new Error('node stopping')
      controller.abort(reason)
      const err = await within(download.then(() => assert.fail('resolved'), (e: unknown) => e), 1_000, 'the download to stop')
      assert.equal(err, reason)
      assert.ok(hung.asked.every(r => r.signal.aborted), 'every request in flight is aborted')
      assert.equal(s.swarm.listener, undefined)
      assert.equal(s.stored.size, 0)
    } finally {
      s.close()
    }
  })

  it('a signal already aborted when the download starts stops it before any peer is asked', async () => {
    // the follower's stop() can land while Swarm.fetch is still opening the release's swarm
    const { s, fakes: [peer] } = await scenario(4, [{ have: range(0, 4) }])
    try {
      const controller = new AbortController()
      const reason = new Error('node stopping')
      controller.abort(reason)
      const outcome = await within(downloadPieces(s.options({ signal: controller.signal })).then(() => 'resolved', (e: unknown) => e), 2_000, 'the download to end')
      assert.equal(outcome, reason, 'rejects with the abort reason')
      assert.deepEqual(peer.asked, [], 'no peer is asked')
      assert.equal(s.stored.size, 0, 'nothing is stored')
    } finally {
      s.close()
    }
  })

  it('reads the next chunks of a request while one is written, and counts a piece held only once it is stored', async () => {
    const { s, fakes: [peer] } = await scenario(3, [{ have: range(0, 3) }])
    const sent: number[] = []
    // the peer's answers, as they are taken from it
    peer.answer = async function * (cids, _signal, _peer, scenario) {
      for (const cid of cids) {
        sent.push(scenario.cids.findIndex(c => c.equals(cid)))
        yield { cid, bytes: scenario.chunks[scenario.cids.findIndex(c => c.equals(cid))] }
      }
    }
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    const base = s.options()
    const writes: number[] = []
    try {
      const running = downloadPieces({
        ...base,
        store: {
          has: base.store.has,
          // every write waits for the gate: a disk busy with its fsyncs
          put: async (cid, bytes, options) => {
            writes.push(s.cids.findIndex(c => c.equals(cid)))
            await gate
            return await base.store.put(cid, bytes, options)
          }
        }
      })
      await waitFor('all three chunks taken from the peer', () => sent.length === 3, 3_000, 10)
      await waitFor('three writes started', () => writes.length === 3, 1_000, 10)
      assert.equal(s.swarm.held.count, 0, 'nothing counts as held before its write ended')
      assert.deepEqual(s.progress, [])
      release()
      await within(running, 3_000, 'the download')
      assert.ok(s.swarm.held.complete)
      assert.deepEqual([...s.stored.keys()].sort(), [0, 1, 2])
    } finally {
      release()
      s.close()
    }
  })
})
