/**
 * Dependencies between packages, and the upgrade rules. Pure logic, no I/O.
 *
 * planInstall: which installs a target release needs, dependencies first.
 *   - A release's `requires` entry holds when the package's version at that
 *     point of the plan (installed, or planned earlier) is in the range, and
 *     still holds once the whole plan is done.
 *   - Policy `install`: a requirement that does not hold is met by the newest
 *     held release of that package on its followed channel that is in the
 *     range, planned (recursively) before the release that needs it. A
 *     package that is not followed, has no such release, or would have to be
 *     downgraded is refused. The choice is greedy (no backtracking): when two
 *     releases need incompatible versions of one package, the plan is refused
 *     naming both.
 *   - Policy `require`: every requirement must already hold; nothing else is
 *     planned. Policy `ignore`: `requires` are not looked at (in either
 *     direction); the plan is the target alone.
 *   - Under every policy, `conflicts` are checked in both directions between
 *     the packages the plan installs and the packages installed and not
 *     replaced (an installed package's own `conflicts` count when its index is
 *     in `available`).
 *   - Under `install` and `require`, an installed package the plan does not
 *     replace must keep its own `requires` (when its index is known).
 *   - Ranges are written in the scheme of the release that names them
 *     (release-index.ts), so a requirement on a package of another version
 *     scheme is refused with an explanation.
 *
 * checkUpgradeRules: what `update upgrade` / `update downgrade` refuse without
 * --force (a downgrade, a move to a less stable channel, a skip over a
 * required step).
 */
import { UmeshError } from '../errors.js'
import { CHANNELS, VersionError, channelSees, compareVersions, isScheme, parseRange, parseVersion, satisfies } from '../release/version.js'
import type { PackageRange, ReleaseIndex } from '../release/release-index.js'
import type { Channel, VersionRange, VersionScheme } from '../release/version.js'
import type { DependencyPolicy } from './types.js'

/** the part of a release index the planner reads */
export type ReleaseFacts = Pick<ReleaseIndex, 'package' | 'version' | 'scheme' | 'channel' | 'requires' | 'conflicts'>

export interface PackageWorld {
  /** installed (blessed current) version per package */
  installed: Map<string, string>
  /** releases this node holds or can get, per package: version -> its (parsed) release index */
  available: Map<string, Map<string, ReleaseFacts>>
  /** packages this node follows (may be installed automatically), with their channel */
  followed: Map<string, Channel>
}

export interface PlannedInstall {
  package: string
  version: string
  /** why: "requested", or "required by app 2.0.0 (libfoo >=1.2.0 <2.0.0)" */
  reason: string
}

/** a requirement cannot be met; `chain` is the path from the target, e.g. ["app 2.0.0", "libfoo >=1.2.0"] */
export class DependencyError extends UmeshError {
  override readonly name: string = 'DependencyError'
  constructor (message: string, readonly chain: string[] = []) {
    super(message)
  }
}

/** releases that require each other in a loop, so none can be installed first */
export class DependencyCycleError extends DependencyError {
  override readonly name: string = 'DependencyCycleError'
}

/** two releases that may not be installed together, or an install that would break an installed package */
export class DependencyConflictError extends DependencyError {
  override readonly name: string = 'DependencyConflictError'
}

/** an upgrade or downgrade the rules refuse without --force */
export class UpgradeRefusedError extends UmeshError {
  override readonly name = 'UpgradeRefusedError'
  override readonly exitCode = 1
  constructor (message: string, readonly reasons: string[]) {
    super(message)
  }
}

/** longest dependency chain followed from the target */
export const MAX_DEPENDENCY_DEPTH = 32
/** most installs one plan may hold */
export const MAX_PLANNED = 256

const label = (r: { package: string, version: string }): string => `${r.package} ${r.version}`

interface Frame {
  release: ReleaseFacts
  /** how the planner got here, for messages: "app 2.0.0 -> libfoo 1.3.0" */
  chain: string[]
}

