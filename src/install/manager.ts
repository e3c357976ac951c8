/**
 * Every package this node installs: one Installer per package with an entry
 * in the node config's `packages`, the releases it may install (held in full,
 * index verified against its signed hash again at read time), the choice of
 * version for upgrade / downgrade, the upgrade rules and dependencies, and
 * one install at a time for the whole node (dependencies install in order).
 *
 * The daemon owns one; the CLI makes its own when no daemon runs on the data
 * dir (it holds the data dir lock meanwhile, so the two never act at once).
 * A release the follower just verified can be handed over with its index
 * (`remember`), so installing it does not read the index back from disk.
 */
import { UmeshError } from '../errors.js'
import { defaultInstallRoot, readLocalIndex, readLocalState } from '../data-dir/index.js'
import { channelSees, compareVersions } from '../release/index.js'
import { loadOrCreateBackupKey } from './backup-key.js'
import { packageInstallConfig } from './config.js'
import { checkUpgradeRules, planInstall } from './deps.js'
import { InstallFailedError } from './errors.js'
import { Installer } from './installer.js'
import { InstallInProgressError } from './lock.js'
import type { InstallResult } from './installer.js'
import type { PackageEntry } from './config.js'
import type { DataPaths, PublishedRelease } from '../data-dir/index.js'
import type { Channel, ReleaseIndex } from '../release/index.js'
import type { HistoryEntry, InstallKind, InstallOutcome, PackageState } from './types.js'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import type { StageChunkSource } from './stage.js'

export class NotInstallableError extends UmeshError {
  override readonly name = 'NotInstallableError'
}

export interface InstallManagerInit {
  /** install settings per package (the config's `packages`) */
  packages: Record<string, PackageEntry>
  /**
   * the owner's lifetime (the daemon's): once aborted, an install under way
   * stops at its next step and is left for the next start's recovery, as
   * after a crash there
   */
  signal?: AbortSignal
}

export interface InstallManagerComponents {
  /** where the trusted targets, held releases, indexes and the backup key live */
  paths: DataPaths
  /** verified chunks to stage from */
  store: StageChunkSource
  logger: ComponentLogger
}

/** indexes handed over by the follower, kept for the installs that follow */
const MAX_REMEMBERED_INDEXES = 64

export type VersionChoice = { to: string } | { latest: true } | { stable: true }

export interface UpgradeRequest {
  package?: string
  choice: VersionChoice
  dryRun?: boolean
  force?: boolean
}

export interface PackageStatus {
  package: string
  current: string | null
  pending: string
  state: PackageState
  progress: { done: number, total: number }
  lastError: string
  versions: string[]
  followed: Channel | null
  /** newest release held on the followed channel, when it is not current */
  available: string | null
  installRoot: string
  autoUpdate: boolean
}

/** installs, rollbacks and failures of one package, kind and outcome that this manager ran since start */
export interface OutcomeCount {
  package: string
  kind: InstallKind
  outcome: InstallOutcome
  count: number
}

export class InstallManager {
  readonly installers = new Map<string, Installer>()
  /** what finished under this manager (each history entry it made), by package, kind and outcome: for metrics */
  readonly outcomes = new Map<string, OutcomeCount>()
  private running?: string
  private readonly log: Logger
  private say: (line: string) => void
  private readonly remembered = new Map<string, ReleaseIndex>()

  constructor (private readonly components: InstallManagerComponents, private readonly init: InstallManagerInit) {
    this.log = components.logger.forComponent('umesh:install')
    // progress lines go to the component log; a CLI command adds its own stream (withSay)
    this.say = line => { this.log('%s', line) }
    const { paths } = components
    for (const pkg of Object.keys(init.packages)) {
      const config = packageInstallConfig(init.packages, pkg, defaultInstallRoot(paths, pkg))!
      this.installers.set(pkg, new Installer({
        package: pkg,
        config,
        store: components.store,
        index: v => this.indexOf(pkg, v),
        backupKey: () => loadOrCreateBackupKey(paths.backupKey),
        logger: components.logger,
        say: line => { this.say(`${pkg}: ${line}`) }
      }))
    }
  }

  /**
   * A release the follower holds now, with the index it verified: used for
   * installs of that version instead of reading the index back from disk.
   */
  remember (pkg: string, version: string, index: ReleaseIndex): void {
    const key = `${pkg}@${version}`
    this.remembered.delete(key)
    this.remembered.set(key, index)
    if (this.remembered.size > MAX_REMEMBERED_INDEXES) this.remembered.delete(this.remembered.keys().next().value!)
  }

