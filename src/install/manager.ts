/**
 * Every package this node installs: one Installer per package with an entry
 * in the node config's `packages`, the releases it may install (held in full,
 * index verified against its signed hash again at read time), the choice of
 * version for upgrade / downgrade, the upgrade rules and dependencies, and
 * one install at a time for the whole node (dependencies install in order).
 *
 * The daemon owns one; the CLI makes its own when no daemon runs on the data
 * dir (it holds the data dir lock meanwhile, so the two never act at once).
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { UmeshError } from '../errors.js'
import { readLocalState } from '../follow/local-state.js'
import { channelSees, compareVersions, parseReleaseIndex } from '../release/index.js'
import { packageInstallConfig } from './config.js'
import { checkUpgradeRules, planInstall } from './deps.js'
import { Installer } from './installer.js'
import { InstallInProgressError } from './lock.js'
import type { InstallResult } from './installer.js'
import type { PackageEntry } from './config.js'
import type { PublishedRelease } from '../follow/local-state.js'
import type { Channel, ReleaseIndex } from '../release/index.js'
import type { HistoryEntry, PackageState } from './types.js'
import type { CID } from 'multiformats/cid'

export class NotInstallableError extends UmeshError {
  override readonly name = 'NotInstallableError'
}

export interface ManagerInit {
  dataDir: string
  packages: Record<string, PackageEntry>
  store: { get: (cid: CID) => Promise<Uint8Array> }
  say?: (line: string) => void
  log?: (line: string) => void
}

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

export class InstallManager {
  readonly installers = new Map<string, Installer>()
  private running?: string
  /** packages whose installs a rollout decides (then plain autoUpdate leaves them alone) */
  governed?: (pkg: string) => boolean
  private say: (line: string) => void

  constructor (private readonly init: ManagerInit) {
    this.say = init.say ?? (() => {})
    for (const pkg of Object.keys(init.packages)) {
      const config = packageInstallConfig(init.packages, init.dataDir, pkg)!
      this.installers.set(pkg, new Installer({ package: pkg, config, dataDir: init.dataDir, store: init.store, index: v => this.indexOf(pkg, v), say: line => { this.say(`${pkg}: ${line}`) } }))
    }
  }

  /** progress lines go here while a command runs (the CLI streams them) */
  withSay<T> (say: (line: string) => void, fn: () => Promise<T>): Promise<T> {
    const before = this.say
    this.say = (line) => { before(line); say(line) }
    return fn().finally(() => { this.say = before })
  }

  private releases (): PublishedRelease[] {
    try {
      return readLocalState(this.init.dataDir).releases
    } catch {
      return []
    }
  }

  private followed (): Map<string, Channel> {
    try {
      return new Map(readLocalState(this.init.dataDir).follow.map(f => [f.package, f.channel]))
    } catch {
      return new Map()
    }
  }

  /** the verified index of a held release; the file's sha256 is checked against the signed target again */
  indexOf (pkg: string, version: string): ReleaseIndex | undefined {
    const release = this.releases().find(r => r.package === pkg && r.version === version && r.held)
    if (release == null) return undefined
    const file = join(this.init.dataDir, 'tuf', 'targets', `${release.sha256}.index.json`)
    if (!existsSync(file)) return undefined
    const bytes = readFileSync(file)
    if (createHash('sha256').update(bytes).digest('hex') !== release.sha256) {
      throw new NotInstallableError(`the index of ${pkg} ${version} on disk (${file}) does not match its signed hash; it is not used. Delete it and the node fetches it again`)
    }
    return parseReleaseIndex(bytes)
  }

  installer (pkg: string | undefined): Installer {
    const name = pkg ?? (this.installers.size === 1 ? [...this.installers.keys()][0] : undefined)
    if (name == null) throw new NotInstallableError(this.installers.size === 0 ? 'no package has install settings in this node\'s config (`packages`); add one to install it' : `several packages are installed here (${[...this.installers.keys()].join(', ')}); name one with --package`)
    const installer = this.installers.get(name)
    if (installer == null) throw new NotInstallableError(`${name} has no install settings in this node's config (\`packages.${name}\`); add them to install it`)
    return installer
  }

  /** finishes or undoes interrupted installs of every package */
  async recoverAll (): Promise<HistoryEntry[]> {
    const done: HistoryEntry[] = []
    for (const installer of this.installers.values()) {
      const entry = await installer.recoverLocked()
      if (entry != null) done.push(entry)
    }
    return done
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
        results.push(await dep.install(step.version, { kind: step.package === pkg ? kind : 'upgrade', dryRun: req.dryRun === true }))
      }
      return results
    })
  }

  async rollback (pkg: string | undefined, updateId?: string): Promise<HistoryEntry> {
    return await this.serial(async () => await this.installer(pkg).rollback(updateId))
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

  /**
   * With autoUpdate, installs the newest held release of each followed
   * package when it is newer than the current one. The daemon calls it when
   * a release is held. Failures are recorded in the history, not thrown.
   */
  async autoUpdate (): Promise<void> {
    for (const [pkg] of this.installers) {
      if (!this.init.packages[pkg].autoUpdate || this.running != null || this.governed?.(pkg) === true) continue
      const next = this.availableUpdate(pkg)
      if (next == null) continue
      // a version this node already tried and rolled back is not retried automatically
      const tried = this.installers.get(pkg)!.history().some(h => h.to === next && h.kind !== 'rollback' && h.outcome !== 'installed')
      if (tried) continue
      try {
        await this.upgrade({ package: pkg, choice: { to: next } })
      } catch (err) {
        this.init.log?.(`auto-update of ${pkg} to ${next} did not complete: ${(err as Error).message}`)
      }
    }
  }
}
