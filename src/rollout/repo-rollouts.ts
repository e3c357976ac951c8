/**
 * Rollout documents in the release repository: written and re-signed with
 * the delegated `rollouts` key (targets `rollouts/<package>.json`), which the
 * publisher then announces like any new timestamp. The version a rollout
 * names must be a release signed by the `targets` role: the rollouts key can
 * choose among signed releases, never add one.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { UmeshError } from '../errors.js'
import { withFileLock } from '../util/file-lock.js'
import { Repository, ROLLOUTS_ROLE, targetFilePath } from '../trust/repository.js'
import { encodeRolloutDocument, newRolloutId, parseRolloutDocument, rolloutTargetPath } from './document.js'
import { actorsOf, COORDINATOR_ACTOR, currentRolloutPackage, historyTargetPath, isDowngrade, lastCompletedRollout } from './history.js'
import type { HealthGate, RolloutDocument, RolloutState, WaveSpec } from './types.js'
import { ROLLOUT_FORMAT } from './types.js'

export class RolloutError extends UmeshError {
  override readonly name = 'RolloutError'
}

/** the rollout is in a state that does not allow the change (one is running already, it is halted, ...) */
export class RolloutConflictError extends RolloutError {}

/** the package has no rollout */
export class NoRolloutError extends RolloutError {}

export interface StartOptions {
  package: string
  version: string
  waves: WaveSpec[]
  gate: HealthGate
  abort: number
  maxParallel: number
  manual: boolean
  allowDowngrade: boolean
  critical: boolean
  /** a label selector in canonical text (selector.ts); absent: every node */
  selector?: string
}

/** the rollout document of a package in the repository, or undefined */
export function readRollout (repo: Repository, pkg: string): RolloutDocument | undefined {
  const path = rolloutTargetPath(pkg)
  const entry = repo.targets(ROLLOUTS_ROLE)[path] as { hashes: { sha256: string } } | undefined
  if (entry == null) return undefined
  const file = join(repo.dir, 'targets', targetFilePath(path, entry.hashes.sha256))
  if (!existsSync(file)) throw new RolloutError(`the rollout document of ${pkg} is signed but its file ${file} is missing`)
  return parseRolloutDocument(readFileSync(file))
}

/** every rollout document in the repository */
export function listRollouts (repo: Repository): RolloutDocument[] {
  return Object.keys(repo.targets(ROLLOUTS_ROLE))
    .map(currentRolloutPackage)
    .filter((p): p is string => p != null)
    .map(p => readRollout(repo, p))
    .filter((d): d is RolloutDocument => d != null)
}

function signedRelease (repo: Repository, pkg: string, version: string): { scheme: string, critical: boolean } {
  const entry = repo.targets()[`releases/${pkg}/${version}.json`] as { custom?: Record<string, unknown> } | undefined
  if (entry == null) throw new RolloutError(`${pkg} ${version} is not a signed release in this repository; add it with \`umesh release add\` first`)
  return { scheme: String(entry.custom?.scheme ?? 'semver'), critical: entry.custom?.critical === true }
}

/** the coordinator and the CLI both sign into the repository: one at a time */
function withRepoLock<T> (repo: Repository, fn: () => T): T {
  return withFileLock(join(repo.dir, '.rollouts.lock'), fn, { error: message => new RolloutError(message) })
}

/**
 * Signs the package's current document and, with the same bytes, the
 * rollout's own entry in the history (history.ts), in one new version of
 * the rollouts metadata. `by` made this change; the starter is kept.
 */
function write (repo: Repository, doc: RolloutDocument, by: string | undefined): RolloutDocument {
  const next = { ...doc, updated: new Date().toISOString() }
  const bytes = encodeRolloutDocument(next)
  const path = rolloutTargetPath(doc.package)
  const previous = repo.targets(ROLLOUTS_ROLE)[path]
  const startedBy = previous?.custom?.rollout === doc.id ? actorsOf(previous).startedBy : by
  const custom = { package: doc.package, version: doc.version, rollout: doc.id, ...(startedBy != null ? { startedBy } : {}), ...(by != null ? { changedBy: by } : {}) }
  const files = [{ path, bytes, custom }, { path: historyTargetPath(doc.package, doc.id), bytes, custom }]
  // a rollout signed before the history was kept exists only as the current document: keep it before it is replaced
  const previousId = previous?.custom?.rollout
  if (typeof previousId === 'string' && previousId !== doc.id && repo.targets(ROLLOUTS_ROLE)[historyTargetPath(doc.package, previousId)] == null) {
    const file = join(repo.dir, 'targets', targetFilePath(path, previous.hashes.sha256))
    if (existsSync(file)) files.push({ path: historyTargetPath(doc.package, previousId), bytes: readFileSync(file), custom: previous.custom })
  }
  repo.addTargets(files, ROLLOUTS_ROLE)
  return next
}

