import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { defaultLogger } from '@libp2p/logger'
import { BACKUP_KEY_FILE, loadOrCreateBackupKey } from '../../../src/install/backup-key.js'
import { Installer } from '../../../src/install/installer.js'
import { readState, writeState } from '../../../src/install/journal.js'
import { installLockOwner } from '../../../src/install/lock.js'
import { readLedger } from '../../../src/install/migrations.js'
import { promoteStaged, stageVersion } from '../../../src/install/stage.js'
import { switchCurrent } from '../../../src/install/switch.js'
import { INSTALL_STEPS } from '../../../src/install/types.js'
import { makeStateFiles, memoryRelease, memoryStore, packageConfig } from '../../helpers/install-fixture.js'
import type { PackageInstallConfig, PendingInstall } from '../../../src/install/types.js'
import type { ReleaseIndex } from '../../../src/release/release-index.js'

const root = mkdtempSync(join(tmpdir(), 'umesh-installer-'))
const store = memoryStore()
const releases = new Map<string, ReleaseIndex>()
before(() => {
  const specs = [
    { version: '1.0.0', migrations: ['1-init'] },
    { version: '1.1.0', migrations: ['1-init', '2-add'] },
    { version: '1.2.0', migrations: ['1-init', '2-add', '3-more'], broken: true }
  ]
  for (const [i, spec] of specs.entries()) releases.set(spec.version, memoryRelease(root, spec, i, store))
})
after(() => { rmSync(root, { recursive: true, force: true }) })

let n = 0
/** a fresh node data dir with app's state files, and an Installer for app in it */
function node (overrides: Partial<PackageInstallConfig> = {}): { installer: Installer, installRoot: string, state: string, said: string[], onSay: Array<(line: string) => void> } {
  const dataDir = join(root, `node-${++n}`)
  makeStateFiles(dataDir)
  // the fixture's hooks and migrations find the state folder through the environment
  process.env.UMESH_STATE_DIR = join(dataDir, 'state')
  const config = packageConfig(dataDir, overrides)
  const said: string[] = []
  const onSay: Array<(line: string) => void> = []
  const installer = new Installer({
    package: 'app',
    config,
    store,
    index: v => releases.get(v),
    backupKey: () => loadOrCreateBackupKey(join(dataDir, BACKUP_KEY_FILE)),
    logger: defaultLogger(),
    say: (line) => { said.push(line); for (const f of onSay) f(line) }
  })
  return { installer, installRoot: config.installRoot, state: join(dataDir, 'state'), said, onSay }
}

const read = (file: string): string => readFileSync(file, 'utf8')
const current = (installRoot: string): string => readlinkSync(join(installRoot, 'current'))
const stepsOf = (steps: string[]): string[] => steps.map(s => s.slice(0, s.indexOf(':')))

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** a journal left as a process killed during `step` of an install of 1.1.0 over 1.0.0 leaves it */
function leavePending (installRoot: string, step: PendingInstall['step'], extra: Partial<PendingInstall> = {}): PendingInstall {
  const state = readState(installRoot, 'app')
  const pending: PendingInstall = { id: `cut-${step}`, kind: 'upgrade', from: '1.0.0', to: '1.1.0', step, startedAt: new Date().toISOString(), migrated: [], migratedDown: [], attempts: 0, ...extra }
  state.pending = pending
  writeState(installRoot, state)
  return pending
}