interface Placed {
  release: ReleaseFacts
  reason: string
  /** who asked for it: "app 2.0.0", or "" for the target */
  neededBy: string
}

/**
 * The installs that bring `target` in, in order: dependencies first, the
 * target last. Throws DependencyError (or DependencyCycleError,
 * DependencyConflictError) naming the chain when it cannot be done.
 */
export function planInstall (target: { package: string, version: string }, world: PackageWorld, policy: DependencyPolicy): PlannedInstall[] {
  return new Planner(world, policy).plan(target)
}

class Planner {
  private readonly placed = new Map<string, Placed>()
  private readonly order: string[] = []
  private readonly stack: Frame[] = []

  constructor (private readonly world: PackageWorld, private readonly policy: DependencyPolicy) {}

  plan (target: { package: string, version: string }): PlannedInstall[] {
    const release = this.world.available.get(target.package)?.get(target.version)
    if (release === undefined) {
      const held = this.heldVersions(target.package)
      throw new DependencyError(`${label(target)} is not among the releases this node holds or can get (held: ${held.length > 0 ? held.join(', ') : 'none'}); wait for it to be fetched, or name a held version`, [label(target)])
    }
    if (this.policy === 'ignore') {
      this.place(release, 'requested', '')
    } else {
      this.resolve(release, [label(release)], 'requested', '')
    }
    this.checkFinalState()
    return this.order.map(pkg => {
      const p = this.placed.get(pkg) as Placed
      return { package: p.release.package, version: p.release.version, reason: p.reason }
    })
  }

  /** plans `release` after every requirement it has that does not hold yet */
  private resolve (release: ReleaseFacts, chain: string[], reason: string, neededBy: string): void {
    if (this.stack.length >= MAX_DEPENDENCY_DEPTH) {
      throw new DependencyError(`the dependency chain ${chain.join(' -> ')} is longer than ${MAX_DEPENDENCY_DEPTH} releases; the planner stops there (install some dependencies first, or publish releases with fewer levels of dependencies)`, chain)
    }
    this.stack.push({ release, chain })
    try {
      for (const entry of release.requires) this.require(release, entry, chain)
    } finally {
      this.stack.pop()
    }
    this.place(release, reason, neededBy)
  }

  private place (release: ReleaseFacts, reason: string, neededBy: string): void {
    if (this.placed.size >= MAX_PLANNED) {
      throw new DependencyError(`installing ${label(release)} would take more than ${MAX_PLANNED} installs in one plan; the planner stops there (install some dependencies first)`, [label(release)])
    }
    this.placed.set(release.package, { release, reason, neededBy })
    this.order.push(release.package)
  }

