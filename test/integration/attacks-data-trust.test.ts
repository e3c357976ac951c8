/**
 * Attacks on what a real follower process with data trusts, from hostile
 * peers in this process that speak the real protocols: a new root signed
 * below the root threshold, and announcements with no signature or signed by
 * a key the root does not name. Each checks that the follower did not believe
 * the attacker or ignored it, that it still updates from the honest
 * publisher, and that nothing untrusted reached its trusted metadata, its
 * mirror or its chunk store. (The floods are in attacks-data-floods.test.ts;
 * each file starts a follower of its own.)
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { Metadata, MetadataKind, Root, Timestamp } from '@tufjs/models'
import { announceTopic } from '../../src/network/protocol-ids.js'
import { generateRoleKey, signWith, tufKey } from '../../src/trust/role-keys.js'
import { attackedFollower } from '../helpers/attacked-follower.js'
import { waitFor } from '../helpers/cli.js'

const NETWORK = 'umesh'

describe('data attacks on a follower', () => {
  const { tmp, repoDir, followerDir, trustedVersion, log, repo, publish, waitHolds, hostile, followerAddr, stopHostile, assertNothingUntrustedStored } = attackedFollower()

  it('does not take a new root signed by one of its two root keys, and updates from the publisher', async () => {
    const r = repo()
    const current = r.signedOf('root')
    const n = current.version as number
    const trustedRoot = Metadata.fromJSON(MetadataKind.Root, JSON.parse(readFileSync(join(repoDir, 'metadata', `${n}.root.json`), 'utf8')))
    // root N+1 that hands the timestamp role to the attacker's key
    const attacker = generateRoleKey('timestamp')
    const signed = structuredClone(current)
    signed.version = n + 1
    for (const id of signed.roles.timestamp.keyids) delete signed.keys[id]
    signed.keys[attacker.keyId] = tufKey(attacker).toJSON()
    signed.roles.timestamp.keyids = [attacker.keyId]
    const rootKeys = r.keysFor('root')
    assert.equal(rootKeys.length, 2)
    const forged = new Metadata(Root.fromJSON(signed))
    signWith(forged, [rootKeys[0]])
    // the forged root lacks only the second signature: with both, it would be a valid next root
    const control = new Metadata(Root.fromJSON(structuredClone(signed)))
    signWith(control, rootKeys)
    trustedRoot.verifyDelegate('root', control)
    assert.throws(() => { trustedRoot.verifyDelegate('root', forged) }, /root was signed by 1\/2 keys/)

    // the attacker's mirror: the repository's metadata, the forged root, and a
    // timestamp signed by the attacker's key that the forged root would make valid
    const mirror = join(tmp.path, 'evil-root-mirror')
    cpSync(join(repoDir, 'metadata'), join(mirror, 'metadata'), { recursive: true })
    writeFileSync(join(mirror, 'metadata', `${n + 1}.root.json`), JSON.stringify(forged.toJSON(), null, 1))
    const timestamp = new Metadata(Timestamp.fromJSON({ ...r.signedOf('timestamp'), version: 1_000_000 }))
    signWith(timestamp, [attacker])
    writeFileSync(join(mirror, 'metadata', 'timestamp.json'), JSON.stringify(timestamp.toJSON(), null, 1))

    const before = await trustedVersion()
    const evil = await hostile({ mirrorRoot: () => mirror, summary: () => ({ timestampVersion: 1_000_000, releases: [] }) })
    try {
      // its summary claims a much newer timestamp, so the follower syncs with it at once
      await evil.dial(followerAddr())
      const id = evil.peerId.toString()
      await waitFor('the follower not believing the hostile peer', () => new RegExp(`not believing [^\\n]*${id}[^\\n]*root was signed by 1/2 keys`).test(log()), 20_000, 200)
        .catch(err => { throw new Error(`${(err as Error).message}\nfollower log:\n${log().slice(-4000)}`) })
      const trusted = JSON.parse(readFileSync(join(followerDir, 'tuf', 'metadata', 'root.json'), 'utf8'))
      assert.equal(trusted.signed.version, n, `the trusted root stays at version ${n}`)
      assert.ok(!(attacker.keyId in trusted.signed.keys), 'the attacker\'s key is not trusted')
      assert.ok(!existsSync(join(followerDir, 'tuf', 'mirror', 'metadata', `${n + 1}.root.json`)), 'the forged root is not mirrored for other peers')
      assert.ok(await trustedVersion() >= before)
      assert.ok(await trustedVersion() < 1_000_000, 'the attacker\'s timestamp is not trusted')

      // the hostile peer stays connected; a later release comes from the publisher
      assert.ok(evil.getConnections().length > 0, 'the hostile peer is still connected')
      await publish('1.1.0', 2)
      await waitHolds('1.1.0')
      assert.equal(await trustedVersion(), r.signedOf('timestamp').version + 1, 'the follower trusts the publisher\'s newest timestamp')
      assert.equal(JSON.parse(readFileSync(join(followerDir, 'tuf', 'metadata', 'root.json'), 'utf8')).signed.version, n)
      assertNothingUntrustedStored()
    } finally {
      await stopHostile(evil)
    }
  })

  it('ignores announcements with no signature or signed by a key the root does not name', async () => {
    const evil = await hostile()
    try {
      evil.services.pubsub.subscribe(announceTopic(NETWORK))
      await evil.dial(followerAddr())
      await waitFor('the hostile peer in the follower\'s announce mesh', () => evil.services.pubsub.getSubscribers(announceTopic(NETWORK)).length > 0, 20_000, 200)
      const before = await trustedVersion()
      const id = evil.peerId.toString()
      const ignored = (): number => log().split('\n').filter(l => l.includes(`ignoring announcement from ${id}: signed by keys this node does not trust`)).length
      const newer = { ...repo().signedOf('timestamp'), version: before + 1000 }

      const unsigned = { signed: newer, signatures: [] }
      await evil.services.pubsub.publish(announceTopic(NETWORK), Buffer.from(JSON.stringify(unsigned)))
      await waitFor('the unsigned announcement ignored', () => ignored() >= 1, 10_000, 100)

      const stranger = generateRoleKey('timestamp')
      const wrongKey = new Metadata(Timestamp.fromJSON({ ...newer, version: before + 2000 }))
      signWith(wrongKey, [stranger])
      await evil.services.pubsub.publish(announceTopic(NETWORK), Buffer.from(JSON.stringify(wrongKey.toJSON())))
      await waitFor('the announcement signed by an unknown key ignored', () => ignored() >= 2, 10_000, 100)

      await new Promise(resolve => setTimeout(resolve, 1_000))
      assert.equal(await trustedVersion(), before, 'the trusted timestamp version does not change')
      assert.doesNotMatch(log(), new RegExp(`rejecting announcement from ${id}`), 'neither claims the trusted keys, so neither is rejected as forged')
      assertNothingUntrustedStored()
    } finally {
      await stopHostile(evil)
    }
  })
})
