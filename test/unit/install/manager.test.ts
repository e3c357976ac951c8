/**
 * The install manager on a data dir that holds releases (written directly,
 * see held-releases.ts): the choice of version, dependencies installed in
 * order, one install at a time, handed-over indexes, a tampered index on
 * disk, and the owner's signal stopping an install between steps.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { InstallManager } from '../../../src/install/manager.js'
import { captureLogger } from '../../helpers/capture-logger.js'
import { indexFileOf, releaseOf, writeHeldReleases } from '../../helpers/held-releases.js'
import { makeStateFiles, memoryStore, packageConfig } from '../../helpers/install-fixture.js'
import type { HeldRelease } from '../../helpers/held-releases.js'
import type { PackageEntry } from '../../../src/install/config.js'
import type { DataPaths } from '../../../src/data-dir/index.js'
import type { ReleaseIndex } from '../../../src/release/index.js'

const root = mkdtempSync(join(tmpdir(), 'umesh-manager-'))
const store = memoryStore()
const app = new Map<string, ReleaseIndex>()
let lib: ReleaseIndex
before(() => {
  app.set('1.0.0', releaseOf(root, store, { version: '1.0.0', migrations: ['1-init'] }, 0))
  app.set('1.1.0', releaseOf(root, store, { version: '1.1.0', migrations: ['1-init', '2-add'] }, 1))
  app.set('1.2.0-beta.1', releaseOf(root, store, { version: '1.2.0-beta.1' }, 2, { channel: 'beta' }))
  app.set('1.3.0', releaseOf(root, store, { version: '1.3.0' }, 3))
  app.set('2.0.0', releaseOf(root, store, { version: '2.0.0' }, 4, { requires: [{ package: 'lib', range: '^1.0.0' }] }))
  lib = releaseOf(root, store, { version: '1.0.0' }, 5, { package: 'lib' })
})
after(() => { rmSync(root, { recursive: true, force: true }) })

interface TestNode {
  manager: InstallManager
  paths: DataPaths
  dataDir: string
  lines: string[]
}

let n = 0
/**
 * A data dir holding app 1.0.0, 1.1.0, 1.2.0-beta.1 (1.3.0 published, not
 * held; 2.0.0 and lib 1.0.0 only with `deps`), following `follow`, and a
 * manager with install settings for app (and lib when `libSettings`).
 */
function node (opts: { follow?: string[], deps?: boolean, libSettings?: boolean, signal?: AbortSignal } = {}): TestNode {
  const dataDir = join(root, `node-${++n}`)
  makeStateFiles(dataDir)
  // the fixture's hooks and migrations find the state folder through the environment
  process.env.UMESH_STATE_DIR = join(dataDir, 'state')
  const releases: HeldRelease[] = [
    { index: app.get('1.0.0')! },
    { index: app.get('1.1.0')! },
    { index: app.get('1.2.0-beta.1')! },
    { index: app.get('1.3.0')!, held: false }
  ]
  if (opts.deps === true) releases.push({ index: app.get('2.0.0')! }, { index: lib })
  const { paths } = writeHeldReleases(dataDir, releases, opts.follow ?? ['app@stable', 'lib@stable'])
  const packages: Record<string, PackageEntry> = { app: packageConfig(dataDir) }
  if (opts.libSettings === true) packages.lib = packageConfig(dataDir, { installRoot: join(dataDir, 'installs', 'lib'), statePaths: [] })
  const logs = captureLogger()
  const manager = new InstallManager({ paths, store, logger: logs.components }, { packages, ...(opts.signal != null ? { signal: opts.signal } : {}) })
  return { manager, paths, dataDir, lines: logs.lines }
}

function refused (name: string, message: RegExp): (err: any) => boolean {
  return (err: any) => {
    assert.equal(err.name, name)
    assert.match(err.message, message)
    return true
  }
}

