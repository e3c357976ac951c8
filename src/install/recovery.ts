/**
 * Finishing or undoing an install a crash (or a cancel) interrupted, called
 * before any install and when the daemon starts. Before the switch the
 * install is undone: nothing the old version uses was touched but by
 * migrations, which are run down. After it the new version is already
 * `current`, so the install is resumed from activation, at most twice (a
 * version that kills the node while it starts must not do so forever), then
 * undone. An undo under way is finished; a bless under way is finished.
 */
import { existsSync } from 'node:fs'
import { activateAndCheck, bless } from './install-finish.js'
import { leavePending } from './journaled-step.js'
import { writeState } from './journal.js'
import { versionDir } from './stage.js'
import { cleanSwitchLeftovers, readCurrent, switchCurrent } from './switch.js'
import { cleanStaging, undo } from './undo.js'
import type { InstallContext } from './install-context.js'
import type { InstallRun } from './journaled-step.js'
import type { HistoryEntry, InstallState, PendingInstall } from './types.js'

/**
 * How the history names an install that the node's own stop cut short
 * before the switch, undone at restart: nothing of the release ran, so it
 * says nothing about the release (a rollout tries it again).
 */
export const INTERRUPTED_BEFORE_SWITCH = 'interrupted during '

/** restarts that may resume an install after its switch before it is undone */
const MAX_RESUMES = 2

export interface RecoverOptions {
  signal?: AbortSignal
}

/** runs activation, health and bless again for an install cut after its switch; undoes it when they fail */
async function resume (ctx: InstallContext, state: InstallState, pending: PendingInstall, signal?: AbortSignal): Promise<HistoryEntry> {
  const run: InstallRun = { state, pending, steps: [], signal, note: ' (resumed)' }
  try {
    state.pending = pending
    writeState(ctx.root, state)
    switchCurrent(ctx.root, pending.to)
    pending.switched = true
    await activateAndCheck(ctx, run)
    return bless(ctx, run)
  } catch (err) {
    if (signal?.aborted === true) leavePending(ctx, run, signal)
    return await undo(ctx, state, pending, `${pending.step} failed after a restart: ${(err as Error).message}`, signal)
  }
}

/**
 * Finishes or undoes the install the journal holds pending, if any; returns
 * its history entry. Without one, removes what a crash outside an install
 * left (staging folders, temporary links) and puts `current` back where the
 * journal says. The caller holds the install lock.
 */
export async function recover (ctx: InstallContext, options: RecoverOptions = {}): Promise<HistoryEntry | undefined> {
  const { root } = ctx
  const { signal } = options
  if (!existsSync(root)) return undefined
  cleanSwitchLeftovers(root)
  const state = ctx.journal()
  const pending = state.pending
  if (pending == null) {
    cleanStaging(root)
    // `current` only moves inside a pending install; make sure it agrees with the journal
    if (state.current != null && readCurrent(root) !== state.current && existsSync(versionDir(root, state.current))) switchCurrent(root, state.current)
    return undefined
  }
  if (signal?.aborted === true) leavePending(ctx, { state, pending, steps: [] }, signal)
  ctx.log('%s: recovering %s, stopped at %s', ctx.pkg, pending.id, pending.undo != null ? `undo:${pending.undo.step}` : pending.step)
  ctx.say(`recover: an install of ${pending.to} stopped at ${pending.undo != null ? `undo:${pending.undo.step}` : pending.step}`)
  if (pending.undo != null) return await undo(ctx, state, pending, pending.undo.reason, signal)
  // the history entry may be written already: bless records it only once
  if (pending.step === 'bless') return bless(ctx, { state, pending, steps: [], signal, quiet: true })
  if (!['switch', 'activate', 'health'].includes(pending.step)) {
    return await undo(ctx, state, pending, `${INTERRUPTED_BEFORE_SWITCH}${pending.step} (the node stopped); undone at restart`, signal)
  }
  pending.attempts++
  if (pending.attempts > MAX_RESUMES) return await undo(ctx, state, pending, `interrupted after the switch ${pending.attempts} times; undone at restart`, signal)
  return await resume(ctx, state, pending, signal)
}

/** recover() under the package's install lock, as the daemon runs it at start */
export async function recoverLocked (ctx: InstallContext, options: RecoverOptions = {}): Promise<HistoryEntry | undefined> {
  if (!existsSync(ctx.root)) return undefined
  return await ctx.locked(async () => await recover(ctx, options))
}
