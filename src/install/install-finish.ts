/**
 * The steps after the switch: activate, health, bless. They are the part of
 * an install a restart resumes (the new version is already `current`), so
 * the install and its recovery both run them from here. Bless records the
 * history entry before the journal lets go of the install, so a crash
 * between the two blesses again rather than recording twice.
 */
import { InstallError } from './errors.js'
import { checkHealth } from './health.js'
import { now } from './install-context.js'
import { journaledStep } from './journaled-step.js'
import { writeState } from './journal.js'
import { removeRollbackPoint } from './rollback-point.js'
import { describeRun, runCommand } from './run-command.js'
import { removeVersion, versionDir } from './stage.js'
import type { InstallContext } from './install-context.js'
import type { InstallRun } from './journaled-step.js'
import type { HistoryEntry, InstallState } from './types.js'

/** runs the activate hook for `version` (nothing when none is configured); throws when it fails */
export async function runActivateHook (ctx: InstallContext, version: string, from: string | null, signal?: AbortSignal): Promise<void> {
  const hook = ctx.config.hooks.activate
  if (hook == null) return
  const r = await runCommand(hook, { cwd: versionDir(ctx.root, version), env: ctx.env(from, version), timeoutMs: ctx.config.hooks.timeoutMs, signal })
  if (r.code !== 0) throw new InstallError(`the activate hook failed: ${describeRun(hook, r)}`)
}

export async function activateAndCheck (ctx: InstallContext, run: InstallRun): Promise<void> {
  const { config } = ctx
  const { pending } = run
  // journaled before the hook runs: a crash inside it still re-activates the old version on undo
  pending.activated = true
  journaledStep(ctx, run, 'activate', config.hooks.activate == null ? 'no activate hook configured' : config.hooks.activate.join(' '))
  await runActivateHook(ctx, pending.to, pending.from, run.signal)
  const health = config.health
  ctx.status.state = 'health-check'
  journaledStep(ctx, run, 'health', health == null ? 'no health check configured' : `${health.check.type} check, ${health.retries} retries, ${health.intervalMs} ms apart, ${health.graceMs} ms grace`)
  if (health != null) {
    const result = await checkHealth(health, { env: ctx.env(pending.from, pending.to), cwd: versionDir(ctx.root, pending.to), signal: run.signal })
    if (!result.healthy) throw new InstallError(`unhealthy after ${result.attempts} attempts: ${result.detail}`)
    ctx.say(`health: healthy (${result.detail})`)
  }
}

/** rollback points are kept for the installs whose versions are still on disk */
function pruneBackups (ctx: InstallContext, state: InstallState): void {
  const keep = new Set(ctx.history().filter(h => state.versions.includes(h.to)).map(h => h.backup).filter(b => b != null))
  for (const b of ctx.backups()) if (!keep.has(b.id)) removeRollbackPoint(ctx.backupsDir, b.id)
}

export function bless (ctx: InstallContext, run: InstallRun): HistoryEntry {
  const { pending, state } = run
  journaledStep(ctx, run, 'bless', `${pending.to} is current`)
  state.current = pending.to
  state.versions = [...state.versions.filter(v => v !== pending.to), pending.to]
  const pruned: string[] = []
  while (state.versions.length > ctx.config.keepVersions) pruned.push(state.versions.shift()!)
  const entry: HistoryEntry = {
    id: pending.id,
    package: ctx.pkg,
    kind: pending.kind,
    from: pending.from,
    to: pending.to,
    startedAt: pending.startedAt,
    finishedAt: now(),
    outcome: 'installed',
    reason: '',
    ...(pending.backup != null ? { backup: pending.backup } : {}),
    migrated: pending.migrated
  }
  // recorded before the journal lets go of it: a crash between the two finishes the bless again, not records it twice
  ctx.record(entry)
  state.pending = null
  writeState(ctx.root, state)
  for (const v of pruned) removeVersion(ctx.root, v)
  pruneBackups(ctx, state)
  ctx.status.state = 'healthy'
  ctx.status.pendingVersion = ''
  ctx.say(`bless: ${ctx.pkg} ${pending.to} installed${pruned.length > 0 ? `; removed ${pruned.join(', ')}` : ''}`)
  return entry
}
