/**
 * The install transaction of one package, and its undoing.
 *
 *   preflight  lock, disk (twice the package), memory
 *   stage      materialise versions/<to>/ from verified chunks (hard links for unchanged files)
 *   backup     a rollback point of the package's statePaths
 *   migrate    the release's `up` migrations (a downgrade: `down` of those the target lacks)
 *   switch     one rename() of a symlink over `current`
 *   activate   the activate hook
 *   health     the health check
 *   bless      the version becomes current in the journal; old versions pruned
 *
 * The journal is written before each step, so a restart (`recover()`) knows
 * where it stopped: before the switch the install is undone (nothing the old
 * version uses was touched but by migrations, which are run down); after it,
 * the install is resumed from activation, at most twice, then undone. An undo
 * switches back, runs `down` migrations in reverse, restores the rollback
 * point and re-activates the old version, each step journaled too.
 *
 * `UMESH_CRASH_AT=<step>` (or `undo:<step>`, or `stage-mid`) makes the
 * process SIGKILL itself when it reaches that step: the crash-safety tests
 * use it to cut an install at every point.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { UmeshError } from '../errors.js'
import { appendHistory, readHistory, readState, writeState } from './journal.js'
import { acquireInstallLock } from './lock.js'
import { checkDiskSpace, checkMemory } from './preflight.js'
import { promoteStaged, removeVersion, stageVersion, verifyTree, versionDir, versionsDir } from './stage.js'
import { cleanSwitchLeftovers, readCurrent, switchCurrent } from './switch.js'
import { createRollbackPoint, listRollbackPoints, loadOrCreateBackupKey, removeRollbackPoint, restoreRollbackPoint } from './rollback-point.js'
import { listMigrations, readLedger, runDown, runUp } from './migrations.js'
import { checkHealth } from './health.js'
import { describeRun, runCommand } from './run-command.js'
import type { ReleaseIndex } from '../release/index.js'
import type { CID } from 'multiformats/cid'
import { INSTALL_STEPS } from './types.js'
import type { HistoryEntry, InstallKind, InstallState, InstallStep, PackageInstallConfig, PackageState, PendingInstall, RollbackStep } from './types.js'

export class InstallError extends UmeshError {
  override readonly name = 'InstallError'
}

/** a step failed; the install was undone */
export class InstallFailedError extends UmeshError {
  override readonly name = 'InstallFailedError'
  constructor (message: string, readonly entry: HistoryEntry) {
    super(message)
  }
}

export interface InstallerInit {
  package: string
  config: PackageInstallConfig
  dataDir: string
  store: { get: (cid: CID) => Promise<Uint8Array> }
  /** the verified release index of a version this node holds, or undefined */
  index: (version: string) => ReleaseIndex | undefined
  /** progress lines for the operator */
  say?: (line: string) => void
}

export interface InstallOptions {
  kind: Exclude<InstallKind, 'rollback'>
  dryRun?: boolean
}

export interface InstallResult {
  dryRun: boolean
  /** the steps, as done or as they would be done */
  steps: string[]
  entry?: HistoryEntry
}

const BACKUPS = 'backups'
const MAX_RESUMES = 2

function crashPoint (point: string): void {
  if (process.env.UMESH_CRASH_AT === point) process.kill(process.pid, 'SIGKILL')
}

function now (): string {
  return new Date().toISOString()
}

export class Installer {
  /** what the package is doing, for status */
  state: PackageState = 'idle'
  pendingVersion = ''
  lastError = ''
  progress = { done: 0, total: 0 }

  constructor (private readonly init: InstallerInit) {}

  get root (): string {
    return this.init.config.installRoot
  }

  private get backupsDir (): string {
    return join(this.root, BACKUPS)
  }

  private say (line: string): void {
    this.init.say?.(line)
  }

  private key (): Uint8Array | undefined {
    return this.init.config.encryptBackups ? loadOrCreateBackupKey(this.init.dataDir) : undefined
  }

  journal (): InstallState {
    return readState(this.root, this.init.package)
  }

  history (): HistoryEntry[] {
    return readHistory(this.root)
  }

  backups (): ReturnType<typeof listRollbackPoints> {
    return existsSync(this.backupsDir) ? listRollbackPoints(this.backupsDir) : []
  }

  private env (from: string | null, to: string): Record<string, string> {
    return {
      UMESH_PACKAGE: this.init.package,
      UMESH_OLD_VERSION: from ?? '',
      UMESH_NEW_VERSION: to,
      UMESH_OLD_DIR: from == null ? '' : versionDir(this.root, from),
      UMESH_NEW_DIR: versionDir(this.root, to),
      UMESH_INSTALL_ROOT: this.root
    }
  }

