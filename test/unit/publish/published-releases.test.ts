/**
 * A publisher's releases as the mesh sees them, read from a real repository:
 * the sync summary, the trusted state announcements are judged against, the
 * pieces of a release by the CID of its index (only this repository's, only
 * while the file still hashes to its signed sha256), and the status report.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { chunkCid } from '../../../protocols/shared/index.js'
import { PublishedReleases } from '../../../src/publish/index.js'
import { piecesOf } from '../../../src/swarm/index.js'
import { Repository, targetFilePath } from '../../../src/trust/repository.js'
import { tempDir } from '../../helpers/cli.js'
import { addTreeRelease, repoTimestamp, signedBytes, signedHash, signedIndex } from '../../helpers/release-repo.js'

describe('PublishedReleases', () => {
  const tmp = tempDir('umesh-published-')
  const repoDir = join(tmp.path, 'repo')
  let repo: Repository
  let releases: PublishedReleases
  before(async () => {
    repo = Repository.init(repoDir)
    await addTreeRelease(repo, tmp.path, 'app', '1.0.0', 600 * 1024)
    await addTreeRelease(repo, tmp.path, 'app', '1.1.0-beta.1')
    releases = new PublishedReleases(repoDir)
  })
  after(() => { tmp.remove() })

  it('summary(): the timestamp version and every release target path', () => {
    assert.deepEqual(releases.summary(), { timestampVersion: repoTimestamp(repoDir).version, releases: ['releases/app/1.0.0.json', 'releases/app/1.1.0-beta.1.json'] })
    assert.equal(releases.mirrorRoot(), repoDir)
  })

  it('trusted(): the repository\'s own root and timestamp version', () => {
    const trusted = releases.trusted()
    assert.deepEqual(trusted.root.signed.toJSON(), JSON.parse(readFileSync(join(repoDir, 'metadata', '1.root.json'), 'utf8')).signed)
    assert.equal(trusted.timestampVersion, repoTimestamp(repoDir).version)
  })

  it('piecesOf(): a published index\'s pieces by its CID; undefined for any other CID', async () => {
    const path = 'releases/app/1.0.0.json'
    const pieces = await releases.piecesOf(chunkCid(signedBytes(repoDir, path)))
    assert.ok(pieces != null)
    const expected = piecesOf(signedIndex(repoDir, path).files)
    assert.ok(expected.cids.length > 2, 'a release of several pieces')
    assert.deepEqual(pieces.cids.map(String), expected.cids.map(String))
    assert.deepEqual(pieces.sizes, expected.sizes)
    assert.equal(await releases.piecesOf(chunkCid(new TextEncoder().encode('no such index'))), undefined)
    // a chunk of a release is not a release
    assert.equal(await releases.piecesOf(expected.cids[0]), undefined)
  })

  it('piecesOf(): a release added later is found once the timestamp changes', async () => {
    const catalog = new PublishedReleases(repoDir)
    assert.equal(await catalog.piecesOf(chunkCid(new TextEncoder().encode('warm the cache'))), undefined)
    const added = await addTreeRelease(Repository.open(repoDir), tmp.path, 'tool', '0.1.0')
    const pieces = await catalog.piecesOf(chunkCid(signedBytes(repoDir, added.targetPath)))
    assert.deepEqual(pieces?.cids.map(String), piecesOf(added.index.files).cids.map(String))
  })

  it('piecesOf(): undefined for an index file changed on disk', async () => {
    const path = 'releases/app/1.1.0-beta.1.json'
    const bytes = signedBytes(repoDir, path)
    const catalog = new PublishedReleases(repoDir)
    assert.ok(await catalog.piecesOf(chunkCid(bytes)) != null)
    writeFileSync(join(repoDir, 'targets', targetFilePath(path, signedHash(repoDir, path))), Buffer.from(bytes.toString().replace('"1.1.0-beta.1"', '"1.1.0-beta.2"')))
    assert.equal(await catalog.piecesOf(chunkCid(bytes)), undefined)
  })

  it('report(): every release as held, in publisher mode', () => {
    const report = new PublishedReleases(repoDir).report()
    const app = signedIndex(repoDir, 'releases/app/1.0.0.json')
    assert.deepEqual(report.releases.find(r => r.version === '1.0.0'), { package: 'app', version: '1.0.0', channel: 'stable', state: 'held', chunksHeld: 0, chunksTotal: 0, bytesTotal: BigInt(app.totalSize), error: '' })
    assert.deepEqual(report.releases.map(r => `${r.package} ${r.version} ${r.channel}`), ['app 1.0.0 stable', 'app 1.1.0-beta.1 beta', 'tool 0.1.0 stable'])
    assert.deepEqual(report.trust, { mode: 'publisher', timestampVersion: repoTimestamp(repoDir).version, stale: false, error: '', lastRefreshMs: 0n })
  })
})