  private require (release: ReleaseFacts, entry: PackageRange, chain: string[]): void {
    const wanted = `${entry.package} ${entry.range}`
    const here = `${chain.join(' -> ')} requires ${wanted}`
    const range = this.rangeOf(release, entry, chain)

    const planned = this.placed.get(entry.package)
    if (planned !== undefined) {
      if (this.inRange(release, entry, range, planned.release.version, chain)) return
      throw new DependencyConflictError(`${here}, and the plan already installs ${label(planned.release)} (${planned.reason}); no one version of ${entry.package} satisfies both, so publish releases that agree on ${entry.package}`, [...chain, wanted])
    }

    const installed = this.world.installed.get(entry.package)
    const installedOk = installed !== undefined && this.inRange(release, entry, range, installed, chain)

    const onStack = this.stack.find(f => f.release.package === entry.package)
    if (onStack !== undefined) {
      const planning = onStack.release.version
      if (!this.inRange(release, entry, range, planning, chain)) {
        throw new DependencyConflictError(`${here}, and the plan is installing ${label(onStack.release)} (${onStack.chain.join(' -> ')}); these releases cannot be installed together`, [...chain, wanted])
      }
      if (installedOk) return // holds now (installed) and once the plan is done
      throw new DependencyCycleError(`dependency cycle: ${chain.join(' -> ')} -> ${wanted}; each needs the other installed first, so neither can be; publish releases that break the loop (or install with the dependency policy "ignore")`, [...chain, wanted])
    }

    if (installedOk) return
    const now = installed === undefined ? `${entry.package} is not installed` : `${entry.package} ${installed} is installed`

    if (this.policy === 'require') {
      throw new DependencyError(`${here}, and ${now}; the dependency policy of ${chain[0].split(' ')[0]} is "require", so install ${entry.package} at a version in ${entry.range} first (or set the policy to "install")`, [...chain, wanted])
    }

    const channel = this.world.followed.get(entry.package)
    if (channel === undefined) {
      throw new DependencyError(`${here}, and ${now}; this node does not follow ${entry.package}, so it cannot install it for you: follow ${entry.package} (or install a version in ${entry.range} yourself)`, [...chain, wanted])
    }

    const held = [...(this.world.available.get(entry.package)?.values() ?? [])]
    const foreign = held.find(r => r.scheme !== release.scheme)
    if (foreign !== undefined) {
      throw new DependencyError(`${here}, but ${entry.package} uses the ${foreign.scheme} version scheme and ${release.package} the ${release.scheme} scheme; a range is written in the requiring release's scheme, so a package can require only packages of its own scheme`, [...chain, wanted])
    }
    const inRange = held.filter(r => this.inRange(release, entry, range, r.version, chain))
    const visible = inRange.filter(r => channelSees(channel, r.channel))
    if (visible.length === 0) {
      const list = sortVersions(release.scheme, held.map(r => r.version))
      const hidden = inRange.length > 0 ? `; ${sortVersions(release.scheme, inRange.map(r => r.version)).join(', ')} would, but this node follows ${entry.package} on the ${channel} channel` : ''
      throw new DependencyError(`${here}, and ${now}, and no held release of ${entry.package} satisfies it (held: ${list.length > 0 ? list.join(', ') : 'none'})${hidden}; publish or follow one`, [...chain, wanted])
    }
    const pick = visible.reduce((a, b) => compareVersions(release.scheme as VersionScheme, a.version, b.version) >= 0 ? a : b)
    if (installed !== undefined && compareVersions(release.scheme as VersionScheme, pick.version, installed) < 0) {
      throw new DependencyError(`${here}, and ${now}; the newest held release in that range is ${pick.version}, which would downgrade ${entry.package}: downgrade it yourself if that is safe, or publish a release of ${release.package} that accepts ${entry.package} ${installed}`, [...chain, wanted])
    }
    if (pick.package !== entry.package || pick.scheme !== release.scheme) {
      throw new DependencyError(`${here}, but the held index of ${entry.package} ${pick.version} names ${pick.package} (${pick.scheme}); it is not a release of ${entry.package}`, [...chain, wanted])
    }
    this.resolve(pick, [...chain, label(pick)], `required by ${label(release)} (${wanted})`, label(release))
  }

  /** the range of `entry`, parsed in the requiring release's scheme */
  private rangeOf (release: ReleaseFacts, entry: PackageRange, chain: string[]): VersionRange {
    try {
      return parseRange(release.scheme, entry.range)
    } catch (err) {
      throw new DependencyError(`${chain.join(' -> ')} names ${entry.package} with a range that does not parse: ${(err as Error).message}`, chain)
    }
  }

  /** whether `version` of entry.package is in `range`; a version of another scheme is an error naming both */
  private inRange (release: ReleaseFacts, entry: PackageRange, range: VersionRange, version: string, chain: string[]): boolean {
    try {
      return satisfies(range.scheme, version, range)
    } catch (err) {
      if (!(err instanceof VersionError)) throw err
      throw new DependencyError(`${chain.join(' -> ')} names ${entry.package} ${entry.range} in the ${release.scheme} scheme, but ${entry.package} ${version} is not a version of the ${release.scheme} scheme; a package can name only packages of its own version scheme`, [...chain, `${entry.package} ${entry.range}`])
    }
  }

