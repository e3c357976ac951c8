/**
 * "The publisher is gone", on a real capped network (test/helpers/netns.ts:
 * one namespace per host, 16 Mbit/s each way, nothing leaves the namespaces).
 *
 * A. A publisher and four followers; the publisher is killed as soon as
 *    every piece is on some follower (its link's tx counter is printed, and
 *    how many pieces had left it when that counter passed 1.2 copies). The
 *    followers finish from each other, every chunk verified.
 * B. No publisher at all: a plain static web server (test/helpers/
 *    static-mirror.ts) serving a copy of the repository folder (metadata/,
 *    targets/, chunks/ as `release add` wrote them), and four followers
 *    started with `--mirror http://<its address>/` (the copy made by
 *    `umesh release mirror`). They take the metadata
 *    and the chunks no peer offers from the mirror, the rest from each
 *    other, and hold the release verified. The bytes from the mirror and
 *    from peers are printed.
 *
 * Needs root, `ip netns` and `tc` (skipped otherwise, with the reason).
 * PUBLISHER_GONE_LOGS=DIR keeps every process's output there.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { pseudoRandomBytes } from '../../src/util/pseudo-random.js'
import { runCli, startProcess, tempDir, waitFor } from '../helpers/cli.js'
import { hostAddr, hostNs, hostTxBytes, removeNetwork, removeStaleNamespaces, setUpNetwork, skipReason } from '../helpers/netns.js'
import { NsNode, cleanEnv } from '../helpers/netns-node.js'
import { assertHoldsContent, chunkPath, publishRelease, verifiedChunks } from '../helpers/swarm-release.js'
import type { StartedProcess } from '../helpers/cli.js'
import type { Release } from '../helpers/swarm-release.js'
import type { TestContext } from 'node:test'

const MiB = 1024 * 1024
const PUBLISHER_HOST = 0
const FOLLOWERS_A = [1, 2, 3, 4]
const MIRROR_HOST = 5
const FOLLOWERS_B = [6, 7, 8, 9]
const HOSTS = [PUBLISHER_HOST, ...FOLLOWERS_A, MIRROR_HOST, ...FOLLOWERS_B]
const MIRROR_PORT = 8080
/** the mark the publisher's link is measured against (copies of the release) */
const COPIES_BEFORE_LEAVING = 1.2

