/**
 * The install engine. Per package: its settings (config.ts), the journal
 * and history (journal.ts), the transaction with its undo, recovery and dry
 * run (installer.ts and the files it delegates to), staging and the symlink
 * switch, rollback points, migrations, health checks, hooks, the install
 * lock and pre-flight checks. Per node: the manager (one install at a time,
 * dependencies first, the upgrade rules), plain auto-update, the operations
 * behind `umesh update ...` and the control socket they travel over.
 *
 * Imports: data-dir/ (held releases and their indexes, the backup key's
 * path), release/ (indexes, versions), util/, errors. Never follow/: what the
 * follower holds reaches the install side through data-dir/ and the `held`
 * event.
 */
export { InstallManager, NotInstallableError } from './manager.js'
export type { InstallManagerComponents, InstallManagerInit, PackageStatus, UpgradeRequest, VersionChoice } from './manager.js'
export { AutoUpdater } from './auto-update.js'
export type { AutoUpdateComponents, HeldReleaseEvent } from './auto-update.js'
export { Installer } from './installer.js'
export { runOperation } from './operations.js'
export { startControlServer, callControl, controlSocketPath, CONTROL_SOCKET } from './control.js'
export type { ControlRequest } from './control.js'
export { parsePackages, packageInstallConfig } from './config.js'
export type { PackageEntry } from './config.js'