  /** the version a package has once the plan is done, and where it comes from */
  private final (pkg: string): { version: string, facts?: ReleaseFacts, planned: boolean } | undefined {
    const planned = this.placed.get(pkg)
    if (planned !== undefined) return { version: planned.release.version, facts: planned.release, planned: true }
    const installed = this.world.installed.get(pkg)
    if (installed === undefined) return undefined
    return { version: installed, facts: this.world.available.get(pkg)?.get(installed), planned: false }
  }

  /** "libfoo 1.2.0 (installed)", "libfoo 1.3.0 (to be installed, required by …)", or the target "app 2.0.0" */
  private describe (pkg: string): string {
    const f = this.final(pkg)
    if (f === undefined) return pkg
    if (!f.planned) return `${pkg} ${f.version} (installed, and the plan does not replace it)`
    const p = this.placed.get(pkg) as Placed
    return p.neededBy === '' ? `${pkg} ${f.version}` : `${pkg} ${f.version} (to be installed, ${p.reason})`
  }

  /** conflicts in both directions, and requires of every planned and installed package, once the plan is done */
  private checkFinalState (): void {
    const packages = new Set([...this.world.installed.keys(), ...this.placed.keys()])
    for (const pkg of packages) {
      const side = this.final(pkg)
      if (side?.facts === undefined) continue
      const facts = side.facts
      for (const entry of facts.conflicts) {
        const other = this.final(entry.package)
        if (other === undefined || entry.package === pkg) continue
        // conflicts between two packages the plan leaves alone are not the plan's doing
        if (!side.planned && !other.planned) continue
        if (!this.finalInRange(facts, entry, other.version)) continue
        const fix = !other.planned ? `upgrade ${entry.package} to a version outside ${entry.range} first` : !side.planned ? `upgrade ${pkg} to a release that does not conflict first` : 'publish releases that do not conflict'
        throw new DependencyConflictError(`${this.describe(pkg)} conflicts with ${entry.package} ${entry.range}, and the result of this plan would hold ${this.describe(entry.package)}; they cannot be installed together: ${fix}`, [label(facts), `${entry.package} ${entry.range}`])
      }
      if (this.policy === 'ignore') continue
      for (const entry of facts.requires) {
        const other = this.final(entry.package)
        // only requirements the plan can break: on a package it installs
        if (other === undefined || !this.placed.has(entry.package) || entry.package === pkg) continue
        if (this.finalInRange(facts, entry, other.version)) continue
        const who = this.describe(pkg)
        throw new DependencyConflictError(`${who} requires ${entry.package} ${entry.range}, and the plan installs ${this.describe(entry.package)}, which would break it; ${side.planned ? 'publish releases that agree on ' + entry.package : `upgrade ${pkg} to a release that accepts ${entry.package} ${other.version} first`}`, [label(facts), `${entry.package} ${entry.range}`])
      }
    }
  }

  private finalInRange (facts: ReleaseFacts, entry: PackageRange, version: string): boolean {
    const chain = [label(facts)]
    return this.inRange(facts, entry, this.rangeOf(facts, entry, chain), version, chain)
  }

  private heldVersions (pkg: string): string[] {
    const held = [...(this.world.available.get(pkg)?.values() ?? [])]
    if (held.length === 0) return []
    return sortVersions(held[0].scheme, held.map(r => r.version))
  }
}

/** sorted oldest first when they parse in `scheme`, else as given */
function sortVersions (scheme: string, versions: string[]): string[] {
  if (!isScheme(scheme)) return versions
  try {
    return [...versions].sort((a, b) => compareVersions(scheme, a, b))
  } catch {
    return versions
  }
}

