/**
 * What the metrics count where it happens, on the real parts: the announce
 * component stamps an accepted announcement with its arrival time; the
 * follower measures arrival to verified metadata once per announced
 * timestamp (a real repository served over the sync protocol); a download
 * reports a peer's bad chunk and keeps the swarm's count of requests out,
 * back to zero when it ends.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Metadata, MetadataKind } from '@tufjs/models'
import { Bitfield, chunkCid } from '../../../protocols/shared/index.js'
import { syncProtocol } from '../../../protocols/sync/index.js'
import { Announcements } from '../../../src/announce/index.js'
import { dataPaths, HeldReleases } from '../../../src/data-dir/index.js'
import { FollowedReleases, Follower, NodeTrust } from '../../../src/follow/index.js'
import { announceTopic } from '../../../src/network/protocol-ids.js'
import { downloadPieces } from '../../../src/swarm/download.js'
import { ReleaseSwarm } from '../../../src/swarm/release-swarm.js'
import { Repository } from '../../../src/trust/repository.js'
import { captureLogger } from '../../helpers/capture-logger.js'
import { tempDir, waitFor } from '../../helpers/cli.js'
import { addTreeRelease, repoTimestamp } from '../../helpers/release-repo.js'
import { syncServerAndClient } from '../../helpers/sync-server.js'
import type { TimestampAnnouncement } from '../../../src/announce/index.js'
import type { FollowerComponents } from '../../../src/follow/index.js'
import type { PeerProtocols } from '../../../src/network/peer-protocols.js'
import type { SwarmPeer } from '../../../src/swarm/release-swarm.js'
import type { FetchedChunk } from '../../../src/swarm/index.js'
import type { GossipSub, Message, TopicValidatorFn } from '@libp2p/gossipsub'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Root } from '@tufjs/models'
import type { CID } from 'multiformats/cid'

const NETWORK = 'test'

describe('announcement to verified metadata', () => {
  const tmp = tempDir('umesh-metrics-latency-')
  const repoDir = join(tmp.path, 'repo')
  let server: Libp2p
  let client: Libp2p
  let keepAlive: NodeJS.Timeout

  before(async () => {
    keepAlive = setInterval(() => {}, 1000)
    Repository.init(repoDir)
    ;({ server, client } = await syncServerAndClient(NETWORK, repoDir))
  })

  after(async () => {
    clearInterval(keepAlive)
    await client?.stop()
    await server?.stop()
    tmp.remove()
  })

  it('the announce component stamps an accepted timestamp with its arrival time', async () => {
    const validators = new Map<string, TopicValidatorFn>()
    const pubsub = { topicValidators: validators, addEventListener: () => {}, removeEventListener: () => {}, subscribe: () => {}, unsubscribe: () => {} } as unknown as GossipSub
    const root = Metadata.fromJSON(MetadataKind.Root, JSON.parse(readFileSync(join(repoDir, 'metadata', '1.root.json'), 'utf8'))) as Metadata<Root>
    const component = new Announcements({ pubsub, trust: { trusted: () => ({ root, timestampVersion: 0 }) }, logger: captureLogger().components }, { network: NETWORK })
    const heard: TimestampAnnouncement[] = []
    component.on('timestamp', t => { heard.push(t) })
    component.start()
    const before = performance.now()
    const bytes = repoTimestamp(repoDir).bytes
    await validators.get(announceTopic(NETWORK))!(server.peerId, { type: 'unsigned', topic: announceTopic(NETWORK), data: bytes } as Message)
    assert.equal(heard.length, 1)
    assert.ok(heard[0].receivedAt !== undefined && heard[0].receivedAt >= before && heard[0].receivedAt <= performance.now(), String(heard[0].receivedAt))
    component.stop()
  })

  it('the follower measures each announced timestamp once, from its arrival to the refresh that verified it; rounds without an announcement measure nothing', async () => {
    const paths = dataPaths(join(tmp.path, 'node'))
    mkdirSync(paths.root, { recursive: true })
    const trust = new NodeTrust(paths)
    trust.init(join(repoDir, 'metadata', '1.root.json'))
    const releases = new FollowedReleases({ trust, paths, held: new HeldReleases(paths.held, []) })
    const announcements = new EventEmitter()
    const node = { dialProtocol: client.dialProtocol.bind(client), contentRouting: { provide: async () => {} } } as unknown as FollowerComponents['node']
    const peers = { connectedSpeaking: (p: string) => p === syncProtocol(NETWORK) ? [server.peerId] : [], speaks: () => true, on: () => {}, off: () => {} } as unknown as PeerProtocols
    const follower = new Follower({ node, releases, paths, swarm: { fetch: async () => {} }, peers, announcements: announcements as any, logger: captureLogger().components }, { network: NETWORK, follow: [], periodicMs: 60_000 })
    try {
      follower.start()
      await waitFor('the first round', () => follower.progress.lastRefresh > 0, 10_000, 20)
      follower.trigger()
      await new Promise(resolve => setTimeout(resolve, 300))
      assert.deepEqual(follower.announceLatency, { count: 0, recent: [] }, 'rounds nobody announced are not measured')

      await addTreeRelease(Repository.open(repoDir), tmp.path, 'tool', '1.0.0')
      const ts = repoTimestamp(repoDir)
      // it reached this node 1.5 s ago (the time a slow validation could take)
      const receivedAt = performance.now() - 1_500
      announcements.emit('timestamp', { from: server.peerId, version: ts.version, bytes: ts.bytes, receivedAt })
      await waitFor('the announced timestamp trusted', () => trust.timestampVersion() === ts.version, 10_000, 20)
      await waitFor('the latency measured', () => follower.announceLatency.count === 1, 5_000, 20)
      const [latency] = follower.announceLatency.recent
      assert.ok(latency >= 1.5 && latency < 10, `latency ${latency} s`)
      // the same timestamp again (a re-announcement, a second peer) and further rounds: not measured again
      announcements.emit('timestamp', { from: server.peerId, version: ts.version, bytes: ts.bytes, receivedAt: performance.now() })
      follower.trigger()
      await new Promise(resolve => setTimeout(resolve, 500))
      assert.equal(follower.announceLatency.count, 1)
      assert.equal(follower.announceLatency.recent.length, 1)
    } finally {
      follower.stop()
    }
  })
})

describe('download instrumentation', () => {
  class WrongChunkError extends Error {}

  it('a peer\'s bad chunk is reported with the peer; requests out are counted on the swarm while they run, 0 once done', async () => {
    const count = 6
    const chunks = Array.from({ length: count }, (_, i) => new TextEncoder().encode(`piece ${i} `.repeat(30)))
    const cids = chunks.map(c => chunkCid(c))
    const self = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const swarm = new ReleaseSwarm({ release: chunkCid(new Uint8Array([9])), pieces: { cids, sizes: chunks.map(c => c.byteLength) }, held: new Bitfield(count), self, opener: {} as any, network: NETWORK, log: captureLogger().logger })
    const peers: PeerId[] = []
    for (let i = 0; i < 2; i++) {
      const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      const have = new Bitfield(count)
      for (let p = 0; p < count; p++) have.set(p)
      const session = { announce: () => {}, announceFetching: () => {}, close: () => {} }
      const peer = { id, key: id.toString(), session, have, fetching: new Set<number>() } as unknown as SwarmPeer
      swarm.peers.set(peer.key, peer)
      peers.push(id)
    }
    const [bad] = peers
    const seenRequested: number[] = []
    const badData: Array<{ err: unknown, from: PeerId }> = []
    const stored = new Map<string, Uint8Array>()
    await downloadPieces({
      swarm,
      store: { has: async (cid: CID) => stored.has(cid.toString()), put: async (cid: CID, bytes: Uint8Array) => { stored.set(cid.toString(), bytes) } },
      get: async function * (peer: PeerId, asked: CID[]): AsyncIterable<FetchedChunk> {
        seenRequested.push(swarm.requested)
        await new Promise(resolve => setTimeout(resolve, 5))
        if (peer.equals(bad)) throw new WrongChunkError(`wrong bytes for ${asked[0].toString()}`)
        for (const cid of asked) yield { cid, bytes: chunks[cids.findIndex(c => c.equals(cid))] }
      },
      isBadData: err => err instanceof WrongChunkError,
      onBadData: (err, from) => { badData.push({ err, from }) },
      candidates: () => [],
      log: captureLogger().logger,
      idleMs: 5_000
    })
    assert.equal(stored.size, count)
    assert.equal(badData.length, 1, 'the bad peer is reported once, then dropped')
    assert.ok(badData[0].from.equals(bad))
    assert.ok(badData[0].err instanceof WrongChunkError)
    assert.ok(seenRequested.length > 0 && seenRequested.every(n => n >= 1), `requests out while asking: ${seenRequested.join(', ')}`)
    assert.equal(swarm.requested, 0)
  })
})
