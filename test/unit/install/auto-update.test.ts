/**
 * Plain auto-update: a `held` event installs the newest held release of the
 * followed channel (with the index handed over); nothing when a rollout
 * governs the package, when autoUpdate is off, or when the version was tried
 * and rolled back; a failure is logged, not thrown.
 */
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { AutoUpdater } from '../../../src/install/auto-update.js'
import { InstallManager } from '../../../src/install/manager.js'
import { captureLogger } from '../../helpers/capture-logger.js'
import { waitFor } from '../../helpers/cli.js'
import { indexFileOf, releaseOf, writeHeldReleases } from '../../helpers/held-releases.js'
import { makeStateFiles, memoryStore, packageConfig } from '../../helpers/install-fixture.js'
import type { HeldReleaseEvent } from '../../../src/install/auto-update.js'
import type { DataPaths } from '../../../src/data-dir/index.js'
import type { ReleaseIndex } from '../../../src/release/index.js'

const root = mkdtempSync(join(tmpdir(), 'umesh-auto-update-'))
const store = memoryStore()
const app = new Map<string, ReleaseIndex>()
before(() => {
  app.set('1.0.0', releaseOf(root, store, { version: '1.0.0' }, 0))
  app.set('1.1.0', releaseOf(root, store, { version: '1.1.0' }, 1))
  app.set('1.2.0', releaseOf(root, store, { version: '1.2.0', broken: true }, 2))
})
after(() => { rmSync(root, { recursive: true, force: true }) })

interface TestNode {
  manager: InstallManager
  updater: AutoUpdater
  releases: EventEmitter<{ held: [HeldReleaseEvent] }>
  paths: DataPaths
  lines: string[]
  governed: Set<string>
}

let n = 0
/** a data dir holding app `versions`, followed on stable, with auto-update wired to a stub `held` emitter */
function node (versions: string[], opts: { autoUpdate?: boolean } = {}): TestNode {
  const dataDir = join(root, `node-${++n}`)
  makeStateFiles(dataDir)
  process.env.UMESH_STATE_DIR = join(dataDir, 'state')
  const { paths } = writeHeldReleases(dataDir, versions.map(v => ({ index: app.get(v)! })), ['app@stable'])
  const logs = captureLogger()
  const manager = new InstallManager({ paths, store, logger: logs.components }, { packages: { app: packageConfig(dataDir, { autoUpdate: opts.autoUpdate ?? true }) } })
  const releases = new EventEmitter<{ held: [HeldReleaseEvent] }>()
  const governed = new Set<string>()
  const updater = new AutoUpdater({ manager, releases, rollouts: { governs: pkg => governed.has(pkg) }, logger: logs.components })
  return { manager, updater, releases, paths, lines: logs.lines, governed }
}

const current = (t: TestNode): string | null => t.manager.installer('app').journal().current

describe('AutoUpdater', { timeout: 20_000 }, () => {
  it('a held release is installed: the newest held, with the index handed over', async () => {
    const t = node(['1.0.0', '1.1.0'])
    t.updater.start()
    try {
      assert.equal(t.releases.listenerCount('held'), 1)
      // the follower hands the verified index over: the file on disk is not needed
      rmSync(indexFileOf(t.paths, app.get('1.1.0')!))
      t.releases.emit('held', { package: 'app', version: '1.1.0', index: app.get('1.1.0')! })
      await waitFor('app 1.1.0 installed', () => current(t) === '1.1.0' && !t.manager.busy, 5_000, 20)
      assert.deepEqual(t.manager.installer('app').history().map(h => [h.to, h.outcome]), [['1.1.0', 'installed']], 'straight to the newest')
    } finally {
      t.updater.stop()
    }
    assert.equal(t.releases.listenerCount('held'), 0)
  })

  it('run() at start installs what was held before', async () => {
    const t = node(['1.0.0'])
    await t.updater.run()
    assert.equal(current(t), '1.0.0')
    await t.updater.run()
    assert.equal(t.manager.installer('app').history().length, 1, 'nothing newer: nothing done')
  })

  it('nothing when a rollout governs the package', async () => {
    const t = node(['1.0.0', '1.1.0'])
    t.governed.add('app')
    t.updater.start()
    try {
      t.releases.emit('held', { package: 'app', version: '1.1.0', index: app.get('1.1.0')! })
      await t.updater.run()
      await new Promise(resolve => setTimeout(resolve, 100))
      assert.equal(current(t), null)
      assert.deepEqual(t.manager.installer('app').history(), [])
      assert.equal(t.manager.indexOf('app', '1.1.0'), app.get('1.1.0'), 'the index is remembered all the same')
    } finally {
      t.updater.stop()
    }
  })

  it('nothing when autoUpdate is off', async () => {
    const t = node(['1.0.0', '1.1.0'], { autoUpdate: false })
    await t.updater.run()
    assert.equal(current(t), null)
    assert.deepEqual(t.manager.installer('app').history(), [])
  })

  it('a version tried and rolled back before is not retried', async () => {
    const t = node(['1.0.0', '1.2.0'])
    await t.manager.upgrade({ package: 'app', choice: { to: '1.0.0' } })
    await assert.rejects(t.manager.upgrade({ package: 'app', choice: { to: '1.2.0' } }), { name: 'InstallFailedError' })
    const history = t.manager.installer('app').history()
    assert.equal(history.at(-1)?.outcome, 'rolled-back')
    assert.equal(t.manager.availableUpdate('app'), '1.2.0')
    await t.updater.run()
    assert.equal(t.manager.installer('app').history().length, history.length)
    assert.equal(current(t), '1.0.0')
  })

  it('a failure is logged, not thrown', async () => {
    const t = node(['1.0.0'])
    writeFileSync(indexFileOf(t.paths, app.get('1.0.0')!), '{}')
    await t.updater.run()
    assert.equal(current(t), null)
    const errors = t.lines.filter(l => l.startsWith('error: '))
    assert.equal(errors.length, 1, t.lines.join('\n'))
    assert.match(errors[0], /^error: auto-update of app to 1\.0\.0 did not complete - .*does not match its signed hash/)
    assert.equal(t.manager.busy, false)
  })
})
