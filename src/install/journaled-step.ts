/**
 * The one way an install, its recovery and its undo enter a step: check
 * that nobody cancelled, write the step to the journal, then say it, then
 * (in crash tests) die. The journal comes first so a crash or a cancel at
 * any later instant leaves a journal that names the step under way, which
 * is what `recover()` resumes or undoes from.
 *
 * `UMESH_CRASH_AT=<step>` (or `undo:<step>`, or `stage-mid`) makes the
 * process SIGKILL itself when it reaches that step: the crash-safety tests
 * use it to cut an install at every point.
 */
import { writeState } from './journal.js'
import type { InstallContext } from './install-context.js'
import type { InstallState, InstallStep, PendingInstall, RollbackStep } from './types.js'

/** a step of undoing an install, as the journal and UMESH_CRASH_AT name it */
export type UndoStep = `undo:${RollbackStep}`

/** one install, recovery or undo under way: the journal it writes and what it reports */
export interface InstallRun {
  state: InstallState
  pending: PendingInstall
  /** "<step>: <line>" of each step entered with a line, for InstallResult.steps */
  steps: string[]
  signal?: AbortSignal
  /** appended to each line said (" (resumed)" when a restart resumes an install) */
  note?: string
  /** journal only, nothing said and no crash point (a restart finishing a bless) */
  quiet?: boolean
}

export function crashPoint (point: string): void {
  if (process.env.UMESH_CRASH_AT === point) process.kill(process.pid, 'SIGKILL')
}

/**
 * Enters `step`: throws the signal's reason when cancelled (the journal then
 * still names the step before, as a crash there would), records the step in
 * the journal, says `line` (undo steps have none), then reaches the step's
 * crash point.
 */
export function journaledStep (ctx: InstallContext, run: InstallRun, step: InstallStep | UndoStep, line?: string): void {
  run.signal?.throwIfAborted()
  if (step.startsWith('undo:')) run.pending.undo!.step = step.slice('undo:'.length) as RollbackStep
  else run.pending.step = step as InstallStep
  run.state.pending = run.pending
  writeState(ctx.root, run.state)
  if (run.quiet === true || line == null) ctx.log('%s %s -> %s', ctx.pkg, run.pending.id, step)
  if (run.quiet === true) return
  if (line != null) {
    run.steps.push(`${step}: ${line}`)
    ctx.say(`${step}: ${line}${run.note ?? ''}`)
  }
  crashPoint(step)
}

/**
 * Ends a cancelled install, recovery or undo: the journal keeps it pending
 * where it stopped, for the next recovery to finish or undo, as after a
 * crash there. Throws the signal's reason.
 */
export function leavePending (ctx: InstallContext, run: InstallRun, signal: AbortSignal): never {
  const what = `the ${run.pending.kind === 'rollback' ? 'rollback' : 'install'} of ${ctx.pkg} ${run.pending.to}`
  const where = run.state.pending == null
    ? 'before it began; nothing was changed'
    : `during ${run.pending.undo != null ? `undo:${run.pending.undo.step}` : run.pending.step}; it is finished or undone when the node next recovers it`
  ctx.status.state = 'idle'
  ctx.status.pendingVersion = ''
  ctx.status.lastError = `${what} was cancelled ${where}`
  ctx.log('%s was cancelled %s', what, where)
  throw signal.reason
}
