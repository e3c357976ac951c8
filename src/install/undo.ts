/**
 * Undoing an install from wherever it stopped: switch back, migrations run
 * down, the rollback point restored, the old version re-activated. Each step
 * is journaled before it runs and each is safe to run again, so a crash
 * while undoing is finished by the next recovery. A step that fails is
 * reported in the history entry and the undo goes on: stopping half-way
 * would leave neither version working. A cancel is the exception: the undo
 * stops at the step it reached and the next recovery finishes it.
 */
import { existsSync, readdirSync, rmSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { now } from './install-context.js'
import { runActivateHook } from './install-finish.js'
import { journaledStep, leavePending } from './journaled-step.js'
import { writeState } from './journal.js'
import { readLedger, runDown, runUp } from './migrations.js'
import { removeRollbackPoint, restoreRollbackPoint } from './rollback-point.js'
import { removeVersion, versionDir, versionsDir } from './stage.js'
import { CURRENT_LINK, switchCurrent } from './switch.js'
import { INSTALL_STEPS, ROLLBACK_STEPS } from './types.js'
import type { InstallContext } from './install-context.js'
import type { InstallRun } from './journaled-step.js'
import type { HistoryEntry, InstallState, InstallStep, PendingInstall, RollbackStep } from './types.js'

/** one undo under way */
interface Undoing {
  ctx: InstallContext
  run: InstallRun
  /** the install step that failed (or was interrupted) */
  failedAt: string
  /** steps of the undo that failed, for the history entry */
  problems: string[]
}

/** runs one undo step's work; a failure is recorded and the undo goes on, a cancel stops it */
async function attempt (u: Undoing, what: string, fn: () => Promise<void> | void): Promise<void> {
  try {
    await fn()
  } catch (err) {
    u.run.signal?.throwIfAborted()
    u.problems.push(`${what}: ${(err as Error).message}`)
    u.ctx.say(`undo: ${what} failed - ${(err as Error).message}`)
    u.ctx.log.error('undo of %s %s: %s failed - %e', u.ctx.pkg, u.run.pending.id, what, err)
  }
}

function switchBack (ctx: InstallContext, pending: PendingInstall): void {
  const target = pending.from
  if (target != null && existsSync(versionDir(ctx.root, target))) switchCurrent(ctx.root, target)
  else if (target == null && existsSync(join(ctx.root, CURRENT_LINK))) unlinkSync(join(ctx.root, CURRENT_LINK))
}

async function migrateDown (u: Undoing): Promise<void> {
  const { ctx, run: { pending, signal } } = u
  const before = new Set(pending.ledgerBefore ?? readLedger(ctx.root).applied.map(a => a.id))
  const ran = readLedger(ctx.root).applied.map(a => a.id).filter(id => !before.has(id))
  const newDir = versionDir(ctx.root, pending.to)
  const oldDir = pending.from == null ? null : versionDir(ctx.root, pending.from)
  const common = { installRoot: ctx.root, timeoutMs: ctx.config.hooks.timeoutMs, env: ctx.env(pending.from, pending.to), signal }
  if (ran.length > 0) {
    await attempt(u, 'down migrations', async () => {
      const done = await runDown({ ...common, ids: ran, scriptsDir: newDir, oldVersion: pending.from, newVersion: pending.to, oldDir, newDir })
      ctx.say(`undo: ran down ${done.join(', ')}`)
    })
  }
  if (pending.migratedDown.length > 0 && oldDir != null) {
    // a downgrade undid migrations of the version it left: they are applied again
    await attempt(u, 're-applying migrations', async () => {
      await runUp({ ...common, versionDir: oldDir, oldVersion: pending.to, newVersion: pending.from!, oldDir: newDir, newDir: oldDir })
    })
  }
}

async function restore (u: Undoing): Promise<void> {
  const { ctx, run: { pending } } = u
  // before the switch only migrations could have changed the state; the old
  // version kept running and writing, and a restore would lose that
  // (a migration that failed half-way may have changed them too, so reaching the migrate step counts)
  const touched = pending.switched === true || INSTALL_STEPS.indexOf(u.failedAt as InstallStep) >= INSTALL_STEPS.indexOf('migrate')
  if (pending.backup == null || !touched) return
  await attempt(u, 'restoring the rollback point', () => {
    const r = restoreRollbackPoint({ backupsDir: ctx.backupsDir, id: pending.backup!, key: ctx.key() })
    ctx.say(`undo: restored ${r.restored} state paths from rollback point ${pending.backup!}`)
  })
}

/** the history entry, then the journal lets go of the install and what it left is removed */
function finishUndo (u: Undoing): HistoryEntry {
  const { ctx, run: { pending, state } } = u
  const undo = pending.undo!
  const rolledBack = pending.switched === true
  const rollback = pending.kind === 'rollback'
  const entry: HistoryEntry = {
    id: pending.id,
    package: ctx.pkg,
    kind: pending.kind,
    // a rollback is recorded as the move it made: from the version it left to the one it restored
    from: rollback ? pending.to : pending.from,
    to: rollback ? pending.from ?? '' : pending.to,
    startedAt: pending.startedAt,
    finishedAt: now(),
    outcome: rolledBack ? 'rolled-back' : 'failed',
    reason: u.problems.length === 0 ? undo.reason : `${undo.reason}; while undoing: ${u.problems.join('; ')}`,
    ...(rollback ? {} : { step: u.failedAt })
  }
  // recorded before the journal lets go of it, as in bless
  ctx.record(entry)
  const keptBefore = state.versions.includes(pending.to)
  if (rollback && pending.from != null) {
    // a rollback makes the version it went back to current again
    state.current = pending.from
    state.versions = [...state.versions.filter(v => v !== pending.from), pending.from]
  }
  state.pending = null
  writeState(ctx.root, state)
  if (!keptBefore && pending.to !== pending.from) removeVersion(ctx.root, pending.to)
  cleanStaging(ctx.root)
  if (pending.backup != null && !rollback) removeRollbackPoint(ctx.backupsDir, pending.backup)
  ctx.status.state = rolledBack ? 'rolled-back' : 'failed'
  ctx.status.pendingVersion = ''
  ctx.status.lastError = entry.reason
  return entry
}

/** the undo steps from the one the journal names on */
async function undoSteps (u: Undoing): Promise<void> {
  const { ctx, run } = u
  const { pending } = run
  const at = (s: RollbackStep): boolean => ROLLBACK_STEPS.indexOf(pending.undo!.step) <= ROLLBACK_STEPS.indexOf(s)
  if (at('switch-back')) {
    journaledStep(ctx, run, 'undo:switch-back')
    switchBack(ctx, pending)
  }
  if (at('migrate-down')) {
    journaledStep(ctx, run, 'undo:migrate-down')
    await migrateDown(u)
  }
  if (at('restore')) {
    journaledStep(ctx, run, 'undo:restore')
    await restore(u)
  }
  if (at('reactivate')) {
    journaledStep(ctx, run, 'undo:reactivate')
    if (pending.activated === true && pending.from != null) {
      await attempt(u, 're-activating the old version', async () => { await runActivateHook(ctx, pending.from!, pending.to, run.signal) })
    }
  }
  journaledStep(ctx, run, 'undo:done')
}

/**
 * Undoes `pending` from wherever it stopped: switch back, migrations down,
 * state restored, the old version re-activated. Each step is journaled
 * before it runs; each is safe to run again after a crash.
 */
export async function undo (ctx: InstallContext, state: InstallState, pending: PendingInstall, reason: string, signal?: AbortSignal): Promise<HistoryEntry> {
  pending.undo ??= { step: 'switch-back', reason, failedAt: pending.step }
  const u: Undoing = { ctx, run: { state, pending, steps: [], signal }, failedAt: pending.undo.failedAt ?? pending.step, problems: [] }
  ctx.status.lastError = pending.undo.reason
  ctx.say(`undo: ${pending.undo.reason}`)
  try {
    await undoSteps(u)
  } catch (err) {
    if (signal?.aborted === true) leavePending(ctx, u.run, signal)
    throw err
  }
  return finishUndo(u)
}

/** removes staging folders an interrupted install left */
export function cleanStaging (root: string): void {
  const dir = versionsDir(root)
  if (!existsSync(dir)) return
  for (const name of readdirSync(dir)) if (name.startsWith('.staging-')) rmSync(join(dir, name), { recursive: true, force: true })
}
