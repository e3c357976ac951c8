/**
 * The forward transaction of an install, under the package's install lock:
 *
 *   preflight  disk (twice the package), memory
 *   stage      materialise versions/<to>/ from verified chunks (hard links for unchanged files)
 *   backup     a rollback point of the package's statePaths
 *   migrate    the release's `up` migrations (a downgrade: `down` of those the target lacks)
 *   switch     one rename() of a symlink over `current`
 *   activate, health, bless   (install-finish.ts: a restart resumes them)
 *
 * A step that fails undoes the install at once. A cancel does not: the
 * journal is left naming the step the install reached, exactly as a crash
 * there would leave it, and the next recovery finishes or undoes it; that
 * path is the one the crash tests already prove, so a cancel adds no new
 * state to get wrong.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { InstallError, InstallFailedError } from './errors.js'
import { newInstallId, now } from './install-context.js'
import { activateAndCheck, bless } from './install-finish.js'
import { crashPoint, journaledStep, leavePending } from './journaled-step.js'
import { writeState } from './journal.js'
import { listMigrations, readLedger, runDown, runUp } from './migrations.js'
import { checkDiskSpace, checkMemory } from './preflight.js'
import { recover } from './recovery.js'
import { createRollbackPoint } from './rollback-point.js'
import { promoteStaged, stageVersion, verifyTree, versionDir } from './stage.js'
import { readCurrent, switchCurrent } from './switch.js'
import { undo } from './undo.js'
import type { InstallContext } from './install-context.js'
import type { InstallOptions, InstallResult } from './installer.js'
import type { InstallRun } from './journaled-step.js'
import type { PendingInstall } from './types.js'
import type { ReleaseIndex } from '../release/index.js'

async function stage (ctx: InstallContext, run: InstallRun, index: ReleaseIndex): Promise<void> {
  const { state, pending } = run
  const dir = versionDir(ctx.root, index.version)
  if (existsSync(dir)) {
    const check = await verifyTree(dir, index)
    if (check.ok) {
      ctx.say(`stage: versions/${index.version} is on disk and verifies; reused`)
      return
    }
    ctx.say(`stage: versions/${index.version} does not verify (${check.problems.slice(0, 3).join('; ')}); staging it again`)
  }
  const prev = state.current == null ? undefined : ctx.init.index(state.current)
  const previous = prev == null || state.current == null ? undefined : { dir: versionDir(ctx.root, state.current), index: prev }
  ctx.status.progress = { done: 0, total: index.totalSize }
  const staged = await stageVersion({
    index,
    store: ctx.init.store,
    installRoot: ctx.root,
    stagingName: `.staging-${pending.id}`,
    ...(previous != null ? { previous } : {}),
    signal: run.signal,
    onProgress: (done, total) => {
      ctx.status.progress = { done, total }
      if (done > 0 && process.env.UMESH_CRASH_AT === 'stage-mid') crashPoint('stage-mid')
    }
  })
  promoteStaged(ctx.root, `.staging-${pending.id}`, index.version)
  ctx.say(`stage: ${staged.written} files written, ${staged.linked} hard-linked from ${state.current ?? '-'}`)
}

async function migrate (ctx: InstallContext, run: InstallRun): Promise<void> {
  const { pending } = run
  const newDir = versionDir(ctx.root, pending.to)
  const oldDir = pending.from == null ? null : versionDir(ctx.root, pending.from)
  const common = { installRoot: ctx.root, oldVersion: pending.from, newVersion: pending.to, oldDir, newDir, timeoutMs: ctx.config.hooks.timeoutMs, env: ctx.env(pending.from, pending.to), signal: run.signal }
  if (pending.kind === 'downgrade' && pending.from != null) {
    // migrations the target does not ship are undone with the scripts of the version that shipped them
    const shipped = new Set(listMigrations(newDir).map(m => m.id))
    const extra = readLedger(ctx.root).applied.map(a => a.id).filter(id => !shipped.has(id))
    if (extra.length > 0) {
      pending.migratedDown = await runDown({ ...common, ids: extra, scriptsDir: oldDir! })
      ctx.say(`migrate: ran down ${pending.migratedDown.join(', ')}`)
    }
  }
  pending.migrated = await runUp({ ...common, versionDir: newDir })
  if (pending.migrated.length > 0) ctx.say(`migrate: ran up ${pending.migrated.join(', ')}`)
}

/** every step from preflight to bless; throws at the first that fails or when cancelled */
async function forward (ctx: InstallContext, run: InstallRun, index: ReleaseIndex): Promise<void> {
  const { config, pkg, root } = ctx
  const { state, pending } = run
  ctx.status.state = 'installing'
  journaledStep(ctx, run, 'preflight', `${pkg} ${state.current ?? '(none)'} -> ${pending.to}, ${index.totalSize} bytes`)
  checkDiskSpace(root, 2 * index.totalSize)
  checkMemory(config.minFreeMemory)

  ctx.status.state = 'staging'
  journaledStep(ctx, run, 'stage', `materialising ${index.files.length} files into ${versionDir(root, pending.to)}`)
  await stage(ctx, run, index)

  ctx.status.state = 'installing'
  journaledStep(ctx, run, 'backup', config.statePaths.length === 0 ? 'no state paths configured' : `saving ${config.statePaths.join(', ')}`)
  if (config.statePaths.length > 0) {
    createRollbackPoint({ backupsDir: ctx.backupsDir, id: pending.id, package: pkg, version: state.current, statePaths: config.statePaths, key: ctx.key() })
    pending.backup = pending.id
  }

  pending.ledgerBefore = readLedger(root).applied.map(a => a.id)
  journaledStep(ctx, run, 'migrate', 'running migrations')
  await migrate(ctx, run)

  journaledStep(ctx, run, 'switch', `current -> versions/${pending.to}`)
  switchCurrent(root, pending.to)
  pending.switched = true
  writeState(root, state)

  await activateAndCheck(ctx, run)
}

