/**
 * The install engine's shared types: the per-package install config an
 * operator writes in the node config, and the journal (`state.json`) that
 * lets a restarted node finish or undo an install.
 *
 * Layout of one package's install root (default `<dataDir>/installs/<package>`):
 *
 *   versions/<version>/        materialised, verified file trees
 *   versions/.staging-<id>/    a tree being staged (removed on recovery)
 *   current -> versions/<v>    relative symlink; the only switch point
 *   state.json                 the journal, written atomically at every step
 *   history.jsonl              one line per finished install, rollback or failure
 *   migrations.json            the migration ledger
 *   backups/<id>/              rollback points: stored files + manifest.json
 *   install.lock               held by the one install in progress (pid inside)
 */

/** how a node checks that an activated version works */
export type HealthCheck =
  | { type: 'command', command: string[] }
  | { type: 'http', url: string }
  | { type: 'tcp', host: string, port: number }

export interface HealthConfig {
  check: HealthCheck
  /** one attempt's time limit */
  timeoutMs: number
  /** attempts after the first failure before the version is judged unhealthy */
  retries: number
  /** pause between attempts */
  intervalMs: number
  /** wait after activation before the first attempt */
  graceMs: number
}

export interface HooksConfig {
  /** argv run after the switch to (re)start the package's service; also run for the old version on rollback */
  activate?: string[]
  /** time limit for a hook or a migration script */
  timeoutMs: number
}

/** what an install does about a release's `requires` on other packages */
export type DependencyPolicy = 'install' | 'require' | 'ignore'

export interface PackageInstallConfig {
  /** absolute; default `<dataDir>/installs/<package>` */
  installRoot: string
  /** versions kept on disk (the current one included) as rollback points */
  keepVersions: number
  /** install the newest release of the followed channel when it is held, or only report it */
  autoUpdate: boolean
  health?: HealthConfig
  hooks: HooksConfig
  /** absolute paths of mutable data (files or directories) saved before and restored on rollback */
  statePaths: string[]
  /** encrypt rollback points with the key in `<dataDir>/backup.key` */
  encryptBackups: boolean
  /** install: missing followed dependencies are installed first; require: refuse unless installed; ignore */
  dependencies: DependencyPolicy
  /** free memory an install needs, in bytes */
  minFreeMemory: number
  /** a rollout document that moves this package to an older version is followed (default: refused) */
  allowDowngrade: boolean
}

/** the steps of an install, in order; the journal records the one under way */
export const INSTALL_STEPS = ['preflight', 'stage', 'backup', 'migrate', 'switch', 'activate', 'health', 'bless'] as const
export type InstallStep = typeof INSTALL_STEPS[number]

/** steps of undoing an install (after a failed health check, a failed step, or `update rollback`) */
export const ROLLBACK_STEPS = ['switch-back', 'migrate-down', 'restore', 'reactivate', 'done'] as const
export type RollbackStep = typeof ROLLBACK_STEPS[number]

export type InstallKind = 'upgrade' | 'downgrade' | 'rollback'

export interface PendingInstall {
  id: string
  kind: InstallKind
  /** the version `current` pointed to when it began (null: first install) */
  from: string | null
  to: string
  step: InstallStep
  /** set once the install is being undone */
  undo?: { step: RollbackStep, reason: string, failedAt?: string }
  startedAt: string
  /** rollback point id, once taken */
  backup?: string
  /** migration ids run `up` by this install, in order */
  migrated: string[]
  /** migration ids run `down` by this install (a downgrade), in order */
  migratedDown: string[]
  /** the migration ledger's ids before this install ran any, to tell which it ran */
  ledgerBefore?: string[]
  /** times a restart has resumed this install; past 2 it is undone */
  attempts: number
  /** `current` was switched to the new version (undo must switch back and restore state) */
  switched?: boolean
  /** the new version's activate hook ran (undo must re-activate the old one) */
  activated?: boolean
}

export interface InstallState {
  format: 'umesh-install/1'
  package: string
  /** the blessed version `current` points to */
  current: string | null
  /** versions on disk, oldest first (current included) */
  versions: string[]
  pending: PendingInstall | null
}

export type InstallOutcome = 'installed' | 'rolled-back' | 'failed' | 'refused'

export interface HistoryEntry {
  id: string
  package: string
  kind: InstallKind
  from: string | null
  to: string
  startedAt: string
  finishedAt: string
  outcome: InstallOutcome
  /** why it failed or was rolled back; empty when installed */
  reason: string
  /** the step it failed at, when it failed */
  step?: string
  /** the rollback point taken before it (for `update rollback` later) */
  backup?: string
  /** migrations it ran up, in order (undone by `update rollback`) */
  migrated?: string[]
}

/** what a package is doing, as the status protocol reports it */
export type PackageState = 'idle' | 'fetching' | 'staging' | 'installing' | 'health-check' | 'healthy' | 'failed' | 'rolled-back'
