/**
 * The install transaction of one package, and its undoing: the public entry
 * the install manager holds one of per package.
 *
 * An install is a sequence of journaled steps (preflight, stage, backup,
 * migrate, switch, activate, health, bless): the journal is written before
 * each, so a restart (`recover()`) knows where it stopped and either
 * finishes the install or undoes it. Nothing the old version runs from is
 * touched before the switch, and the switch is one rename(), so at every
 * instant one whole version is `current`.
 *
 *   install-transaction.ts  the forward steps up to the switch, and undo on failure
 *   install-finish.ts       activate, health, bless (shared with recovery)
 *   undo.ts, rollback.ts    undoing a failed install; `update rollback`
 *   recovery.ts             after a crash or a cancel
 *   dry-run.ts              the plan, nothing written
 *   journaled-step.ts       entering a step: cancel check, journal, say, crash point
 */
import { InstallContext } from './install-context.js'
import { dryRun } from './dry-run.js'
import { runInstall } from './install-transaction.js'
import { recover, recoverLocked } from './recovery.js'
import { rollback } from './rollback.js'
import type { ComponentLogger } from '@libp2p/interface'
import type { RecoverOptions } from './recovery.js'
import type { RollbackOptions } from './rollback.js'
import type { RollbackPointSummary } from './rollback-point.js'
import type { HistoryEntry, InstallKind, InstallState, PackageInstallConfig, PackageState } from './types.js'
import type { ReleaseIndex } from '../release/index.js'
import type { StageChunkSource } from './stage.js'

export { InstallError, InstallFailedError } from './errors.js'
export type { RecoverOptions } from './recovery.js'
export type { RollbackOptions } from './rollback.js'

export interface InstallerInit {
  package: string
  config: PackageInstallConfig
  store: StageChunkSource
  /** the verified release index of a version this node holds, or undefined */
  index: (version: string) => ReleaseIndex | undefined
  /** the key rollback points are encrypted with, made on first use (only called when config.encryptBackups) */
  backupKey: () => Uint8Array
  /** component logs: logger.forComponent('umesh:install') style, with %p / %e */
  logger: ComponentLogger
  /** progress lines for the operator (the CLI streams them) */
  say?: (line: string) => void
}

export interface InstallOptions {
  kind: Exclude<InstallKind, 'rollback'>
  dryRun?: boolean
  /**
   * Cancels the install: hooks, migrations and health checks under way are
   * stopped, and the install is left pending in the journal where it stopped
   * (not undone) for the next recovery; the signal's reason is thrown.
   */
  signal?: AbortSignal
}

export interface InstallResult {
  dryRun: boolean
  /** the steps, as done or as they would be done */
  steps: string[]
  entry?: HistoryEntry
}

export class Installer {
  private readonly ctx: InstallContext

  constructor (init: InstallerInit) {
    this.ctx = new InstallContext(init)
  }

  /** what the package is doing, for status */
  get state (): PackageState { return this.ctx.status.state }
  set state (state: PackageState) { this.ctx.status.state = state }
  get pendingVersion (): string { return this.ctx.status.pendingVersion }
  set pendingVersion (version: string) { this.ctx.status.pendingVersion = version }
  get lastError (): string { return this.ctx.status.lastError }
  set lastError (message: string) { this.ctx.status.lastError = message }
  get progress (): { done: number, total: number } { return this.ctx.status.progress }
  set progress (progress: { done: number, total: number }) { this.ctx.status.progress = progress }

  get root (): string {
    return this.ctx.root
  }

  journal (): InstallState {
    return this.ctx.journal()
  }

  history (): HistoryEntry[] {
    return this.ctx.history()
  }

  backups (): RollbackPointSummary[] {
    return this.ctx.backups()
  }

  /**
   * Installs `to` (an upgrade or a downgrade), or with dryRun describes every
   * step and changes nothing. Throws InstallFailedError after undoing a
   * failed install, InstallInProgressError when another install holds the
   * lock, the signal's reason when cancelled.
   */
  async install (to: string, options: InstallOptions): Promise<InstallResult> {
    const index = this.ctx.needIndex(to)
    if (options.dryRun === true) return await dryRun(this.ctx, to, index, options)
    return await runInstall(this.ctx, to, index, options)
  }

  /** undoes the install in effect (or `updateId`, which must be it); see rollback.ts */
  async rollback (updateId?: string, options: RollbackOptions = {}): Promise<HistoryEntry> {
    return await rollback(this.ctx, updateId, options)
  }

  /** finishes or undoes an interrupted install; the caller holds the install lock (see recovery.ts) */
  async recover (options: RecoverOptions = {}): Promise<HistoryEntry | undefined> {
    return await recover(this.ctx, options)
  }

  /** recover() under the package's install lock, as the daemon runs it at start */
  async recoverLocked (options: RecoverOptions = {}): Promise<HistoryEntry | undefined> {
    return await recoverLocked(this.ctx, options)
  }
}
