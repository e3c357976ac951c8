/**
 * `update rollback`: undoing the install in effect, later, on request. It is
 * journaled as an install of kind `rollback` that is already being undone
 * from its switch, so it runs (and recovers after a crash) exactly like the
 * undo of a failed install: the version before it switched back in, the
 * migrations it ran down, its rollback point restored, the old version
 * activated. Only the last install can be rolled back this way; older
 * versions are reached with a downgrade.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { InstallError } from './errors.js'
import { newInstallId, now } from './install-context.js'
import { writeState } from './journal.js'
import { readLedger } from './migrations.js'
import { recover } from './recovery.js'
import { versionDir } from './stage.js'
import { undo } from './undo.js'
import type { InstallContext } from './install-context.js'
import type { HistoryEntry, InstallState, PendingInstall } from './types.js'

export interface RollbackOptions {
  signal?: AbortSignal
}

/** the install `rollback(updateId)` undoes: the last one recorded for the current version, if it can be */
function installInEffect (ctx: InstallContext, state: InstallState, updateId?: string): HistoryEntry & { from: string } {
  const { pkg } = ctx
  if (state.current == null) throw new InstallError(`${pkg} is not installed; there is nothing to roll back`)
  const installs = ctx.history().filter(h => h.outcome === 'installed' && h.to === state.current)
  const last = installs[installs.length - 1]
  if (last == null) throw new InstallError(`no install of ${pkg} ${state.current} is recorded in the history; use \`umesh update downgrade --to V\``)
  if (updateId != null && updateId !== last.id) {
    throw new InstallError(`update ${updateId} is not the install in effect (${last.id}: ${last.from ?? '-'} -> ${last.to}); only the last install can be rolled back, use \`umesh update downgrade --to V\` for older versions`)
  }
  if (last.from == null) throw new InstallError(`${pkg} ${last.to} was the first version installed; there is no earlier version to roll back to`)
  if (!existsSync(versionDir(ctx.root, last.from))) {
    throw new InstallError(`${pkg} ${last.from} is no longer on disk (keepVersions ${ctx.config.keepVersions}); use \`umesh update downgrade --to ${last.from}\``)
  }
  return { ...last, from: last.from }
}

/**
 * Rolls back the last install (or the one named, which must be the last
 * still in effect): the version before it is switched back in, its `up`
 * migrations run down, the rollback point restored, the old version
 * activated and checked.
 */
export async function rollback (ctx: InstallContext, updateId?: string, options: RollbackOptions = {}): Promise<HistoryEntry> {
  const { signal } = options
  mkdirSync(ctx.root, { recursive: true })
  return await ctx.locked(async () => {
    await recover(ctx, { signal })
    const state = ctx.journal()
    const last = installInEffect(ctx, state, updateId)
    const migratedByIt = last.migrated ?? []
    const pending: PendingInstall = {
      id: newInstallId(),
      kind: 'rollback',
      from: last.from,
      to: last.to,
      step: 'health',
      startedAt: now(),
      migrated: [],
      migratedDown: [],
      attempts: 0,
      switched: true,
      activated: true,
      // the ledger as it was before that install: what it ran up is what is run down
      ledgerBefore: readLedger(ctx.root).applied.map(a => a.id).filter(id => !migratedByIt.includes(id)),
      ...(last.backup != null ? { backup: last.backup } : {})
    }
    pending.undo = { step: 'switch-back', reason: `rollback of update ${last.id} requested` }
    signal?.throwIfAborted()
    state.pending = pending
    writeState(ctx.root, state)
    ctx.status.state = 'installing'
    return await undo(ctx, state, pending, pending.undo.reason, signal)
  })
}
