/**
 * Attacks on a real follower process, from a hostile peer in this process
 * that speaks the real protocols: forged and replayed announcements, chunks
 * of the wrong content, and, from the publisher's side, key rotation and an
 * expired (frozen) timestamp. Each checks that nothing untrusted was used.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { fetchStatus } from '../../protocols/status/index.js'
import { defaults } from '../../src/config/index.js'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { LocalMesh, MeshProcess } from '../../src/demo/local-mesh.js'
import { announceTopic } from '../../src/network/protocol-ids.js'
import { createClientNode } from '../../src/network/client-node.js'
import { createMeshNode } from '../../src/network/create-node.js'
import { Repository } from '../../src/trust/repository.js'
import { pseudoRandomBytes as pseudoRandom } from '../../src/util/pseudo-random.js'
import { runCli, tempDir, waitFor } from '../helpers/cli.js'
import { claimsEveryPiece } from '../helpers/have-claims.js'
import type { MeshNode } from '../../src/network/create-node.js'
import type { StatusResponse } from '../../protocols/status/index.js'
import type { Libp2p } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'


describe('attacks on a follower', () => {
  const tmp = tempDir('umesh-attacks-')
  const repoDir = join(tmp.path, 'repo')
  const src = join(tmp.path, 'src')
  const mesh = new LocalMesh({ dir: join(tmp.path, 'mesh'), nodes: 0 })
  let client: Libp2p
  let publisher: MeshProcess
  let follower: MeshProcess
  let evil: MeshNode
  let firstTimestamp: Buffer
  let evilServed = 0

  const status = async (p: MeshProcess): Promise<StatusResponse> => {
    const info = readDaemonFile(p.dataDir)
    return await fetchStatus(client, info.addrs.map(a => multiaddr(a)), info.network, { signal: AbortSignal.timeout(3_000) })
  }
  const trustedVersion = async (): Promise<number> => (await status(follower)).trust?.timestampVersion ?? -1
  const holds = async (version: string): Promise<boolean> => (await status(follower)).releases.some(r => r.version === version && r.state === 'held')
  const followerArgs = (): string[] => [...mesh.nodeArgs(), '--trusted-root', join(repoDir, 'metadata', '1.root.json'), '--follow', 'app']
  const startFollower = (name: string): MeshProcess => new MeshProcess(name, 'node', join(tmp.path, 'follower'), followerArgs(), join(tmp.path, `${name}.log`), { DEBUG: 'umesh:follower,umesh:announce,umesh:swarm' })
  const publish = async (version: string, seed: number, size = 3 * 1024 * 1024): Promise<void> => {
    writeFileSync(join(src, 'data.bin'), pseudoRandom(size, seed))
    const r = await runCli(['release', 'add', src, '--repo', repoDir, '--package', 'app', '--version', version])
    assert.equal(r.code, 0, r.stderr)
  }
  const announce = async (bytes: Uint8Array): Promise<void> => {
    await evil.services.pubsub.publish(announceTopic('umesh'), bytes).catch(() => {})
  }

  before(async () => {
    client = await createClientNode()
    Repository.init(repoDir)
    firstTimestamp = readFileSync(join(repoDir, 'metadata', 'timestamp.json'))
    mkdirSync(src, { recursive: true })
    await publish('1.0.0', 1)
    await mesh.start()
    publisher = mesh.addNode('publisher', ['--repo', repoDir])
    await publisher.waitReady()
    follower = startFollower('follower')
    await follower.waitReady()
    await waitFor('the follower holding 1.0.0', async () => await holds('1.0.0'), 60_000, 500)

    // the hostile peer: real protocols, a chunk store that answers every
    // request with a valid chunk of other content, and gossip of its own
    const wrong = pseudoRandom(300_000, 999)
    const config = { ...defaults(), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, maxInboundPerIp: 1000 }
    const parts = await createMeshNode({
      config,
      role: 'node',
      privateKey: await generateKeyPair('Ed25519'),
      datastore: new MemoryDatastore(),
      version: '0.0.0-evil',
      report: () => { throw new Error('no status') },
      serve: {
        mirrorRoot: () => repoDir,
        // it claims to hold every release, as an attacker would
        summary: () => ({ timestampVersion: 1_000_000, releases: Object.keys(Repository.open(repoDir).targets()) }),
        store: { has: async () => true, get: async (_cid: CID) => { evilServed++; return wrong } } as any
      },
      swarm: claimsEveryPiece
    })
    evil = parts.node
    await evil.start()
    evil.services.pubsub.subscribe(announceTopic('umesh'))
    await evil.dial(multiaddr(readDaemonFile(follower.dataDir).addrs[0]))
  })

  after(async () => {
    await evil?.stop()
    await follower?.stop()
    await mesh.stop()
    await client?.stop()
    tmp.remove()
  })

  it('rejects a forged announcement (signed with the timestamp key id, wrong signature) and stores nothing', async () => {
    await waitFor('the hostile peer in the follower\'s announce mesh', () => evil.services.pubsub.getSubscribers(announceTopic('umesh')).length > 0, 20_000, 200)
    const before = await trustedVersion()
    const forged = JSON.parse(readFileSync(join(repoDir, 'metadata', 'timestamp.json'), 'utf8'))
    forged.signed.version += 1000
    await announce(Buffer.from(JSON.stringify(forged)))
    await waitFor('the rejection in the follower log', () => new RegExp(`rejecting announcement from ${evil.peerId.toString()}: bad timestamp signature`).test(follower.output), 10_000, 200)
    assert.equal(await trustedVersion(), before)
  })

  it('ignores a replayed older timestamp, before and after a restart', async () => {
    const before = await trustedVersion()
    assert.ok(before > 1)
    await announce(firstTimestamp)
    await new Promise(resolve => setTimeout(resolve, 1_500))
    assert.equal(await trustedVersion(), before)
    assert.equal(await follower.stop(), 0)
    follower = startFollower('follower-again')
    await follower.waitReady()
    assert.equal(await trustedVersion(), before, 'the trusted version survives a restart')
    await evil.dial(multiaddr(readDaemonFile(follower.dataDir).addrs[0]))
    await waitFor('the hostile peer in the follower\'s announce mesh', () => evil.services.pubsub.getSubscribers(announceTopic('umesh')).length > 0, 20_000, 200)
    await announce(firstTimestamp)
    await new Promise(resolve => setTimeout(resolve, 1_500))
    assert.ok(await trustedVersion() >= before, 'never goes back')
    assert.ok(await holds('1.0.0'))
  })

  it('drops a peer that serves chunks of the wrong content, and completes the release from the others', async () => {
    evilServed = 0
    // the hostile peer claims every piece in the have exchange, so the swarm asks it too
    await publish('1.1.0', 2, 16 * 1024 * 1024)
    await waitFor('the follower holding 1.1.0', async () => await holds('1.1.0'), 60_000, 500)
    assert.ok(evilServed > 0, `the hostile peer was asked for chunks; follower log:\n${follower.output.slice(-3000)}`)
    assert.match(follower.output, new RegExp(`dropping ${evil.peerId.toString()} for release`))
  })

  it('follows a rotation of the timestamp and targets keys', async () => {
    for (const role of ['timestamp', 'targets']) {
      const r = await runCli(['repo', 'rotate', '--repo', repoDir, '--role', role])
      assert.equal(r.code, 0, r.stderr)
    }
    await publish('1.2.0', 3)
    await waitFor('the follower holding 1.2.0 after the rotations', async () => await holds('1.2.0'), 60_000, 500)
  })

  it('does not believe a peer that serves a targets file the snapshot does not name (mix-and-match), and updates from others', async () => {
    // a mirror of the repository whose newest targets file is an older, validly signed one
    await publish('1.3.0', 4)
    const mirror = join(tmp.path, 'mixed')
    cpSync(repoDir, mirror, { recursive: true })
    const repo = Repository.open(repoDir)
    const newest = repo.signedOf('targets').version as number
    copyFileSync(join(mirror, 'metadata', `${newest - 1}.targets.json`), join(mirror, 'metadata', `${newest}.targets.json`))
    const liar = (await createMeshNode({
      config: { ...defaults(), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, maxInboundPerIp: 1000 },
      role: 'node',
      privateKey: await generateKeyPair('Ed25519'),
      datastore: new MemoryDatastore(),
      version: '0.0.0-liar',
      report: () => { throw new Error('no status') },
      serve: { mirrorRoot: () => mirror, summary: () => ({ timestampVersion: 1_000_000, releases: [] }), store: { has: async () => false, get: async () => { throw new Error('none') } } as any }
    })).node
    await liar.start()
    try {
      // the liar is the new node's only entry, and at first its only peer
      const args = ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--max-inbound-per-ip', '1000', '--bootstrap-peer', liar.getMultiaddrs()[0].toString(),
        '--trusted-root', join(repoDir, 'metadata', '1.root.json'), '--follow', 'app']
      const fresh = new MeshProcess('fresh', 'node', join(tmp.path, 'fresh'), args, join(tmp.path, 'fresh.log'), { DEBUG: 'umesh:follower' })
      try {
        await fresh.waitReady()
        await waitFor('the fresh node not believing the liar', () => new RegExp(`not believing [^\\n]*${liar.peerId.toString()}`).test(fresh.output), 30_000, 200)
        const info = readDaemonFile(fresh.dataDir)
        assert.ok(!(await fetchStatus(client, info.addrs.map(a => multiaddr(a)), info.network, { signal: AbortSignal.timeout(3_000) })).releases.some(r => r.state === 'held'), 'nothing held on the liar\'s word')
        // now the liar meets the publisher; the DHT leads the fresh node there
        await liar.dial(multiaddr(readDaemonFile(publisher.dataDir).addrs[0]))
        await waitFor('the fresh node holding 1.3.0 from honest peers', async () => (await fetchStatus(client, info.addrs.map(a => multiaddr(a)), info.network, { signal: AbortSignal.timeout(3_000) })).releases.some(r => r.version === '1.3.0' && r.state === 'held'), 60_000, 500)
      } finally {
        await fresh.stop()
      }
    } finally {
      await liar.stop()
    }
  })

  it('calls its metadata stale when the only timestamp to be had has expired (freeze)', async () => {
    // the publisher would re-sign at once: it is gone, and the hostile peer
    // serves the repository with a newer timestamp signed three days ago,
    // valid for one: what a frozen mirror serves
    assert.equal(await publisher.stop(), 0)
    Repository.open(repoDir).refreshTimestamp(new Date(Date.now() - 3 * 86_400_000))
    assert.equal(await follower.stop(), 0)
    follower = startFollower('follower-frozen')
    await follower.waitReady()
    await evil.dial(multiaddr(readDaemonFile(follower.dataDir).addrs[0]))
    await waitFor('status to say the metadata is stale', async () => (await status(follower)).trust?.stale === true, 30_000, 500)
      .catch(err => { throw new Error(`${(err as Error).message}\n${follower.output.slice(-2500)}`) })
    assert.ok(await holds('1.2.0'), 'what was verified before stays held')
  })
})