/** starts a rollout of a signed release; one in progress for the package must be halted or completed first; `by` names who (history.ts) */
export function startRollout (repo: Repository, opts: StartOptions, by?: string): RolloutDocument {
  return withRepoLock(repo, () => startLocked(Repository.open(repo.dir), opts, by))
}

function startLocked (repo: Repository, opts: StartOptions, by: string | undefined): RolloutDocument {
  const release = signedRelease(repo, opts.package, opts.version)
  const previous = readRollout(repo, opts.package)
  if (previous != null && (previous.state === 'running' || previous.state === 'paused')) {
    throw new RolloutConflictError(`a rollout of ${opts.package} ${previous.version} (${previous.id}) is ${previous.state}; halt it (\`umesh rollout halt\`) or let it complete first`)
  }
  // a downgrade relative to the last version rolled out to everyone (the package's last completed
  // rollout in the history) needs the explicit flag; a halted rollout (its nodes went back) or one
  // naming a version that is not a signed release (nodes refused it) rolled nothing out. Nodes
  // check again against what they run.
  const baseline = lastCompletedRollout(repo, opts.package)
  if (baseline != null && isDowngrade(release.scheme, opts.version, baseline.version) && !opts.allowDowngrade) {
    throw new RolloutError(`${opts.version} is older than ${baseline.version}, the last version rolled out (rollout ${baseline.id}, completed ${baseline.updated}); a downgrade needs --allow-downgrade (and nodes may still refuse it by local policy)`)
  }
  const now = new Date().toISOString()
  const doc: RolloutDocument = {
    format: ROLLOUT_FORMAT,
    id: newRolloutId(),
    package: opts.package,
    version: opts.version,
    waves: opts.waves,
    open: -1,
    state: 'running',
    rollback: false,
    gate: opts.gate,
    abort: opts.abort,
    maxParallel: opts.maxParallel,
    manual: opts.manual,
    downgrade: opts.allowDowngrade,
    critical: opts.critical || release.critical,
    created: now,
    updated: now,
    reason: 'started',
    ...(opts.selector != null ? { selector: opts.selector } : {})
  }
  return write(repo, doc, by)
}

export type RolloutChange =
  | { kind: 'open', wave: number, reason: string, waves?: WaveSpec[] }
  | { kind: 'state', state: RolloutState, reason: string, rollback?: boolean }

/** applies a change to the package's rollout and re-signs it; a change that changes nothing writes nothing; `by`: who (the coordinator unless an operator) */
export function changeRollout (repo: Repository, pkg: string, change: RolloutChange, by = COORDINATOR_ACTOR): RolloutDocument {
  return withRepoLock(repo, () => changeLocked(Repository.open(repo.dir), pkg, change, by))
}

function changeLocked (repo: Repository, pkg: string, change: RolloutChange, by: string): RolloutDocument {
  const doc = readRollout(repo, pkg)
  if (doc == null) throw new NoRolloutError(`no rollout of ${pkg} in this repository; start one with \`umesh rollout start\``)
  const next: RolloutDocument = { ...doc }
  if (change.kind === 'open') {
    if (doc.state !== 'running') throw new RolloutConflictError(`the rollout of ${pkg} is ${doc.state}; ${doc.state === 'paused' ? 'resume it first' : 'start a new one'}`)
    if (change.wave <= doc.open) return doc
    if (change.wave >= doc.waves.length) throw new RolloutConflictError(`the rollout of ${pkg} has ${doc.waves.length} waves; the last is open already`)
    next.open = change.wave
    if (change.waves != null) next.waves = change.waves
  } else {
    if (doc.state === 'completed' && change.state !== 'halted') throw new RolloutConflictError(`the rollout of ${pkg} is completed`)
    if (doc.state === 'halted' && change.state !== 'halted') throw new RolloutConflictError(`the rollout of ${pkg} is halted; start a new one`)
    if (doc.state === change.state && (change.rollback ?? doc.rollback) === doc.rollback) return doc
    next.state = change.state
    if (change.rollback === true) next.rollback = true
  }
  next.reason = change.reason
  return write(repo, next, by)
}
