/**
 * The registry of release swarms: idle swarms (no download, no session,
 * unused for a while) are dropped by the sweep, so a node that served or
 * fetched many releases does not keep every piece list; a swarm in use is
 * kept, and at most MAX_RELEASES are kept whatever their age.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Bitfield, chunkCid } from '../../../protocols/shared/index.js'
import { ReleaseSwarm } from '../../../src/swarm/release-swarm.js'
import { IDLE_MS, MAX_RELEASES, ReleaseSwarms } from '../../../src/swarm/release-swarms.js'
import { captureLogger } from '../../helpers/capture-logger.js'
import type { PeerId } from '@libp2p/interface'

async function swarmOf (self: PeerId, name: string): Promise<ReleaseSwarm> {
  const cids = [0, 1, 2].map(i => chunkCid(new TextEncoder().encode(`${name} piece ${i}`)))
  return new ReleaseSwarm({
    release: chunkCid(new TextEncoder().encode(`${name} index`)),
    pieces: { cids, sizes: [10, 10, 10] },
    held: new Bitfield(3),
    self,
    network: 'test',
    log: captureLogger().logger,
    opener: { dialProtocol: async () => { throw new Error('no dial in this test') } }
  })
}

describe('release swarms', () => {
  it('drops a swarm with no download and no session once it has been idle long enough, and only then', async () => {
    const self = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const swarms = new ReleaseSwarms()
    const idle = await swarmOf(self, 'idle')
    const fetching = await swarmOf(self, 'fetching')
    const recent = await swarmOf(self, 'recent')
    for (const s of [idle, fetching, recent]) swarms.add(s)
    const now = Date.now()
    idle.lastUsed = now - IDLE_MS - 1
    fetching.lastUsed = now - IDLE_MS - 1
    fetching.listener = { peerJoined: () => {}, peerHas: () => {}, peerLeft: () => {} }
    recent.lastUsed = now - IDLE_MS + 60_000
    assert.equal(swarms.sweep(now), 1)
    assert.equal(swarms.get(idle.key), undefined, 'the idle swarm is gone')
    assert.equal(swarms.get(fetching.key), fetching, 'a download keeps its swarm')
    assert.equal(swarms.get(recent.key), recent)
    assert.equal(swarms.sweep(now + 60_000), 1, 'the recent one goes when its time comes')
    assert.deepEqual(swarms.stats(), { releases: 1, sessions: 0 })
    swarms.closeAll()
  })

  it('keeps at most MAX_RELEASES, dropping the least recently used idle ones', async () => {
    const self = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const swarms = new ReleaseSwarms()
    const all: ReleaseSwarm[] = []
    for (let i = 0; i < MAX_RELEASES + 2; i++) {
      const s = await swarmOf(self, `r${i}`)
      s.lastUsed = i
      all.push(s)
      swarms.add(s)
    }
    assert.equal(swarms.stats().releases, MAX_RELEASES)
    assert.equal(swarms.get(all[0].key), undefined)
    assert.equal(swarms.get(all[1].key), undefined)
    assert.equal(swarms.get(all.at(-1)!.key), all.at(-1))
    swarms.closeAll()
  })
})
