/**
 * The data dir: where each file lives, files read back by their sha256,
 * `held.json`, and what the CLI reads without the daemon (the trusted state
 * tuf-js left in `tuf/metadata`, the verified indexes in `tuf/targets`).
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Updater } from 'tuf-js'
import {
  dataPaths, defaultInstallRoot, HeldReleases, NoTrustedStateError, parseFollow, readByHash, readHeldFile,
  readLocalIndex, readLocalState, targetFile
} from '../../../src/data-dir/index.js'
import { Repository } from '../../../src/trust/repository.js'
import { DirectoryFetcher } from '../../helpers/dir-fetcher.js'
import { tempDir } from '../../helpers/cli.js'
import { addTreeRelease, repoTimestamp, signedBytes, signedHash, signedIndex } from '../../helpers/release-repo.js'
import type { DataPaths } from '../../../src/data-dir/index.js'

const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex')

describe('data dir layout', () => {
  it('puts every file under the root, targets named <sha256>.<kind>.json', () => {
    const p = dataPaths('/d')
    assert.deepEqual(
      [p.identity, p.lock, p.daemonInfo, p.datastore, p.clock, p.config, p.bootstrap, p.tufMetadata, p.tufMirror, p.tufTargets, p.chunks, p.held, p.controlSocket, p.backupKey, p.installs],
      ['/d/identity.json', '/d/daemon.lock', '/d/daemon.json', '/d/datastore', '/d/clock.json', '/d/config.json', '/d/bootstrap.json', '/d/tuf/metadata', '/d/tuf/mirror', '/d/tuf/targets', '/d/chunks', '/d/held.json', '/d/control.sock', '/d/backup.key', '/d/installs'])
    assert.equal(targetFile(p, 'ab'.repeat(32), 'index'), `/d/tuf/targets/${'ab'.repeat(32)}.index.json`)
    assert.equal(targetFile(p, 'ab'.repeat(32), 'rollout'), `/d/tuf/targets/${'ab'.repeat(32)}.rollout.json`)
    assert.equal(defaultInstallRoot(p, 'app'), '/d/installs/app')
  })
})

describe('readByHash', () => {
  const tmp = tempDir('umesh-by-hash-')
  after(() => { tmp.remove() })
  const content = 'the signed bytes\n'
  const hash = sha256(content)
  const file = join(tmp.path, `${hash}.index.json`)
  writeFileSync(file, content)

  it('returns the bytes of a file that hashes to its name', () => {
    assert.equal(Buffer.from(readByHash(file, hash)!).toString(), content)
  })

  it('returns undefined for an absent file', () => {
    assert.equal(readByHash(join(tmp.path, 'absent.json'), hash), undefined)
  })

  it('throws HashMismatchError naming the file when the bytes changed', () => {
    const changed = join(tmp.path, 'changed.json')
    writeFileSync(changed, content.replace('signed', 'forged'))
    assert.throws(() => readByHash(changed, hash), (err: any) => {
      assert.equal(err.name, 'HashMismatchError')
      assert.equal(err.file, changed)
      assert.equal(err.expected, hash)
      assert.ok(err.message.includes(changed), err.message)
      assert.match(err.message, /Delete it/)
      return true
    })
  })

  it('refuses a name that is not 64 lowercase hex digits, even for a file that does not exist', () => {
    for (const bad of ['abc', hash.toUpperCase(), `${hash}0`, '../' + hash.slice(3), '']) {
      assert.throws(() => readByHash(file, bad), (err: any) => err.name === 'HashMismatchError', JSON.stringify(bad))
      assert.throws(() => readByHash(join(tmp.path, 'absent.json'), bad), (err: any) => err.name === 'HashMismatchError', JSON.stringify(bad))
    }
  })
})

describe('held.json', () => {
  const tmp = tempDir('umesh-held-')
  after(() => { tmp.remove() })

  it('a missing file is an empty held set', () => {
    const file = join(tmp.path, 'missing.json')
    assert.deepEqual(readHeldFile(file), { releases: [], follow: [] })
    const held = new HeldReleases(file, [])
    assert.deepEqual(held.list(), [])
    assert.equal(held.has('releases/app/1.0.0.json'), false)
  })

  it('adds releases once, oldest first, writes them through with the followed packages, and a reload reads them back', () => {
    const file = join(tmp.path, 'held.json')
    const follow = parseFollow(['app', 'tool@beta'])
    assert.deepEqual(follow, [{ package: 'app', channel: 'stable' }, { package: 'tool', channel: 'beta' }])
    const held = new HeldReleases(file, follow)
    held.add('releases/app/1.1.0.json')
    held.add('releases/app/1.0.0.json')
    held.add('releases/app/1.1.0.json')
    assert.deepEqual(held.list(), ['releases/app/1.1.0.json', 'releases/app/1.0.0.json'])
    assert.deepEqual(readHeldFile(file), { releases: ['releases/app/1.1.0.json', 'releases/app/1.0.0.json'], follow: ['app@stable', 'tool@beta'] })
    const reloaded = new HeldReleases(file, follow)
    assert.ok(reloaded.has('releases/app/1.0.0.json'))
    assert.deepEqual(reloaded.list(), held.list())
    reloaded.add('releases/tool/0.1.0-beta.1.json')
    assert.deepEqual(readHeldFile(file).releases, ['releases/app/1.1.0.json', 'releases/app/1.0.0.json', 'releases/tool/0.1.0-beta.1.json'])
  })

  it('keeps only the strings of a hand-edited file', () => {
    const file = join(tmp.path, 'edited.json')
    writeFileSync(file, JSON.stringify({ releases: ['releases/app/1.0.0.json', 7, null], follow: 'app' }))
    assert.deepEqual(readHeldFile(file), { releases: ['releases/app/1.0.0.json'], follow: [] })
  })
})

describe('readLocalState and readLocalIndex', () => {
  const tmp = tempDir('umesh-local-state-')
  const repoDir = join(tmp.path, 'repo')
  let paths: DataPaths
  after(() => { tmp.remove() })

  before(async () => {
    const repo = Repository.init(repoDir)
    // added out of order, two packages, versions that sort differently as text
    await addTreeRelease(repo, tmp.path, 'lib', '0.1.0', 1024)
    await addTreeRelease(repo, tmp.path, 'app', '1.10.0', 1024)
    await addTreeRelease(repo, tmp.path, 'app', '1.2.0', 1024)
    await addTreeRelease(repo, tmp.path, 'app', '1.9.0-beta.1', 1024)
    repo.addTargets([{ path: 'notes/readme.json', bytes: Buffer.from('{}') }])
    paths = dataPaths(join(tmp.path, 'node'))
  })

  it('throws NoTrustedStateError when the node trusts no root yet', () => {
    assert.throws(() => readLocalState(paths), (err: any) => {
      assert.equal(err.name, 'NoTrustedStateError')
      assert.ok(err instanceof NoTrustedStateError)
      assert.match(err.message, /--trusted-root/)
      return true
    })
  })

  it('lists the trusted releases sorted by package then version, with held flags and the timestamp', async () => {
    // the trusted state as tuf-js leaves it, from a real refresh
    mkdirSync(paths.tufMetadata, { recursive: true })
    copyFileSync(join(repoDir, 'metadata', '1.root.json'), join(paths.tufMetadata, 'root.json'))
    const rootOnly = readLocalState(paths)
    assert.deepEqual([rootOnly.releases, rootOnly.timestampVersion, rootOnly.timestampExpires], [[], 0, null])
    const updater = new Updater({ metadataDir: paths.tufMetadata, metadataBaseUrl: 'file://r/metadata', targetDir: paths.tufTargets, targetBaseUrl: 'file://r/targets', fetcher: new DirectoryFetcher(repoDir) })
    await updater.refresh()
    new HeldReleases(paths.held, parseFollow(['app'])).add('releases/app/1.2.0.json')

    const state = readLocalState(paths)
    assert.deepEqual(state.releases.map(r => [r.package, r.version, r.channel, r.held]), [
      ['app', '1.2.0', 'stable', true],
      ['app', '1.9.0-beta.1', 'beta', false],
      ['app', '1.10.0', 'stable', false],
      ['lib', '0.1.0', 'stable', false]
    ])
    const app = state.releases[0]
    assert.equal(app.targetPath, 'releases/app/1.2.0.json')
    assert.equal(app.sha256, signedHash(repoDir, app.targetPath))
    assert.equal(app.totalSize, signedIndex(repoDir, app.targetPath).totalSize)
    assert.equal(app.scheme, 'semver')
    assert.deepEqual(state.follow, [{ package: 'app', channel: 'stable' }])
    const ts = repoTimestamp(repoDir)
    assert.equal(state.timestampVersion, ts.version)
    assert.equal(state.timestampExpires, ts.expires)
  })

  it('readLocalIndex: undefined before the index is downloaded, the index once it is, HashMismatchError once it changed', () => {
    const release = { sha256: signedHash(repoDir, 'releases/app/1.2.0.json') }
    assert.equal(readLocalIndex(paths, release), undefined)
    const bytes = signedBytes(repoDir, 'releases/app/1.2.0.json')
    mkdirSync(paths.tufTargets, { recursive: true })
    writeFileSync(targetFile(paths, release.sha256, 'index'), bytes)
    assert.deepEqual(readLocalIndex(paths, release), signedIndex(repoDir, 'releases/app/1.2.0.json'))
    writeFileSync(targetFile(paths, release.sha256, 'index'), Buffer.from(bytes.toString().replace('"1.2.0"', '"1.2.1"')))
    assert.throws(() => readLocalIndex(paths, release), (err: any) => err.name === 'HashMismatchError')
  })
})