  /** the verified index of `version`, or an error saying how to get it */
  private needIndex (version: string): ReleaseIndex {
    const index = this.init.index(version)
    if (index == null) throw new InstallError(`${this.init.package} ${version} is not held by this node: it must be published, followed and fetched first (see \`umesh update check\`)`)
    return index
  }

  /**
   * Installs `to` (an upgrade or a downgrade), or with dryRun describes every
   * step and changes nothing. Throws InstallFailedError after undoing a
   * failed install, InstallInProgressError when another install holds the lock.
   */
  async install (to: string, options: InstallOptions): Promise<InstallResult> {
    const { package: pkg, config } = this.init
    const index = this.needIndex(to)
    if (options.dryRun === true) return await this.plan(to, index, options)
    mkdirSync(this.root, { recursive: true })
    const lock = acquireInstallLock(this.root, pkg)
    try {
      await this.recover()
      const state = this.journal()
      if (state.current === to && readCurrent(this.root) === to) throw new InstallError(`${pkg} ${to} is already the current version`)
      const pending: PendingInstall = {
        id: `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
        kind: options.kind,
        from: state.current,
        to,
        step: 'preflight',
        startedAt: now(),
        migrated: [],
        migratedDown: [],
        attempts: 0
      }
      this.pendingVersion = to
      this.lastError = ''
      const steps: string[] = []
      const step = (s: PendingInstall['step'], line: string): void => {
        pending.step = s
        state.pending = pending
        writeState(this.root, state)
        steps.push(`${s}: ${line}`)
        this.say(`${s}: ${line}`)
        crashPoint(s)
      }
      try {
        this.state = 'installing'
        step('preflight', `${pkg} ${state.current ?? '(none)'} -> ${to}, ${index.totalSize} bytes`)
        checkDiskSpace(this.root, 2 * index.totalSize)
        checkMemory(config.minFreeMemory)

        this.state = 'staging'
        step('stage', `materialising ${index.files.length} files into ${versionDir(this.root, to)}`)
        await this.stage(pending.id, index, state)

        this.state = 'installing'
        step('backup', config.statePaths.length === 0 ? 'no state paths configured' : `saving ${config.statePaths.join(', ')}`)
        if (config.statePaths.length > 0) {
          createRollbackPoint({ backupsDir: this.backupsDir, id: pending.id, package: pkg, version: state.current, statePaths: config.statePaths, key: this.key() })
          pending.backup = pending.id
        }

        pending.ledgerBefore = readLedger(this.root).applied.map(a => a.id)
        step('migrate', 'running migrations')
        await this.migrate(pending)

        step('switch', `current -> versions/${to}`)
        switchCurrent(this.root, to)
        pending.switched = true
        writeState(this.root, state)

        await this.activateAndCheck(pending, step)
        const entry = this.bless(pending, state, step)
        return { dryRun: false, steps, entry }
      } catch (err) {
        if (err instanceof InstallFailedError) throw err
        const reason = `${pending.step} failed: ${(err as Error).message}`
        const entry = await this.undo(state, pending, reason)
        throw new InstallFailedError(`${pkg} ${to} was not installed: ${reason}${entry.outcome === 'rolled-back' ? `; rolled back to ${entry.from ?? 'nothing'}` : ''}`, entry)
      }
    } finally {
      lock.release()
    }
  }

  private async stage (id: string, index: ReleaseIndex, state: InstallState): Promise<void> {
    const dir = versionDir(this.root, index.version)
    if (existsSync(dir)) {
      const check = await verifyTree(dir, index)
      if (check.ok) {
        this.say(`stage: versions/${index.version} is on disk and verifies; reused`)
        return
      }
      this.say(`stage: versions/${index.version} does not verify (${check.problems.slice(0, 3).join('; ')}); staging it again`)
    }
    const prev = state.current == null ? undefined : this.init.index(state.current)
    const previous = prev == null || state.current == null ? undefined : { dir: versionDir(this.root, state.current), index: prev }
    this.progress = { done: 0, total: index.totalSize }
    const staged = await stageVersion({
      index,
      store: this.init.store,
      installRoot: this.root,
      stagingName: `.staging-${id}`,
      ...(previous != null ? { previous } : {}),
      onProgress: (done, total) => {
        this.progress = { done, total }
        if (done > 0 && process.env.UMESH_CRASH_AT === 'stage-mid') crashPoint('stage-mid')
      }
    })
    promoteStaged(this.root, `.staging-${id}`, index.version)
    this.say(`stage: ${staged.written} files written, ${staged.linked} hard-linked from ${state.current ?? '-'}`)
  }

  private async migrate (pending: PendingInstall): Promise<void> {
    const { config } = this.init
    const env = this.env(pending.from, pending.to)
    const newDir = versionDir(this.root, pending.to)
    const oldDir = pending.from == null ? null : versionDir(this.root, pending.from)
    if (pending.kind === 'downgrade' && pending.from != null) {
      // migrations the target does not ship are undone with the scripts of the version that shipped them
      const shipped = new Set(listMigrations(newDir).map(m => m.id))
      const extra = readLedger(this.root).applied.map(a => a.id).filter(id => !shipped.has(id))
      if (extra.length > 0) {
        pending.migratedDown = await runDown({ installRoot: this.root, ids: extra, scriptsDir: oldDir!, oldVersion: pending.from, newVersion: pending.to, oldDir, newDir, timeoutMs: config.hooks.timeoutMs, env })
        this.say(`migrate: ran down ${pending.migratedDown.join(', ')}`)
      }
    }
    pending.migrated = await runUp({ installRoot: this.root, versionDir: newDir, oldVersion: pending.from, newVersion: pending.to, oldDir, newDir, timeoutMs: config.hooks.timeoutMs, env })
    if (pending.migrated.length > 0) this.say(`migrate: ran up ${pending.migrated.join(', ')}`)
  }

  private async activate (version: string, from: string | null): Promise<void> {
    const hook = this.init.config.hooks.activate
    if (hook == null) return
    const r = await runCommand(hook, { cwd: versionDir(this.root, version), env: this.env(from, version), timeoutMs: this.init.config.hooks.timeoutMs })
    if (r.code !== 0) throw new InstallError(`the activate hook failed: ${describeRun(hook, r)}`)
  }

  private async activateAndCheck (pending: PendingInstall, step: (s: PendingInstall['step'], line: string) => void): Promise<void> {
    const { config } = this.init
    // journaled before the hook runs: a crash inside it still re-activates the old version on undo
    pending.activated = true
    step('activate', config.hooks.activate == null ? 'no activate hook configured' : config.hooks.activate.join(' '))
    await this.activate(pending.to, pending.from)
    const health = config.health
    this.state = 'health-check'
    step('health', health == null ? 'no health check configured' : `${health.check.type} check, ${health.retries} retries, ${health.intervalMs} ms apart, ${health.graceMs} ms grace`)
    if (health != null) {
      const result = await checkHealth(health, { env: this.env(pending.from, pending.to), cwd: versionDir(this.root, pending.to) })
      if (!result.healthy) throw new InstallError(`unhealthy after ${result.attempts} attempts: ${result.detail}`)
      this.say(`health: healthy (${result.detail})`)
    }
  }

  private bless (pending: PendingInstall, state: InstallState, step: (s: PendingInstall['step'], line: string) => void): HistoryEntry {
    step('bless', `${pending.to} is current`)
    state.current = pending.to
    state.versions = [...state.versions.filter(v => v !== pending.to), pending.to]
    const pruned: string[] = []
    while (state.versions.length > this.init.config.keepVersions) pruned.push(state.versions.shift()!)
    const entry: HistoryEntry = { id: pending.id, package: this.init.package, kind: pending.kind, from: pending.from, to: pending.to, startedAt: pending.startedAt, finishedAt: now(), outcome: 'installed', reason: '', ...(pending.backup != null ? { backup: pending.backup } : {}), migrated: pending.migrated }
    // recorded before the journal lets go of it: a crash between the two finishes the bless again, not records it twice
    this.record(entry)
    state.pending = null
    writeState(this.root, state)
    for (const v of pruned) removeVersion(this.root, v)
    this.pruneBackups(state)
    this.state = 'healthy'
    this.pendingVersion = ''
    this.say(`bless: ${this.init.package} ${pending.to} installed${pruned.length > 0 ? `; removed ${pruned.join(', ')}` : ''}`)
    return entry
  }

  /** appends a history entry unless one with its id is there (a recovery repeating the last step) */
  private record (entry: HistoryEntry): void {
    if (!this.history().some(h => h.id === entry.id)) appendHistory(this.root, entry)
  }

  /** rollback points are kept for the installs whose versions are still on disk */
  private pruneBackups (state: InstallState): void {
    const keep = new Set(this.history().filter(h => state.versions.includes(h.to)).map(h => h.backup).filter(b => b != null))
    for (const b of this.backups()) if (!keep.has(b.id)) removeRollbackPoint(this.backupsDir, b.id)
  }

  /**
   * Undoes `pending` from wherever it stopped: switch back, migrations down,
   * state restored, the old version re-activated. Each step is journaled
   * before it runs; each is safe to run again after a crash.
   */
  private async undo (state: InstallState, pending: PendingInstall, reason: string): Promise<HistoryEntry> {
    const { config, package: pkg } = this.init
    pending.undo ??= { step: 'switch-back', reason, failedAt: pending.step }
    const failedAt = pending.undo.failedAt ?? pending.step
    this.lastError = pending.undo.reason
    this.say(`undo: ${pending.undo.reason}`)
    const order: RollbackStep[] = ['switch-back', 'migrate-down', 'restore', 'reactivate', 'done']
    const at = (s: RollbackStep): boolean => order.indexOf(pending.undo!.step) <= order.indexOf(s)
    const mark = (s: RollbackStep): void => {
      pending.undo!.step = s
      state.pending = pending
      writeState(this.root, state)
      crashPoint(`undo:${s}`)
    }
    const problems: string[] = []
    const attempt = async (what: string, fn: () => Promise<void> | void): Promise<void> => {
      try {
        await fn()
      } catch (err) {
        problems.push(`${what}: ${(err as Error).message}`)
        this.say(`undo: ${what} failed - ${(err as Error).message}`)
      }
    }
    if (at('switch-back')) {
      mark('switch-back')
      const target = pending.from
      if (target != null && existsSync(versionDir(this.root, target))) switchCurrent(this.root, target)
      else if (target == null && existsSync(join(this.root, 'current'))) unlinkSync(join(this.root, 'current'))
    }
    if (at('migrate-down')) {
      mark('migrate-down')
      const before = new Set(pending.ledgerBefore ?? readLedger(this.root).applied.map(a => a.id))
      const ran = readLedger(this.root).applied.map(a => a.id).filter(id => !before.has(id))
      const newDir = versionDir(this.root, pending.to)
      const oldDir = pending.from == null ? null : versionDir(this.root, pending.from)
      const env = this.env(pending.from, pending.to)
      if (ran.length > 0) {
        await attempt('down migrations', async () => {
          const done = await runDown({ installRoot: this.root, ids: ran, scriptsDir: newDir, oldVersion: pending.from, newVersion: pending.to, oldDir, newDir, timeoutMs: config.hooks.timeoutMs, env })
          this.say(`undo: ran down ${done.join(', ')}`)
        })
      }
      if (pending.migratedDown.length > 0 && oldDir != null) {
        // a downgrade undid migrations of the version it left: they are applied again
        await attempt('re-applying migrations', async () => {
          await runUp({ installRoot: this.root, versionDir: oldDir, oldVersion: pending.to, newVersion: pending.from!, oldDir: newDir, newDir: oldDir, timeoutMs: config.hooks.timeoutMs, env })
        })
      }
    }
    if (at('restore')) {
      mark('restore')
      // before the switch only migrations could have changed the state; the old
      // version kept running and writing, and a restore would lose that
      // (a migration that failed half-way may have changed them too, so reaching the migrate step counts)
      const touched = pending.switched === true || INSTALL_STEPS.indexOf(failedAt as InstallStep) >= INSTALL_STEPS.indexOf('migrate')
      if (pending.backup != null && touched) {
        await attempt('restoring the rollback point', () => {
          const r = restoreRollbackPoint({ backupsDir: this.backupsDir, id: pending.backup!, key: this.key() })
          this.say(`undo: restored ${r.restored} state paths from rollback point ${pending.backup!}`)
        })
      }
    }
    if (at('reactivate')) {
      mark('reactivate')
      if (pending.activated === true && pending.from != null) await attempt('re-activating the old version', async () => { await this.activate(pending.from!, pending.to) })
    }
    mark('done')
    const rolledBack = pending.switched === true
    const rollback = pending.kind === 'rollback'
    const entry: HistoryEntry = {
      id: pending.id,
      package: pkg,
      kind: pending.kind,
      // a rollback is recorded as the move it made: from the version it left to the one it restored
      from: rollback ? pending.to : pending.from,
      to: rollback ? pending.from ?? '' : pending.to,
      startedAt: pending.startedAt,
      finishedAt: now(),
      outcome: rolledBack ? 'rolled-back' : 'failed',
      reason: problems.length === 0 ? pending.undo.reason : `${pending.undo.reason}; while undoing: ${problems.join('; ')}`,
      ...(rollback ? {} : { step: failedAt })
    }
    // recorded before the journal lets go of it, as in bless
    this.record(entry)
    const keptBefore = state.versions.includes(pending.to)
    if (rollback && pending.from != null) {
      // a rollback makes the version it went back to current again
      state.current = pending.from
      state.versions = [...state.versions.filter(v => v !== pending.from), pending.from]
    }
    state.pending = null
    writeState(this.root, state)
    if (!keptBefore && pending.to !== pending.from) removeVersion(this.root, pending.to)
    this.cleanStaging()
    if (pending.backup != null && !rollback) removeRollbackPoint(this.backupsDir, pending.backup)
    this.state = rolledBack ? 'rolled-back' : 'failed'
    this.pendingVersion = ''
    this.lastError = entry.reason
    return entry
  }

  private cleanStaging (): void {
    const dir = versionsDir(this.root)
    if (!existsSync(dir)) return
    for (const name of readdirSync(dir)) if (name.startsWith('.staging-')) rmSync(join(dir, name), { recursive: true, force: true })
  }

  /**
   * Finishes or undoes an install a crash interrupted (called before any
   * install and when the daemon starts): before the switch it is undone,
   * after it resumed from activation (at most twice), an undo is finished.
   */
  /** recover() under the package's install lock, as the daemon runs it at start */
  async recoverLocked (): Promise<HistoryEntry | undefined> {
    if (!existsSync(this.root)) return undefined
    const lock = acquireInstallLock(this.root, this.init.package)
    try {
      return await this.recover()
    } finally {
      lock.release()
    }
  }

  async recover (): Promise<HistoryEntry | undefined> {
    if (!existsSync(this.root)) return undefined
    cleanSwitchLeftovers(this.root)
    const state = this.journal()
    const pending = state.pending
    if (pending == null) {
      this.cleanStaging()
      // `current` only moves inside a pending install; make sure it agrees with the journal
      if (state.current != null && readCurrent(this.root) !== state.current && existsSync(versionDir(this.root, state.current))) switchCurrent(this.root, state.current)
      return undefined
    }
    this.say(`recover: an install of ${pending.to} stopped at ${pending.undo != null ? `undo:${pending.undo.step}` : pending.step}`)
    if (pending.undo != null) return await this.undo(state, pending, pending.undo.reason)
    const after = ['switch', 'activate', 'health'].includes(pending.step)
    if (pending.step === 'bless') {
      const step = (s: PendingInstall['step']): void => { pending.step = s; state.pending = pending; writeState(this.root, state) }
      return this.bless(pending, state, step)
    }
    if (!after) return await this.undo(state, pending, `interrupted during ${pending.step} (the node stopped); undone at restart`)
    pending.attempts++
    if (pending.attempts > MAX_RESUMES) return await this.undo(state, pending, `interrupted after the switch ${pending.attempts} times; undone at restart`)
    const steps: string[] = []
    const step = (s: PendingInstall['step'], line: string): void => {
      pending.step = s
      state.pending = pending
      writeState(this.root, state)
      steps.push(s)
      this.say(`${s}: ${line} (resumed)`)
      crashPoint(s)
    }
    try {
      state.pending = pending
      writeState(this.root, state)
      switchCurrent(this.root, pending.to)
      pending.switched = true
      await this.activateAndCheck(pending, step)
      return this.bless(pending, state, step)
    } catch (err) {
      return await this.undo(state, pending, `${pending.step} failed after a restart: ${(err as Error).message}`)
    }
  }

  /**
   * Rolls back the last install (or the one named, which must be the last
   * still in effect): the version before it is switched back in, its `up`
   * migrations run down, the rollback point restored, the old version
   * activated and checked.
   */
  async rollback (updateId?: string): Promise<HistoryEntry> {
    const { package: pkg } = this.init
    mkdirSync(this.root, { recursive: true })
    const lock = acquireInstallLock(this.root, pkg)
    try {
      await this.recover()
      const state = this.journal()
      if (state.current == null) throw new InstallError(`${pkg} is not installed; there is nothing to roll back`)
      const installs = this.history().filter(h => h.outcome === 'installed' && h.to === state.current)
      const last = installs[installs.length - 1]
      if (last == null) throw new InstallError(`no install of ${pkg} ${state.current} is recorded in the history; use \`umesh update downgrade --to V\``)
      if (updateId != null && updateId !== last.id) throw new InstallError(`update ${updateId} is not the install in effect (${last.id}: ${last.from ?? '-'} -> ${last.to}); only the last install can be rolled back, use \`umesh update downgrade --to V\` for older versions`)
      if (last.from == null) throw new InstallError(`${pkg} ${last.to} was the first version installed; there is no earlier version to roll back to`)
      if (!existsSync(versionDir(this.root, last.from))) throw new InstallError(`${pkg} ${last.from} is no longer on disk (keepVersions ${this.init.config.keepVersions}); use \`umesh update downgrade --to ${last.from}\``)
      const pending: PendingInstall = { id: `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`, kind: 'rollback', from: last.from, to: last.to, step: 'health', startedAt: now(), migrated: [], migratedDown: [], attempts: 0, switched: true, activated: true, ledgerBefore: readLedger(this.root).applied.map(a => a.id).filter(id => !(last.migrated ?? []).includes(id)), ...(last.backup != null ? { backup: last.backup } : {}) }
      pending.undo = { step: 'switch-back', reason: `rollback of update ${last.id} requested` }
      state.pending = pending
      writeState(this.root, state)
      this.state = 'installing'
      return await this.undo(state, pending, pending.undo.reason)
    } finally {
      lock.release()
    }
  }