/**
 * Installs `to` (an upgrade or a downgrade). Throws InstallFailedError after
 * undoing a failed install, InstallInProgressError when another install
 * holds the lock, the signal's reason when cancelled (nothing undone).
 */
export async function runInstall (ctx: InstallContext, to: string, index: ReleaseIndex, options: InstallOptions): Promise<InstallResult> {
  const { signal } = options
  mkdirSync(ctx.root, { recursive: true })
  return await ctx.locked(async () => {
    await recover(ctx, { signal })
    const state = ctx.journal()
    if (state.current === to && readCurrent(ctx.root) === to) throw new InstallError(`${ctx.pkg} ${to} is already the current version`)
    const pending: PendingInstall = {
      id: newInstallId(),
      kind: options.kind,
      from: state.current,
      to,
      step: 'preflight',
      startedAt: now(),
      migrated: [],
      migratedDown: [],
      attempts: 0
    }
    ctx.status.pendingVersion = to
    ctx.status.lastError = ''
    const run: InstallRun = { state, pending, steps: [], signal }
    try {
      await forward(ctx, run, index)
      const entry = bless(ctx, run)
      return { dryRun: false, steps: run.steps, entry }
    } catch (err) {
      if (err instanceof InstallFailedError) throw err
      if (signal?.aborted === true) leavePending(ctx, run, signal)
      const reason = `${pending.step} failed: ${(err as Error).message}`
      ctx.log('%s %s: %s; undoing it - %e', ctx.pkg, pending.id, reason, err)
      const entry = await undo(ctx, state, pending, reason, signal)
      throw new InstallFailedError(`${ctx.pkg} ${to} was not installed: ${reason}${entry.outcome === 'rolled-back' ? `; rolled back to ${entry.from ?? 'nothing'}` : ''}`, entry)
    }
  })
}
