/**
 * What every part of one package's installs shares: its settings and
 * install root, the status the node reports while an install runs, the
 * logger, and the few reads and writes several parts make (journal,
 * history, rollback points, the hooks' environment). The Installer owns one;
 * the transaction, undo, recovery and dry run are functions of it, so none
 * of them reaches into another's state.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { InstallError } from './errors.js'
import { acquireInstallLock } from './lock.js'
import { appendHistory, readHistory, readState } from './journal.js'
import { listRollbackPoints } from './rollback-point.js'
import { versionDir } from './stage.js'
import type { Logger } from '@libp2p/interface'
import type { InstallerInit } from './installer.js'
import type { RollbackPointSummary } from './rollback-point.js'
import type { HistoryEntry, InstallState, PackageInstallConfig, PackageState } from './types.js'
import type { ReleaseIndex } from '../release/index.js'

const BACKUPS = 'backups'

/** what the package is doing, for status */
export interface InstallStatus {
  state: PackageState
  pendingVersion: string
  lastError: string
  progress: { done: number, total: number }
}

export function now (): string {
  return new Date().toISOString()
}

/** a new install's id: time-ordered, unique enough for one package's history */
export function newInstallId (): string {
  return `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

export class InstallContext {
  readonly status: InstallStatus = { state: 'idle', pendingVersion: '', lastError: '', progress: { done: 0, total: 0 } }
  readonly log: Logger

  constructor (readonly init: InstallerInit) {
    this.log = init.logger.forComponent('umesh:install')
  }

  get pkg (): string {
    return this.init.package
  }

  get config (): PackageInstallConfig {
    return this.init.config
  }

  get root (): string {
    return this.init.config.installRoot
  }

  get backupsDir (): string {
    return join(this.root, BACKUPS)
  }

  /** a progress line for the operator */
  say (line: string): void {
    this.init.say?.(line)
  }

  /** the rollback points' key, when they are encrypted */
  key (): Uint8Array | undefined {
    return this.config.encryptBackups ? this.init.backupKey() : undefined
  }

  journal (): InstallState {
    return readState(this.root, this.pkg)
  }

  history (): HistoryEntry[] {
    return readHistory(this.root)
  }

  backups (): RollbackPointSummary[] {
    return existsSync(this.backupsDir) ? listRollbackPoints(this.backupsDir) : []
  }

  /** appends a history entry unless one with its id is there (a recovery repeating the last step) */
  record (entry: HistoryEntry): void {
    if (!this.history().some(h => h.id === entry.id)) appendHistory(this.root, entry)
  }

  /** what hooks and migrations find in their environment */
  env (from: string | null, to: string): Record<string, string> {
    return {
      UMESH_PACKAGE: this.pkg,
      UMESH_OLD_VERSION: from ?? '',
      UMESH_NEW_VERSION: to,
      UMESH_OLD_DIR: from == null ? '' : versionDir(this.root, from),
      UMESH_NEW_DIR: versionDir(this.root, to),
      UMESH_INSTALL_ROOT: this.root
    }
  }

  /** the verified index of `version`, or an error saying how to get it */
  needIndex (version: string): ReleaseIndex {
    const index = this.init.index(version)
    if (index == null) throw new InstallError(`${this.pkg} ${version} is not held by this node: it must be published, followed and fetched first (see \`umesh update check\`)`)
    return index
  }

  /** runs `fn` under the package's install lock; the lock is released however it ends */
  async locked<T> (fn: () => Promise<T>): Promise<T> {
    const lock = acquireInstallLock(this.root, this.pkg)
    try {
      return await fn()
    } finally {
      lock.release()
    }
  }
}