describe('Installer', () => {
  it('installs a first version, then upgrades: journal, history, current link, hard links', async () => {
    const { installer, installRoot, state, said } = node()
    const first = await installer.install('1.0.0', { kind: 'upgrade' })
    assert.deepEqual(stepsOf(first.steps), [...INSTALL_STEPS])
    assert.equal(first.entry?.outcome, 'installed')
    assert.equal(first.entry?.from, null)
    assert.deepEqual(first.entry?.migrated, ['1-init'])
    assert.equal(current(installRoot), 'versions/1.0.0')
    assert.equal(read(join(state, 'active.txt')), '1.0.0\n')

    const second = await installer.install('1.1.0', { kind: 'upgrade' })
    const entry = second.entry!
    assert.deepEqual({ kind: entry.kind, from: entry.from, to: entry.to, outcome: entry.outcome, migrated: entry.migrated }, { kind: 'upgrade', from: '1.0.0', to: '1.1.0', outcome: 'installed', migrated: ['2-add'] })
    assert.deepEqual(installer.history().map(h => h.id), [first.entry!.id, entry.id])
    const journal = installer.journal()
    assert.deepEqual({ current: journal.current, versions: journal.versions, pending: journal.pending }, { current: '1.1.0', versions: ['1.0.0', '1.1.0'], pending: null })
    assert.equal(current(installRoot), 'versions/1.1.0')
    assert.equal(read(join(state, 'active.txt')), '1.1.0\n')
    assert.equal(read(join(state, 'log.txt')), '1-init up\n2-add up\n')
    assert.deepEqual(readLedger(installRoot).applied.map(a => a.id), ['1-init', '2-add'])
    // unchanged files are the same inodes; the changed one is not
    const ino = (v: string, f: string): number => statSync(join(installRoot, 'versions', v, f)).ino
    assert.equal(ino('1.1.0', 'data/part-1.bin'), ino('1.0.0', 'data/part-1.bin'))
    assert.notEqual(ino('1.1.0', 'data/part-0.bin'), ino('1.0.0', 'data/part-0.bin'))
    assert.ok(said.includes('stage: 4 files written, 11 hard-linked from 1.0.0'), said.join('\n'))
    assert.ok(installer.backups().some(b => b.id === entry.backup), 'the rollback point of the upgrade is kept')
    assert.deepEqual({ state: installer.state, pending: installer.pendingVersion }, { state: 'healthy', pending: '' })
    await assert.rejects(installer.install('1.1.0', { kind: 'upgrade' }), (err: any) => err.name === 'InstallError' && /already the current version/.test(err.message))
  })

  it('rolls back an unhealthy version: link, migrations, state paths and activation restored', async () => {
    const { installer, installRoot, state } = node()
    await installer.install('1.0.0', { kind: 'upgrade' })
    await installer.install('1.1.0', { kind: 'upgrade' })
    const before = { config: read(join(state, 'config.txt')), log: read(join(state, 'log.txt')) }
    await assert.rejects(installer.install('1.2.0', { kind: 'upgrade' }), (err: any) => {
      assert.equal(err.name, 'InstallFailedError')
      assert.match(err.message, /^app 1\.2\.0 was not installed: health failed: unhealthy after 2 attempts: .*; rolled back to 1\.1\.0$/)
      assert.deepEqual({ outcome: err.entry.outcome, step: err.entry.step, from: err.entry.from, to: err.entry.to }, { outcome: 'rolled-back', step: 'health', from: '1.1.0', to: '1.2.0' })
      return true
    })
    assert.equal(current(installRoot), 'versions/1.1.0')
    const journal = installer.journal()
    assert.deepEqual({ current: journal.current, versions: journal.versions, pending: journal.pending }, { current: '1.1.0', versions: ['1.0.0', '1.1.0'], pending: null })
    assert.equal(existsSync(join(installRoot, 'versions', '1.2.0')), false)
    // 3-more ran up (it rewrote config.txt), then down; the rollback point put config.txt back
    assert.deepEqual({ config: read(join(state, 'config.txt')), log: read(join(state, 'log.txt')) }, before)
    assert.deepEqual(readLedger(installRoot).applied.map(a => a.id), ['1-init', '2-add'])
    assert.equal(read(join(state, 'active.txt')), '1.1.0\n')
    assert.equal(installer.history().at(-1)?.outcome, 'rolled-back')
    assert.equal(installer.state, 'rolled-back')
    assert.match(installer.lastError, /^health failed: unhealthy/)
  })

  it('rollback() undoes the install in effect, and only that one', async () => {
    const { installer, installRoot, state } = node()
    await installer.install('1.0.0', { kind: 'upgrade' })
    const stateAfter100 = { config: read(join(state, 'config.txt')), log: read(join(state, 'log.txt')) }
    const upgrade = (await installer.install('1.1.0', { kind: 'upgrade' })).entry!
    writeFileSync(join(state, 'config.txt'), 'written by 1.1.0 while it ran\n')
    await assert.rejects(installer.rollback('someone-else'), (err: any) => err.name === 'InstallError' && /not the install in effect/.test(err.message))
    await assert.rejects(installer.rollback(undefined, { signal: AbortSignal.abort() }), { name: 'AbortError' })
    assert.equal(installer.journal().pending, null, 'a cancelled rollback journals nothing')

    const entry = await installer.rollback(upgrade.id)
    assert.deepEqual({ kind: entry.kind, from: entry.from, to: entry.to, outcome: entry.outcome }, { kind: 'rollback', from: '1.1.0', to: '1.0.0', outcome: 'rolled-back' })
    assert.equal(current(installRoot), 'versions/1.0.0')
    const journal = installer.journal()
    assert.deepEqual({ current: journal.current, versions: journal.versions, pending: journal.pending }, { current: '1.0.0', versions: ['1.1.0', '1.0.0'], pending: null })
    assert.deepEqual({ config: read(join(state, 'config.txt')), log: read(join(state, 'log.txt')) }, stateAfter100)
    assert.deepEqual(readLedger(installRoot).applied.map(a => a.id), ['1-init'])
    assert.equal(read(join(state, 'active.txt')), '1.0.0\n')
    await assert.rejects(installer.rollback(), /first version installed/)
  })

  it('recover() undoes an install cut at stage', async () => {
    const { installer, installRoot, said } = node()
    await installer.install('1.0.0', { kind: 'upgrade' })
    leavePending(installRoot, 'stage')
    mkdirSync(join(installRoot, 'versions', '.staging-cut-stage', 'data'), { recursive: true })
    const entry = await installer.recover()
    assert.deepEqual({ id: entry?.id, outcome: entry?.outcome, step: entry?.step }, { id: 'cut-stage', outcome: 'failed', step: 'stage' })
    assert.equal(entry?.reason, 'interrupted during stage (the node stopped); undone at restart')
    assert.ok(said.includes('recover: an install of 1.1.0 stopped at stage'))
    assert.equal(installer.journal().pending, null)
    assert.equal(current(installRoot), 'versions/1.0.0')
    assert.deepEqual(readdirSync(join(installRoot, 'versions')), ['1.0.0'])
    assert.equal(await installer.recover(), undefined, 'nothing is left to recover')
  })

  it('recover() resumes an install cut at health, and undoes one resumed too often', async () => {
    const { installer, installRoot, state, said } = node()
    await installer.install('1.0.0', { kind: 'upgrade' })
    const index = releases.get('1.1.0')!
    await stageVersion({ index, store, installRoot, stagingName: '.staging-cut-health' })
    promoteStaged(installRoot, '.staging-cut-health', '1.1.0')
    switchCurrent(installRoot, '1.1.0')
    leavePending(installRoot, 'health', { switched: true, activated: true, ledgerBefore: ['1-init'] })
    const entry = await installer.recover()
    assert.deepEqual({ id: entry?.id, outcome: entry?.outcome, to: entry?.to }, { id: 'cut-health', outcome: 'installed', to: '1.1.0' })
    assert.ok(said.some(l => l.startsWith('activate: ') && l.endsWith(' (resumed)')), said.join('\n'))
    assert.ok(said.some(l => l.startsWith('health: ') && l.endsWith(' (resumed)')), said.join('\n'))
    assert.deepEqual({ current: installer.journal().current, pending: installer.journal().pending }, { current: '1.1.0', pending: null })
    assert.equal(read(join(state, 'active.txt')), '1.1.0\n')

    // a version that keeps killing the node as it starts is undone on the third restart
    leavePending(installRoot, 'health', { id: 'cut-again', from: '1.1.0', to: '1.0.0', kind: 'downgrade', switched: true, activated: true, attempts: 2 })
    const undone = await installer.recover()
    assert.deepEqual({ outcome: undone?.outcome, reason: undone?.reason }, { outcome: 'rolled-back', reason: 'interrupted after the switch 3 times; undone at restart' })
    assert.equal(current(installRoot), 'versions/1.1.0')
  })

  it('a dry run describes every step and writes nothing', async () => {
    const { installer, installRoot, said } = node()
    const fresh = await installer.install('1.0.0', { kind: 'upgrade', dryRun: true })
    assert.equal(fresh.dryRun, true)
    assert.deepEqual(stepsOf(fresh.steps), [...INSTALL_STEPS])
    assert.equal(existsSync(installRoot), false)
    assert.ok(said.every(l => l.startsWith('[dry run] ')))

    await installer.install('1.0.0', { kind: 'upgrade' })
    const tree = (): string[] => readdirSync(installRoot, { recursive: true }).map(String).sort()
    const journal = read(join(installRoot, 'state.json'))
    const before = tree()
    const plan = await installer.install('1.1.0', { kind: 'upgrade', dryRun: true })
    assert.ok(plan.steps.includes('stage: write 4 files and hard-link 11 unchanged files from 1.0.0 into versions/1.1.0, verifying every sha256'), plan.steps.join('\n'))
    assert.ok(plan.steps.includes('migrate: run up 2-add'))
    assert.deepEqual(tree(), before)
    assert.equal(read(join(installRoot, 'state.json')), journal)
    assert.equal(current(installRoot), 'versions/1.0.0')
  })

  describe('cancelled with an AbortSignal', () => {
    const hangingHealth = (): Partial<PackageInstallConfig> => ({
      health: { check: { type: 'command', command: ['/bin/sh', '-c', 'if [ -f "$UMESH_STATE_DIR/hang" ]; then echo $$ > "$UMESH_STATE_DIR/health.pid"; exec sleep 30; fi; test -f VERSION'] }, timeoutMs: 60_000, retries: 0, intervalMs: 100, graceMs: 0 }
    })

    it('stops a health check under way, leaves the install pending at health without undoing it; recover() finishes it', async () => {
      const { installer, installRoot, state, onSay } = node(hangingHealth())
      await installer.install('1.0.0', { kind: 'upgrade' })
      writeFileSync(join(state, 'hang'), '')
      const controller = new AbortController()
      onSay.push((line) => { if (line.startsWith('health: ')) setTimeout(() => { controller.abort() }, 300) })
      const started = Date.now()
      await assert.rejects(installer.install('1.1.0', { kind: 'upgrade', signal: controller.signal }), { name: 'AbortError' })
      assert.ok(Date.now() - started < 10_000, 'the health check was stopped, not waited for')
      assert.equal(alive(Number(read(join(state, 'health.pid')))), false, 'the health command was killed')
      const pending = installer.journal().pending
      assert.equal(pending?.step, 'health')
      assert.equal(pending?.undo, undefined, 'not undone')
      assert.equal(current(installRoot), 'versions/1.1.0')
      assert.equal(installer.history().length, 1, 'no entry for the cancelled install')
      assert.equal(installLockOwner(installRoot), null, 'the install lock was released')
      assert.equal(installer.state, 'idle')
      assert.match(installer.lastError, /cancelled during health/)

      rmSync(join(state, 'hang'))
      const entry = await installer.recover()
      assert.deepEqual({ id: entry?.id, outcome: entry?.outcome }, { id: pending?.id, outcome: 'installed' })
      assert.equal(installer.journal().current, '1.1.0')
    })

    it('before the switch: the journal stays at the step reached, nothing is undone; recover() undoes it', async () => {
      const { installer, installRoot, onSay } = node()
      await installer.install('1.0.0', { kind: 'upgrade' })
      const controller = new AbortController()
      onSay.push((line) => { if (line.startsWith('backup: ')) controller.abort() })
      await assert.rejects(installer.install('1.1.0', { kind: 'upgrade', signal: controller.signal }), { name: 'AbortError' })
      const pending = installer.journal().pending!
      assert.equal(pending.step, 'backup')
      assert.equal(current(installRoot), 'versions/1.0.0')
      assert.equal(existsSync(join(installRoot, 'versions', '1.1.0')), true, 'the staged version is left for recovery')
      assert.ok(installer.backups().some(b => b.id === pending.id), 'the rollback point taken is left as it was')
      assert.deepEqual(readLedger(installRoot).applied.map(a => a.id), ['1-init'], 'no migration ran')

      const entry = await installer.recover()
      assert.deepEqual({ id: entry?.id, outcome: entry?.outcome, step: entry?.step }, { id: pending.id, outcome: 'failed', step: 'backup' })
      assert.equal(existsSync(join(installRoot, 'versions', '1.1.0')), false)
      assert.equal(current(installRoot), 'versions/1.0.0')
    })

    it('an install cancelled before it begins journals nothing', async () => {
      const { installer, installRoot } = node()
      await installer.install('1.0.0', { kind: 'upgrade' })
      await assert.rejects(installer.install('1.1.0', { kind: 'upgrade', signal: AbortSignal.abort() }), { name: 'AbortError' })
      assert.equal(installer.journal().pending, null)
      assert.equal(existsSync(join(installRoot, 'versions', '1.1.0')), false)
      assert.match(installer.lastError, /before it began/)
    })
  })
})