export interface UpgradeRulesOptions {
  /** the package's version scheme */
  scheme: string
  /** upgrade: a move to a newer version; downgrade: a move to an older one (`update downgrade`) */
  kind: 'upgrade' | 'downgrade'
  /** the version installed now, or null for a first install */
  from: string | null
  to: string
  /** the channel `from` was installed on; default: the channel its version names */
  fromChannel?: Channel
  /** the channel of `to` */
  toChannel: Channel
  /** the package's releases (any order); those with requiredStep strictly between from and to may not be skipped */
  releases: Array<{ version: string, requiredStep: boolean }>
  force: boolean
}

/**
 * Throws UpgradeRefusedError, listing every reason, when the move from `from`
 * to `to` needs --force:
 *   - kind upgrade and `to` is older than `from` (that is a downgrade);
 *   - kind downgrade: always (a downgrade runs migrations down and may lose
 *     data the newer version wrote);
 *   - `toChannel` is less stable than the channel `from` was on;
 *   - a release with requiredStep lies strictly between `from` and `to`.
 * With `force`, none of these is thrown. A first install (`from` null) is
 * refused for none of them.
 *
 * One refusal --force does not lift: kind downgrade when `to` is not older
 * than `from` (or nothing is installed); --force cannot make that a
 * downgrade, and the installer would run it as one.
 */
export function checkUpgradeRules (opts: UpgradeRulesOptions): void {
  const { scheme, from, to, kind } = opts
  if (!isScheme(scheme)) throw new VersionError(scheme, to, `version scheme ${JSON.stringify(scheme)} is unknown; expected semver or abr`)
  if (kind === 'downgrade') {
    const not = from === null ? `nothing is installed, so there is nothing to downgrade from` : compareVersions(scheme, to, from) >= 0 ? `${to} is ${to === from ? 'the installed version' : `newer than the installed ${from}`}, so this is not a downgrade` : undefined
    if (not !== undefined) throw new UpgradeRefusedError(`refused to downgrade to ${to}: ${not}; use \`update upgrade\` (--force does not change this)`, [not])
  }
  if (opts.force || from === null) return
  const reasons: string[] = []
  const order = compareVersions(scheme, to, from)
  if (kind === 'upgrade' && order < 0) {
    reasons.push(`${to} is older than the installed ${from}, so this is a downgrade; use \`update downgrade\` with --force to downgrade`)
  }
  if (kind === 'downgrade') {
    reasons.push(`a downgrade from ${from} to ${to} runs migrations down and may lose data ${from} wrote; it is never done without --force: use --force to downgrade`)
  }
  const fromChannel = opts.fromChannel ?? parseVersion(scheme, from).channel
  if (CHANNELS.indexOf(opts.toChannel) < CHANNELS.indexOf(fromChannel)) {
    reasons.push(`${to} is on the ${opts.toChannel} channel, less stable than the ${fromChannel} channel ${from} was installed from; use --force to move to a less stable channel`)
  }
  if (order !== 0) {
    const [low, high] = order > 0 ? [from, to] : [to, from]
    const steps = opts.releases
      .filter(r => r.requiredStep && compareVersions(scheme, r.version, low) > 0 && compareVersions(scheme, r.version, high) < 0)
      .map(r => r.version)
      .sort((a, b) => compareVersions(scheme, a, b) * (order > 0 ? 1 : -1))
    if (steps.length > 0) {
      const s = steps.length > 1 ? 's' : ''
      reasons.push(`${steps.join(', ')} ${steps.length > 1 ? 'are required steps' : 'is a required step'}: going from ${from} to ${to} must install ${steps[0]} first; install the required step${s} in turn, or use --force to skip ${steps.length > 1 ? 'them' : 'it'}`)
    }
  }
  if (reasons.length > 0) {
    throw new UpgradeRefusedError(`refused to ${kind === 'downgrade' ? 'downgrade' : 'upgrade'} from ${from} to ${to}: ${reasons.join('; ')}`, reasons)
  }
}