  /** progress lines go here while a command runs (the CLI streams them) */
  withSay<T> (say: (line: string) => void, fn: () => Promise<T>): Promise<T> {
    const before = this.say
    this.say = (line) => { before(line); say(line) }
    return fn().finally(() => { this.say = before })
  }

  private releases (): PublishedRelease[] {
    try {
      return readLocalState(this.components.paths).releases
    } catch {
      return []
    }
  }

  private followed (): Map<string, Channel> {
    try {
      return new Map(readLocalState(this.components.paths).follow.map(f => [f.package, f.channel]))
    } catch {
      return new Map()
    }
  }

  /**
   * The verified index of a held release: the one the follower handed over,
   * else the file on disk, whose sha256 is checked against the signed target
   * again (HashMismatchError when it changed).
   */
  indexOf (pkg: string, version: string): ReleaseIndex | undefined {
    const handed = this.remembered.get(`${pkg}@${version}`)
    if (handed != null) return handed
    const release = this.releases().find(r => r.package === pkg && r.version === version && r.held)
    return release == null ? undefined : readLocalIndex(this.components.paths, release)
  }

  installer (pkg: string | undefined): Installer {
    const name = pkg ?? (this.installers.size === 1 ? [...this.installers.keys()][0] : undefined)
    if (name == null) throw new NotInstallableError(this.installers.size === 0 ? 'no package has install settings in this node\'s config (`packages`); add one to install it' : `several packages are installed here (${[...this.installers.keys()].join(', ')}); name one with --package`)
    const installer = this.installers.get(name)
    if (installer == null) throw new NotInstallableError(`${name} has no install settings in this node's config (\`packages.${name}\`); add them to install it`)
    return installer
  }

  /** finishes or undoes interrupted installs of every package */
  async recoverAll (options: { signal?: AbortSignal } = {}): Promise<HistoryEntry[]> {
    const done: HistoryEntry[] = []
    for (const installer of this.installers.values()) {
      const entry = await installer.recoverLocked(options)
      if (entry != null) done.push(this.counted(entry))
    }
    return done
  }

  /** counts a finished install, rollback or failure in `outcomes` */
  private counted (entry: HistoryEntry): HistoryEntry {
    const key = `${entry.package}\0${entry.kind}\0${entry.outcome}`
    const count = this.outcomes.get(key) ?? { package: entry.package, kind: entry.kind, outcome: entry.outcome, count: 0 }
    count.count++
    this.outcomes.set(key, count)
    return entry
  }

  /** runs an install or rollback, counting the history entry it made, also when it failed and was undone */
  private async counting<T> (fn: () => Promise<T>, entryOf: (result: T) => HistoryEntry | undefined): Promise<T> {
    try {
      const result = await fn()
      const entry = entryOf(result)
      if (entry != null) this.counted(entry)
      return result
    } catch (err) {
      if (err instanceof InstallFailedError) this.counted(err.entry)
      throw err
    }
  }

  /** an install runs now */
  get busy (): boolean {
    return this.running != null
  }

  /** whether the package's settings say to install new releases by themselves */
  autoUpdates (pkg: string): boolean {
    return this.init.packages[pkg]?.autoUpdate === true
  }

  /** one install at a time on this node: a second is refused while one runs, not queued behind it */
  private async serial<T> (fn: () => Promise<T>): Promise<T> {
    if (this.running != null) throw new InstallInProgressError(this.running, process.pid, `an install is already in progress on this node (${this.running}); wait for it to finish (\`umesh update status\`)`)
    this.running = 'starting'
    try {
      return await fn()
    } finally {
      this.running = undefined
    }
  }

  /** the version a choice names, among the releases this node holds */
  choose (pkg: string, choice: VersionChoice): string {
    const releases = this.releases().filter(r => r.package === pkg)
    if ('to' in choice) {
      const r = releases.find(x => x.version === choice.to)
      if (r == null) throw new NotInstallableError(`${pkg} ${choice.to} is not a published release this node knows (known: ${releases.map(x => x.version).join(', ') || 'none'})`)
      if (!r.held) throw new NotInstallableError(`${pkg} ${choice.to} is published but not yet held by this node; wait for it to be fetched (\`umesh status\`) or follow its channel`)
      return r.version
    }
    const channel: Channel = 'stable' in choice ? 'stable' : this.followed().get(pkg) ?? 'stable'
    const held = releases.filter(r => r.held && channelSees(channel, r.channel))
    const newest = held.at(-1)
    if (newest == null) throw new NotInstallableError(`this node holds no ${channel} release of ${pkg}${releases.length > 0 ? ` (known: ${releases.map(x => `${x.version}${x.held ? '' : ' not held'}`).join(', ')})` : ''}`)
    return newest.version
  }

