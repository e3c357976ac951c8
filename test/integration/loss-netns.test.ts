/**
 * A swarm transfer over lossy links: four followers and a publisher, each on
 * its own host namespace (16 Mbit/s links). The same kind of release (4 MiB
 * of fresh pseudo-random data) is published twice: once on clean links, then
 * with 5 % of the packets arriving at every host dropped at random
 * (`iptables -A INPUT -m statistic --mode random --probability 0.05 -j DROP`
 * in each namespace). Every follower holds both releases with every chunk
 * verified against its CID and every file rebuilt byte for byte. Prints the
 * time each took and their ratio (target: at most 2x; asserted only loosely).
 *
 * Needs root, `ip netns`, `tc` and iptables (skipped otherwise, with the
 * reason). UMESH_FAULT_LOGS=DIR keeps every daemon's output.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { pseudoRandomBytes } from '../../src/util/pseudo-random.js'
import { waitFor } from '../helpers/cli.js'
import { NsFleet } from '../helpers/netns-fleet.js'
import { hostExec, iptablesSkipReason, skipReason } from '../helpers/netns.js'
import { assertHoldsContent, publishRelease, verifiedChunks } from '../helpers/swarm-release.js'
import type { Release } from '../helpers/swarm-release.js'

const MiB = 1024 * 1024
const FOLLOWERS = 4
const LOSS = 0.05
/** a lossy transfer may take this many times the clean one before the test fails (the target is 2) */
const RATIO_LIMIT = 6

const skip = skipReason() ?? iptablesSkipReason()
if (skip != null) console.log(`skipping the packet-loss network-namespace test: ${skip}`)

describe('a swarm transfer with 5 % packet loss', { skip: skip ?? false, timeout: 300_000 }, () => {
  const fleet = new NsFleet({ prefix: 'umesh-loss-', nodes: FOLLOWERS, install: false })

  before(async () => {
    await fleet.start()
    await waitFor('every follower holding app 1.0.0', () => fleet.nodes.every(n => n.held().includes('releases/app/1.0.0.json')), 90_000, 200)
      .catch(err => { throw new Error(`${(err as Error).message}\n${fleet.describe()}`) })
  })

  after(async () => {
    await fleet.stop()
  })

  /** publishes 4 MiB of fresh data as `version`; the time until every follower holds it, each chunk verified */
  const transfer = async (version: string, seed: number): Promise<{ release: Release, ms: number }> => {
    const release = await publishRelease(fleet.repoDir, fleet.tmp.path, 'app', version, {
      'data/a.bin': pseudoRandomBytes(3 * MiB, seed),
      'data/b.bin': pseudoRandomBytes(1 * MiB, seed + 1)
    })
    const started = Date.now()
    await waitFor(`every follower holding app ${version}`, () => fleet.nodes.every(n => n.held().includes(release.targetPath)), 150_000, 100)
      .catch(err => { throw new Error(`${(err as Error).message}\n${fleet.describe()}\n${fleet.nodes.map(n => n.tail(2000)).join('\n')}`) })
    const ms = Date.now() - started
    for (const n of fleet.nodes) {
      const chunks = verifiedChunks(n.chunksDir, release)
      assert.deepEqual(chunks.bad, [], `${n.name} stored no chunk that fails its CID`)
      assert.equal(chunks.count, release.pieces.length, `${n.name} holds every chunk of ${version}, verified`)
      assertHoldsContent(n, release)
    }
    return { release, ms }
  }

  it('every follower completes with every chunk verified; the time against a loss-free run is printed', async (t) => {
    const clean = await transfer('1.1.0', 31)
    for (const host of fleet.hosts) {
      hostExec(host, 'iptables', ['-A', 'INPUT', '-m', 'statistic', '--mode', 'random', '--probability', String(LOSS), '-j', 'DROP'])
    }
    let lossy
    try {
      lossy = await transfer('1.2.0', 41)
    } finally {
      for (const host of fleet.hosts) hostExec(host, 'iptables', ['-F', 'INPUT'])
    }
    const ratio = lossy.ms / clean.ms
    const line = `${FOLLOWERS} followers, ${(clean.release.bytes / MiB).toFixed(2)} / ${(lossy.release.bytes / MiB).toFixed(2)} MiB: clean ${clean.ms} ms, ${LOSS * 100} % loss ${lossy.ms} ms, ratio ${ratio.toFixed(2)} (target <= 2)`
    t.diagnostic(line)
    console.log(`# loss: ${line}`)
    assert.ok(ratio < RATIO_LIMIT, `a lossy transfer took less than ${RATIO_LIMIT}x the clean one: ${line}`)
  })
})