const STATIC_MIRROR_PATH = fileURLToPath(new URL('../helpers/static-mirror.js', import.meta.url))

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(2)} MiB`

const skip = skipReason()
if (skip != null) console.log(`skipping the publisher-gone network-namespace test: ${skip}`)

describe('the publisher gone: the followers finish from each other, or from a static mirror', { skip: skip ?? false, timeout: 120_000 }, () => {
  const tmp = tempDir('umesh-publisher-gone-')
  const repoDir = join(tmp.path, 'repo')
  const nodes: NsNode[] = []
  let mirror: StartedProcess | undefined
  let app: Release

  const swarmLogs = { DEBUG: 'umesh:swarm,umesh:follower,umesh:mirror' }
  const followerArgs = (): string[] => ['--trusted-root', join(repoDir, 'metadata', '1.root.json'), '--follow', 'app', '--check-interval', '5']
  const diagnostics = (list: NsNode[]): string => list.map(n => n.tail()).join('\n')

  const node = async (name: string, host: number, flags: string[], env: NodeJS.ProcessEnv = {}): Promise<NsNode> => {
    const n = await new NsNode(name, host, join(tmp.path, name), flags, env).init()
    nodes.push(n)
    return n
  }

  /** followers that know each other (and `also`) from the start */
  const followersOn = async (prefix: string, hosts: number[], extra: string[], also: NsNode[] = []): Promise<NsNode[]> => {
    const list: NsNode[] = []
    for (const host of hosts) list.push(await node(`${prefix}-${host}`, host, [], swarmLogs))
    for (const f of list) f.flags.push(...followerArgs(), ...extra, ...[...also, ...list].filter(p => p !== f).flatMap(p => ['--bootstrap-peer', p.addr]))
    return list
  }

  const holdAll = async (list: NsNode[], timeoutMs: number): Promise<void> => {
    await waitFor(`${list.map(f => f.name).join(', ')} holding app 1.0.0`, () => list.every(f => f.held().includes(app.targetPath)), timeoutMs, 100)
      .catch(err => { throw new Error(`${(err as Error).message}\n${diagnostics(list)}${mirror != null ? `\n--- mirror ---\n${mirror.output().slice(-2000)}` : ''}`) })
  }

  /** every chunk in each store hashes to its CID, and every file rebuilds to what was published */
  const assertVerified = (list: NsNode[]): void => {
    for (const f of list) {
      const chunks = verifiedChunks(f.chunksDir, app)
      assert.deepEqual(chunks.bad, [], `${f.name}: chunks that do not hash to their CID`)
      assert.equal(chunks.count, app.pieces.length, `${f.name} holds ${chunks.count} of ${app.pieces.length} chunks`)
      assertHoldsContent(f, app)
    }
  }

  before(async () => {
    removeStaleNamespaces()
    setUpNetwork(HOSTS)
    const init = await runCli(['repo', 'init', '--repo', repoDir], { env: cleanEnv() })
    assert.equal(init.code, 0, init.stderr)
    // about 4 MiB in two files: about 16 chunks
    app = await publishRelease(repoDir, tmp.path, 'app', '1.0.0', {
      'data/a.bin': pseudoRandomBytes(3 * MiB, 21),
      'data/b.bin': pseudoRandomBytes(1 * MiB, 22),
      'README.txt': Buffer.from('app 1.0.0: the publisher-gone test release\n')
    })
  })

  after(async () => {
    await Promise.all([...nodes.map(async n => { await n.stop() }), mirror?.stop(5_000)])
    const logs = process.env.PUBLISHER_GONE_LOGS
    if (logs != null && logs !== '') {
      mkdirSync(logs, { recursive: true })
      for (const n of nodes) writeFileSync(join(logs, `${n.name}.log`), n.output())
      if (mirror != null) writeFileSync(join(logs, 'mirror.log'), mirror.output())
    }
    removeNetwork()
    tmp.remove()
  })

  it('A: the publisher leaves once every piece is on some follower; four followers finish from each other', async (t: TestContext) => {
    const publisher = await node('publisher', PUBLISHER_HOST, ['--repo', repoDir, '--announce-interval', '5'])
    const followers = await followersOn('a', FOLLOWERS_A, [], [publisher])
    publisher.start()
    await publisher.ready()
    const baseline = hostTxBytes(PUBLISHER_HOST)
    for (const f of followers) f.start()
    const started = Date.now()
    let sent = 0
    let covered = 0
    /** pieces among the followers when the publisher's link passed COPIES_BEFORE_LEAVING copies */
    let coveredAtMark: number | undefined
    // it leaves as soon as every piece is on some follower: 1.2 copies on its link is no promise of that
    // (measured: one piece of 15 still only on the publisher at 1.27 copies), and the swarm often needs less
    // (every follower held the release after 1.08 copies in another run), so waiting for the mark could end the case before it began
    await waitFor('every piece of the release on some follower', () => {
      sent = hostTxBytes(PUBLISHER_HOST) - baseline
      covered = app.pieces.filter(p => followers.some(f => existsSync(chunkPath(f.chunksDir, p.cid)))).length
      if (coveredAtMark === undefined && sent >= app.bytes * COPIES_BEFORE_LEAVING) coveredAtMark = covered
      return covered === app.pieces.length
    }, 45_000, 20).catch(err => { throw new Error(`${(err as Error).message}; sent ${mib(sent)}, ${covered} pieces among the followers\n${diagnostics([publisher, ...followers])}`) })
    // whether each follower held the release when the publisher left, read before it goes: they go on fetching from each other meanwhile
    const wholeAtKill = followers.map(f => f.held().includes(app.targetPath))
    await publisher.kill()
    const gone = Date.now()
    sent = hostTxBytes(PUBLISHER_HOST) - baseline
    const heldAtKill = followers.map(f => verifiedChunks(f.chunksDir, app).count)
    t.diagnostic(`${coveredAtMark === undefined ? `the publisher's link had not carried ${COPIES_BEFORE_LEAVING} copies when every piece was among the followers` : `at ${COPIES_BEFORE_LEAVING} copies, ${coveredAtMark} of ${app.pieces.length} pieces were among the followers`}`)
    t.diagnostic(`publisher killed ${gone - started} ms after the followers started, once every piece was on some follower, its link having carried ${mib(sent)} = ${(sent / app.bytes).toFixed(2)} copies of the release (${mib(app.bytes)}, ${app.pieces.length} chunks); chunks each follower held then: ${heldAtKill.join(', ')} (${heldAtKill.reduce((a, b) => a + b, 0)} of the ${4 * app.pieces.length} needed)`)
    assert.ok(wholeAtKill.includes(false), 'every follower held the release before the publisher left: the case tests nothing')

    await holdAll(followers, 45_000)
    t.diagnostic(`all four held app 1.0.0 ${Date.now() - gone} ms after the publisher left`)
    assertVerified(followers)
    const statuses = await Promise.all(followers.map(async f => await f.status()))
    t.diagnostic(`chunk bytes each follower fetched from peers / sent to peers: ${followers.map((f, i) => `${f.name} ${mib(statuses[i].bandwidth?.downloadedBytes ?? 0)} / ${mib(statuses[i].bandwidth?.uploadedBytes ?? 0)}`).join('; ')}`)
    await Promise.all(followers.map(async f => { await f.stop() }))
  })

  it('B: no publisher, a static web server with a copy of the repository folder: four followers with --mirror hold the release', async (t: TestContext) => {
    // what an operator gives a web server: the repository's metadata/, targets/ and chunks/, never its keys
    const root = join(tmp.path, 'mirror-root')
    const exported = await runCli(['release', 'mirror', '--repo', repoDir, '--to', root, '--json'], { env: cleanEnv() })
    assert.equal(exported.code, 0, exported.stderr)
    assert.equal(existsSync(join(root, 'keys')), false, 'the keys stay out of the mirror')
    mirror = startProcess('mirror', 'ip', ['netns', 'exec', hostNs(MIRROR_HOST), process.execPath, STATIC_MIRROR_PATH, root, hostAddr(MIRROR_HOST), String(MIRROR_PORT)], { env: cleanEnv() })
    await mirror.waitForOutput(/listening on/, 10_000)
    const mirrorTx = hostTxBytes(MIRROR_HOST)
    const url = `http://${hostAddr(MIRROR_HOST)}:${MIRROR_PORT}/`
    const followers = await followersOn('b', FOLLOWERS_B, ['--mirror', url, '--mirror-after-ms', '2000'])
    const started = Date.now()
    for (const f of followers) f.start()
    await holdAll(followers, 60_000)
    t.diagnostic(`all four held app 1.0.0 ${Date.now() - started} ms after they started, with no publisher`)
    assertVerified(followers)

    const served = [...mirror.output().matchAll(/served 200 (\S+) (\d+);/g)].map(m => ({ path: m[1], bytes: Number(m[2]) }))
    const mirrorChunkBytes = served.filter(s => s.path.startsWith('/chunks/')).reduce((a, s) => a + s.bytes, 0)
    const mirrorOtherBytes = served.filter(s => !s.path.startsWith('/chunks/')).reduce((a, s) => a + s.bytes, 0)
    const statuses = await Promise.all(followers.map(async f => await f.status()))
    const fromPeers = statuses.reduce((a, s) => a + (s.bandwidth?.downloadedBytes ?? 0), 0)
    const perFollower = followers.map((f, i) => {
      const line = /held \S+ in (\d+) ms; from (.*)$/m.exec(f.output())
      return `${f.name}: peers ${mib(statuses[i].bandwidth?.downloadedBytes ?? 0)} (${line?.[2] ?? 'no summary line'})`
    })
    t.diagnostic(`from the mirror: ${mib(mirrorChunkBytes)} of chunks = ${(mirrorChunkBytes / app.bytes).toFixed(2)} copies of the release, ${mirrorOtherBytes} bytes of metadata and indexes, ${served.length} files; its link carried ${mib(hostTxBytes(MIRROR_HOST) - mirrorTx)}`)
    t.diagnostic(`from peers: ${mib(fromPeers)} of chunks = ${(fromPeers / app.bytes).toFixed(2)} copies; ${perFollower.join('; ')}`)
    // one copy from the mirror at least (nobody else had it); the followers traded the rest
    assert.ok(mirrorChunkBytes >= app.bytes, `the mirror served ${mib(mirrorChunkBytes)} of chunks, less than the one copy no peer had`)
    assert.ok(served.some(s => s.path.startsWith('/metadata/')) && served.some(s => s.path.startsWith('/targets/')), 'the metadata and the index came from the mirror')
    assert.ok(fromPeers > 0, 'the followers took nothing from each other')
    assert.equal(mirrorChunkBytes + fromPeers >= 4 * app.bytes, true, 'four copies arrived in all')
  })
})