describe('InstallManager', { timeout: 20_000 }, () => {
  describe('choose', () => {
    it('--to names a held release; not held or unknown is refused with what is known', () => {
      const { manager } = node()
      assert.equal(manager.choose('app', { to: '1.0.0' }), '1.0.0')
      assert.throws(() => manager.choose('app', { to: '1.3.0' }), refused('NotInstallableError', /1\.3\.0 is published but not yet held/))
      assert.throws(() => manager.choose('app', { to: '9.9.9' }), refused('NotInstallableError', /9\.9\.9 is not a published release this node knows \(known: 1\.0\.0, 1\.1\.0, 1\.2\.0-beta\.1, 1\.3\.0\)/))
    })

    it('latest: the newest held on the followed channel; stable: the newest held stable release', () => {
      const onStable = node({ follow: ['app@stable'] }).manager
      assert.equal(onStable.choose('app', { latest: true }), '1.1.0', 'not the beta, not 1.3.0 which is not held')
      const onBeta = node({ follow: ['app@beta'] }).manager
      assert.equal(onBeta.choose('app', { latest: true }), '1.2.0-beta.1')
      assert.equal(onBeta.choose('app', { stable: true }), '1.1.0')
      const notFollowed = node({ follow: [] }).manager
      assert.equal(notFollowed.choose('app', { latest: true }), '1.1.0', 'a package not followed is seen on stable')
    })

    it('a package with no held release is refused', () => {
      const { manager } = node()
      assert.throws(() => manager.choose('other', { latest: true }), refused('NotInstallableError', /holds no stable release of other/))
      assert.throws(() => manager.installer('other'), refused('NotInstallableError', /other has no install settings/))
    })
  })

  describe('upgrade', () => {
    it('installs a release\'s dependencies first, in order, then the release', async () => {
      const { manager, lines } = node({ deps: true, libSettings: true })
      const results = await manager.upgrade({ package: 'app', choice: { to: '2.0.0' } })
      assert.deepEqual(results.map(r => [r.entry?.package, r.entry?.to, r.entry?.outcome]), [['lib', '1.0.0', 'installed'], ['app', '2.0.0', 'installed']])
      assert.ok(Date.parse(results[0].entry!.finishedAt) <= Date.parse(results[1].entry!.startedAt), 'the dependency finished before the release began')
      assert.equal(manager.installer('lib').journal().current, '1.0.0')
      assert.equal(manager.installer('app').journal().current, '2.0.0')
      assert.ok(lines.some(l => l === 'app: installing the dependency lib 1.0.0 first (required by app 2.0.0 (lib ^1.0.0))'), lines.join('\n'))
      assert.equal(manager.busy, false)
    })

    it('a dependency without install settings is refused before anything is installed', async () => {
      const { manager } = node({ deps: true })
      await assert.rejects(manager.upgrade({ package: 'app', choice: { to: '2.0.0' } }), refused('NotInstallableError', /lib has no install settings.*packages\.lib/))
      assert.equal(manager.installer('app').journal().current, null)
      assert.deepEqual(manager.installer('app').history(), [])
    })

    it('one install at a time: a second upgrade while one runs is refused, not queued', async () => {
      const { manager } = node()
      const first = manager.upgrade({ package: 'app', choice: { to: '1.0.0' } })
      assert.equal(manager.busy, true)
      await assert.rejects(manager.upgrade({ package: 'app', choice: { to: '1.1.0' } }), refused('InstallInProgressError', /already in progress on this node \(app 1\.0\.0\)/))
      await assert.rejects(manager.rollback('app'), { name: 'InstallInProgressError' })
      const [done] = await first
      assert.equal(done.entry?.outcome, 'installed')
      assert.equal(manager.busy, false)
      assert.equal(manager.installer('app').history().length, 1, 'the refused upgrade left no trace')
      const [next] = await manager.upgrade({ package: 'app', choice: { latest: true } })
      assert.equal(next.entry?.to, '1.1.0')
    })

    it('a downgrade through upgrade is refused without force', async () => {
      const { manager } = node()
      await manager.upgrade({ package: 'app', choice: { to: '1.1.0' } })
      await assert.rejects(manager.upgrade({ package: 'app', choice: { to: '1.0.0' } }), refused('UpgradeRefusedError', /older than the installed 1\.1\.0/))
      assert.equal(manager.busy, false)
    })
  })

  describe('indexes', () => {
    it('remember: indexOf answers the handed index without reading the disk', async () => {
      const { manager, paths } = node()
      const handed = app.get('1.1.0')!
      rmSync(indexFileOf(paths, handed))
      assert.equal(manager.indexOf('app', '1.1.0'), undefined, 'gone from disk and not handed over')
      manager.remember('app', '1.1.0', handed)
      assert.equal(manager.indexOf('app', '1.1.0'), handed)
      // a tampered copy on disk is not read either
      writeFileSync(indexFileOf(paths, handed), '{"tampered":true}')
      assert.equal(manager.indexOf('app', '1.1.0'), handed)
      rmSync(indexFileOf(paths, handed))
      const [result] = await manager.upgrade({ package: 'app', choice: { to: '1.1.0' } })
      assert.equal(result.entry?.outcome, 'installed')
      // the others still come from disk, verified
      assert.deepEqual(manager.indexOf('app', '1.0.0'), app.get('1.0.0'))
    })

    it('an index changed on disk is refused: HashMismatchError, nothing installed', async () => {
      const { manager, paths } = node()
      const file = indexFileOf(paths, app.get('1.0.0')!)
      writeFileSync(file, JSON.stringify({ ...app.get('1.0.0')!, changelog: 'edited' }, null, 1) + '\n')
      assert.throws(() => manager.indexOf('app', '1.0.0'), { name: 'HashMismatchError' })
      await assert.rejects(manager.upgrade({ package: 'app', choice: { to: '1.0.0' } }), { name: 'HashMismatchError' })
      assert.equal(manager.busy, false)
      assert.equal(manager.installer('app').journal().current, null)
      assert.equal(existsSync(join(manager.installer('app').root, 'versions', '1.0.0')), false)
    })
  })

  it('the owner\'s signal stops an install at its next step and leaves it pending for recovery', async () => {
    const owner = new AbortController()
    const { manager, dataDir, paths } = node({ signal: owner.signal })
    const said: string[] = []
    const upgrade = manager.withSay((line) => {
      said.push(line)
      if (line.startsWith('app: backup:')) owner.abort()
    }, async () => await manager.upgrade({ package: 'app', choice: { to: '1.0.0' } }))
    await assert.rejects(upgrade, { name: 'AbortError' })
    assert.ok(!said.some(l => l.startsWith('app: migrate') || l.startsWith('app: switch')), said.join('\n'))
    const installer = manager.installer('app')
    const journal = installer.journal()
    assert.deepEqual({ current: journal.current, to: journal.pending?.to, step: journal.pending?.step }, { current: null, to: '1.0.0', step: 'backup' })
    assert.equal(existsSync(join(installer.root, 'current')), false, 'not switched')
    assert.deepEqual(installer.history(), [], 'not undone either: left as a crash there would leave it')
    assert.equal(manager.busy, false)
    assert.match(installer.lastError, /cancelled during backup/)

    // the next start recovers it
    const restarted = new InstallManager({ paths, store, logger: captureLogger().components }, { packages: { app: packageConfig(dataDir) } })
    await restarted.recoverAll()
    assert.equal(restarted.installer('app').journal().pending, null)
    const [result] = await restarted.upgrade({ package: 'app', choice: { to: '1.0.0' } })
    assert.equal(result.entry?.outcome, 'installed')
  })
})