  /**
   * Upgrades (or, kind downgrade, downgrades) a package, dependencies first.
   * Refused without force: a downgrade through upgrade, a move to a less
   * stable channel, a skip over a required step.
   */
  async upgrade (req: UpgradeRequest, kind: 'upgrade' | 'downgrade' = 'upgrade'): Promise<InstallResult[]> {
    return await this.serial(async () => {
      const installer = this.installer(req.package)
      const pkg = installer.journal().package
      const to = this.choose(pkg, req.choice)
      this.running = `${pkg} ${to}`
      const index = this.indexOf(pkg, to)!
      const current = installer.journal().current
      const releases = this.releases().filter(r => r.package === pkg)
      const fromRelease = releases.find(r => r.version === current)
      checkUpgradeRules({
        kind,
        scheme: index.scheme as any,
        from: current,
        to,
        ...(fromRelease != null ? { fromChannel: fromRelease.channel } : {}),
        toChannel: index.channel,
        releases: releases.map(r => ({ version: r.version, requiredStep: this.indexOf(pkg, r.version)?.requiredStep ?? false })),
        force: req.force === true
      })
      const plan = planInstall({ package: pkg, version: to }, this.world(), installer === undefined ? 'install' : this.policy(pkg))
      const results: InstallResult[] = []
      for (const step of plan) {
        const dep = step.package === pkg ? installer : this.installers.get(step.package)
        if (dep == null) throw new NotInstallableError(`${step.reason}, but ${step.package} has no install settings in this node's config; add \`packages.${step.package}\``)
        if (step.package !== pkg) this.say(`${pkg}: installing the dependency ${step.package} ${step.version} first (${step.reason})`)
        results.push(await this.counting(async () => await dep.install(step.version, { kind: step.package === pkg ? kind : 'upgrade', dryRun: req.dryRun === true, ...this.signal() }), r => r.entry))
      }
      return results
    })
  }

  async rollback (pkg: string | undefined, updateId?: string): Promise<HistoryEntry> {
    return await this.serial(async () => await this.counting(async () => await this.installer(pkg).rollback(updateId, this.signal()), entry => entry))
  }

  private signal (): { signal?: AbortSignal } {
    return this.init.signal == null ? {} : { signal: this.init.signal }
  }

  private policy (pkg: string): 'install' | 'require' | 'ignore' {
    return this.init.packages[pkg]?.dependencies ?? 'install'
  }

  /** what the dependency planner sees: installed versions, held releases' indexes, followed packages */
  private world (): Parameters<typeof planInstall>[1] {
    const installed = new Map<string, string>()
    for (const [pkg, installer] of this.installers) {
      const current = installer.journal().current
      if (current != null) installed.set(pkg, current)
    }
    const available = new Map<string, Map<string, ReleaseIndex>>()
    for (const r of this.releases()) {
      if (!r.held) continue
      const index = this.indexOf(r.package, r.version)
      if (index == null) continue
      if (!available.has(r.package)) available.set(r.package, new Map())
      available.get(r.package)!.set(r.version, index)
    }
    return { installed, available, followed: this.followed() }
  }

  /** the newest held release on the followed channel, when it is newer than the current one */
  availableUpdate (pkg: string): string | null {
    const channel = this.followed().get(pkg)
    if (channel == null) return null
    const held = this.releases().filter(r => r.package === pkg && r.held && channelSees(channel, r.channel))
    const newest = held.at(-1)
    const current = this.installers.get(pkg)?.journal().current ?? null
    if (newest == null || newest.version === current) return null
    if (current != null && compareVersions(newest.scheme, newest.version, current) <= 0) return null
    return newest.version
  }

  status (): PackageStatus[] {
    const followed = this.followed()
    return [...this.installers.entries()].map(([pkg, installer]) => {
      let journal
      try {
        journal = installer.journal()
      } catch (err) {
        return { package: pkg, current: null, pending: '', state: 'failed' as const, progress: installer.progress, lastError: (err as Error).message, versions: [], followed: followed.get(pkg) ?? null, available: null, installRoot: installer.root, autoUpdate: this.init.packages[pkg].autoUpdate }
      }
      return {
        package: pkg,
        current: journal.current,
        pending: installer.pendingVersion || journal.pending?.to || '',
        state: installer.state,
        progress: installer.progress,
        lastError: installer.lastError,
        versions: journal.versions,
        followed: followed.get(pkg) ?? null,
        available: this.availableUpdate(pkg),
        installRoot: installer.root,
        autoUpdate: this.init.packages[pkg].autoUpdate
      }
    })
  }
}