  /** every step an install of `to` would take, with what it would do; nothing is written */
  private async plan (to: string, index: ReleaseIndex, options: InstallOptions): Promise<InstallResult> {
    const { config } = this.init
    const state = existsSync(this.root) ? this.journal() : { current: null, versions: [] as string[], pending: null }
    const steps: string[] = []
    const from = state.current
    steps.push(`preflight: ${options.kind} ${this.init.package} ${from ?? '(none)'} -> ${to}; need ${2 * index.totalSize} bytes free under ${this.root} and ${config.minFreeMemory} bytes of free memory${state.pending != null ? `; first recover the interrupted install of ${state.pending.to}` : ''}`)
    try {
      checkDiskSpace(existsSync(this.root) ? this.root : this.init.dataDir, 2 * index.totalSize)
      checkMemory(config.minFreeMemory)
    } catch (err) {
      steps.push(`preflight would refuse: ${(err as Error).message}`)
    }
    const prev = from == null ? undefined : this.init.index(from)
    const same = prev == null ? 0 : index.files.filter(f => prev.files.some(p => p.path === f.path && p.sha256 === f.sha256 && p.mode === f.mode)).length
    const onDisk = existsSync(versionDir(this.root, to))
    steps.push(onDisk ? `stage: versions/${to} is on disk; verify it file by file and reuse it` : `stage: write ${index.files.length - same} files and hard-link ${same} unchanged files from ${from ?? '-'} into versions/${to}, verifying every sha256`)
    steps.push(config.statePaths.length === 0 ? 'backup: no state paths configured' : `backup: save ${config.statePaths.join(', ')} as a rollback point${config.encryptBackups ? ' (encrypted)' : ''}`)
    const ledger = existsSync(this.root) ? new Set(readLedger(this.root).applied.map(a => a.id)) : new Set<string>()
    const migrations = index.files.filter(f => /^migrations\/\d+-[a-z0-9._-]+\.up$/.test(f.path)).map(f => f.path.slice('migrations/'.length, -'.up'.length))
    const up = migrations.filter(id => !ledger.has(id))
    steps.push(up.length === 0 ? 'migrate: no migrations to run' : `migrate: run up ${up.join(', ')}`)
    steps.push(`switch: current -> versions/${to} (one rename)`)
    steps.push(config.hooks.activate == null ? 'activate: no activate hook configured' : `activate: run ${config.hooks.activate.join(' ')} (timeout ${config.hooks.timeoutMs} ms)`)
    steps.push(config.health == null ? 'health: no health check configured' : `health: ${config.health.check.type} check (timeout ${config.health.timeoutMs} ms, ${config.health.retries} retries); on failure roll back to ${from ?? 'nothing'}`)
    const versions = [...state.versions.filter(v => v !== to), to]
    const pruned = versions.slice(0, Math.max(0, versions.length - config.keepVersions))
    steps.push(`bless: ${to} becomes current${pruned.length > 0 ? `; remove ${pruned.join(', ')} (keepVersions ${config.keepVersions})` : ''}`)
    for (const s of steps) this.say(`[dry run] ${s}`)
    return { dryRun: true, steps }
  }
}
