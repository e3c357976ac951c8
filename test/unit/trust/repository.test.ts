/**
 * The TUF repository against tuf-js's own Updater: what we write is read by
 * the reference client, including key rotations, and tampering is refused.
 */
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Updater } from 'tuf-js'
import { Repository } from '../../../src/trust/repository.js'
import { DirectoryFetcher } from '../../helpers/dir-fetcher.js'
import { tempDir } from '../../helpers/cli.js'

function client (repo: Repository, dir: string): { updater: () => Updater, fetcher: DirectoryFetcher } {
  const metadataDir = join(dir, 'metadata')
  mkdirSync(metadataDir, { recursive: true })
  mkdirSync(join(dir, 'targets'), { recursive: true })
  // the trust anchor a node is shipped with: the first root
  copyFileSync(join(repo.metadataDir, '1.root.json'), join(metadataDir, 'root.json'))
  const fetcher = new DirectoryFetcher(repo.dir)
  return {
    fetcher,
    updater: () => new Updater({ metadataDir, metadataBaseUrl: 'file://repo/metadata', targetDir: join(dir, 'targets'), targetBaseUrl: 'file://repo/targets', fetcher })
  }
}

describe('TUF repository', () => {
  const tmp = tempDir('umesh-tuf-')
  after(() => { tmp.remove() })

  it('initialises root (k of n), targets, snapshot, timestamp and a rollouts delegation; keys 0600 each in its own file', () => {
    const repo = Repository.init(join(tmp.path, 'r1'), { rootKeys: 3, rootThreshold: 2 })
    const files = readdirSync(repo.keysDir).filter(f => f.endsWith('.json'))
    assert.equal(files.filter(f => f.startsWith('root-')).length, 3)
    for (const f of files) assert.equal(statSync(join(repo.keysDir, f)).mode & 0o777, 0o600, f)
    const root = JSON.parse(readFileSync(join(repo.metadataDir, '1.root.json'), 'utf8'))
    assert.equal(root.signed.roles.root.threshold, 2)
    assert.equal(root.signed.consistent_snapshot, true)
    assert.equal(Object.keys(root.signatures).length, 3)
    assert.deepEqual(repo.status().map(s => s.role), ['root', 'targets', 'snapshot', 'timestamp', 'rollouts'])
    assert.throws(() => Repository.init(repo.dir), (err: any) => err.name === 'RepositoryError' && /already holds a repository/.test(err.message))
    assert.throws(() => Repository.init(join(tmp.path, 'bad'), { rootKeys: 2, rootThreshold: 3 }), /--root-threshold: expected 1 to 2/)
  })

  it('serves targets that tuf-js verifies and downloads', async () => {
    const repo = Repository.init(join(tmp.path, 'r2'))
    const bytes = Buffer.from(JSON.stringify({ package: 'app', version: '1.0.0' }))
    repo.addTargets([{ path: 'releases/app/1.0.0.json', bytes }])
    const { updater } = client(repo, join(tmp.path, 'c2'))
    const u = updater()
    await u.refresh()
    const info = await u.getTargetInfo('releases/app/1.0.0.json')
    assert.ok(info != null)
    assert.equal(info.length, bytes.length)
    const path = await u.downloadTarget(info, join(tmp.path, 'c2', 'got.json'))
    assert.deepEqual(readFileSync(path), bytes)
    // reopened from disk, the repository knows what it published
    assert.ok(Repository.open(repo.dir).targets()['releases/app/1.0.0.json'] != null)
  })

  it('signs rollout documents only under rollouts/, through the delegated role', async () => {
    const repo = Repository.init(join(tmp.path, 'r3'))
    repo.addTargets([{ path: 'rollouts/app.json', bytes: Buffer.from('{"wave":1}') }], 'rollouts')
    assert.throws(() => { repo.addTargets([{ path: 'releases/app/9.json', bytes: Buffer.from('x') }], 'rollouts') }, /only sign targets under rollouts\//)
    const { updater } = client(repo, join(tmp.path, 'c3'))
    const u = updater()
    await u.refresh()
    assert.ok(await u.getTargetInfo('rollouts/app.json') != null)
  })

  for (const role of ['timestamp', 'snapshot', 'targets', 'rollouts', 'root'] as const) {
    it(`rotates the ${role} key, and a client that trusted the old keys follows`, async () => {
      const repo = Repository.init(join(tmp.path, `rot-${role}`), { rootKeys: 2, rootThreshold: 2 })
      repo.addTargets([{ path: 'releases/app/1.0.0.json', bytes: Buffer.from('one') }])
      repo.addTargets([{ path: 'rollouts/app.json', bytes: Buffer.from('{}') }], 'rollouts')
      const { updater } = client(repo, join(tmp.path, `rot-c-${role}`))
      await updater().refresh()
      const before = repo.keyIdsOf(role)
      repo.rotate(role)
      assert.notDeepEqual(repo.keyIdsOf(role), before)
      assert.ok(readdirSync(join(repo.keysDir, 'retired')).length >= 1, 'old keys are retired')
      repo.addTargets([{ path: 'releases/app/2.0.0.json', bytes: Buffer.from('two') }])
      const u = updater()
      await u.refresh()
      assert.ok(await u.getTargetInfo('releases/app/2.0.0.json') != null)
      assert.ok(await u.getTargetInfo('rollouts/app.json') != null)
    })
  }

  it('refuses to sign a root without the root threshold of keys here', () => {
    const repo = Repository.init(join(tmp.path, 'r4'), { rootKeys: 2, rootThreshold: 2 })
    const rootKey = readdirSync(repo.keysDir).find(f => f.startsWith('root-')) as string
    mkdirSync(join(tmp.path, 'offline'))
    copyFileSync(join(repo.keysDir, rootKey), join(tmp.path, 'offline', rootKey))
    rmSync(join(repo.keysDir, rootKey)) // moved offline, as an operator would
    const before = readFileSync(join(repo.metadataDir, 'root.json'))
    assert.throws(() => Repository.open(repo.dir).rotate('timestamp'), /rotating timestamp needs 2 root keys .* and 1 is there/)
    assert.deepEqual(readFileSync(join(repo.metadataDir, 'root.json')), before, 'nothing was written')
  })

  it('is refused by tuf-js when a signature is tampered with', async () => {
    const repo = Repository.init(join(tmp.path, 'r5'))
    repo.addTargets([{ path: 'releases/app/1.0.0.json', bytes: Buffer.from('one') }])
    const { updater } = client(repo, join(tmp.path, 'c5'))
    const file = join(repo.metadataDir, 'timestamp.json')
    const md = JSON.parse(readFileSync(file, 'utf8'))
    md.signed.version += 10
    writeFileSync(file, JSON.stringify(md))
    await assert.rejects(updater().refresh(), /timestamp was signed by 0\/1 keys/)
  })

  it('re-signs the timestamp over the same snapshot', () => {
    const repo = Repository.init(join(tmp.path, 'r6'), { expiry: { timestamp: 1 } })
    const v = repo.signedOf('timestamp').version
    const later = new Date(Date.now() + 12 * 3600_000)
    repo.refreshTimestamp(later)
    assert.equal(repo.signedOf('timestamp').version, v + 1)
    assert.ok(repo.timestampExpires().getTime() > later.getTime())
    assert.equal(repo.signedOf('timestamp').meta['snapshot.json'].version, repo.signedOf('snapshot').version)
  })

  it('two writers of one repository (the CLI, a publisher, the coordinator) never sign two contents under one version', async () => {
    const dir = join(tmp.path, 'two-writers')
    Repository.init(dir)
    // each holds the repository open, as the publisher daemon and the coordinator do
    const a = Repository.open(dir)
    const b = Repository.open(dir)
    a.addTargets([{ path: 'releases/app/1.0.0.json', bytes: Buffer.from('{"a":1}') }])
    // b's view is older than the disk: it signs from the disk, so a's release stays and versions move on
    b.addTargets([{ path: 'releases/app/1.1.0.json', bytes: Buffer.from('{"b":1}') }])
    const now = Repository.open(dir)
    assert.deepEqual(Object.keys(now.targets()).sort(), ['releases/app/1.0.0.json', 'releases/app/1.1.0.json'])
    assert.equal(now.signedOf('targets').version, a.signedOf('targets').version + 1)
    // a's timestamp refresh names the snapshot b signed, not the one a last saw
    a.refreshTimestamp()
    const ts = Repository.open(dir).signedOf('timestamp')
    assert.equal(ts.meta['snapshot.json'].version, now.signedOf('snapshot').version)
    assert.equal(ts.version, now.signedOf('timestamp').version + 1)
    // and tuf-js reads the result through the whole chain
    const c = client(now, join(tmp.path, 'two-writers-client'))
    await c.updater().refresh()
    // a lock left by a writer that died is waited for, then named
    writeFileSync(join(dir, '.sign.lock'), '')
    const t0 = Date.now()
    assert.throws(() => { a.refreshTimestamp() }, (err: any) => err.name === 'RepositoryError' && /\.sign\.lock is held by another writer/.test(err.message))
    assert.ok(Date.now() - t0 >= 9_000)
    rmSync(join(dir, '.sign.lock'))
  })
})
