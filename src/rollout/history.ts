/**
 * Rollout history in the repository. Besides the current document at
 * `rollouts/<package>.json` (what nodes fetch, unchanged), every rollout
 * keeps its newest document as `rollouts/<package>@<id>.json`, a target of
 * the same delegated `rollouts` role, so the history is signed like the
 * current one and read by any TUF client. `@` cannot occur in a package
 * name, so the two never collide. The target's `custom` names who started
 * the rollout and who made its last change (`coordinator` for the
 * coordinator's own steps). A repository from before the history has only
 * its current documents: they count as its history.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { compareVersions, isScheme, releasesIn } from '../release/index.js'
import { ROLLOUTS_ROLE, targetFilePath } from '../trust/repository.js'
import { parseRolloutDocument, rolloutTargetPath } from './document.js'
import type { ExpectedEntry } from '../audit/index.js'
import type { Repository } from '../trust/repository.js'
import type { RolloutDocument } from './types.js'

const HISTORY_PATH = /^rollouts\/([a-z0-9][a-z0-9._-]{0,63})@([a-z0-9-]{8,64})\.json$/
const CURRENT_PATH = /^rollouts\/([a-z0-9][a-z0-9._-]{0,63})\.json$/

/** who the coordinator's own changes are recorded as */
export const COORDINATOR_ACTOR = 'coordinator'

export type RolloutOutcome = 'open' | 'paused' | 'halted' | 'rolled back' | 'completed'

export interface RolloutHistoryEntry {
  doc: RolloutDocument
  outcome: RolloutOutcome
  /** the document nodes see now for its package */
  current: boolean
  startedBy?: string
  /** who made the change the document records last (doc.reason, at doc.updated) */
  changedBy?: string
}

/** an entry as `umesh rollout history --json` and GET /api/v1/rollout-history print it: the document's fields, then outcome, current and who */
export function historyJson (h: RolloutHistoryEntry): RolloutDocument & { outcome: RolloutOutcome, current: boolean, startedBy: string | null, changedBy: string | null } {
  return { ...h.doc, outcome: h.outcome, current: h.current, startedBy: h.startedBy ?? null, changedBy: h.changedBy ?? null }
}

export function historyTargetPath (pkg: string, id: string): string {
  return `rollouts/${pkg}@${id}.json`
}

/** a current-document target path's package, or undefined (a history path is not one) */
export function currentRolloutPackage (path: string): string | undefined {
  return CURRENT_PATH.exec(path)?.[1]
}

export function outcomeOf (doc: RolloutDocument): RolloutOutcome {
  switch (doc.state) {
    case 'running': return 'open'
    case 'paused': return 'paused'
    case 'completed': return 'completed'
    case 'halted': return doc.rollback ? 'rolled back' : 'halted'
  }
}

/** who started the rollout, as the signed entry records it */
export function actorsOf (entry: { custom?: Record<string, unknown> } | undefined): { startedBy?: string, changedBy?: string } {
  const c = entry?.custom ?? {}
  return {
    startedBy: typeof c.startedBy === 'string' ? c.startedBy : undefined,
    changedBy: typeof c.changedBy === 'string' ? c.changedBy : undefined
  }
}

function readDoc (repo: Repository, path: string, entry: { hashes: { sha256: string } }): RolloutDocument | undefined {
  const file = join(repo.dir, 'targets', targetFilePath(path, entry.hashes.sha256))
  return existsSync(file) ? parseRolloutDocument(readFileSync(file)) : undefined
}

/** every rollout (of `pkg`, or of every package), oldest first */
export function rolloutHistory (repo: Repository, pkg?: string): RolloutHistoryEntry[] {
  const targets = repo.targets(ROLLOUTS_ROLE)
  const currentIds = new Map<string, string>()
  for (const [path, entry] of Object.entries(targets)) {
    const p = currentRolloutPackage(path)
    if (p != null && typeof entry.custom?.rollout === 'string') currentIds.set(p, entry.custom.rollout)
  }
  const byId = new Map<string, RolloutHistoryEntry>()
  const add = (path: string, entry: any, current: boolean): void => {
    const doc = readDoc(repo, path, entry)
    if (doc == null || (pkg != null && doc.package !== pkg) || byId.has(doc.id)) return
    byId.set(doc.id, { doc, outcome: outcomeOf(doc), current, ...actorsOf(entry) })
  }
  for (const [path, entry] of Object.entries(targets)) {
    const m = HISTORY_PATH.exec(path)
    if (m != null && (pkg == null || m[1] === pkg)) add(path, entry, currentIds.get(m[1]) === m[2])
  }
  // a rollout started before the history was kept exists only as its package's current document
  for (const [p] of currentIds) {
    if (pkg == null || p === pkg) add(rolloutTargetPath(p), targets[rolloutTargetPath(p)], true)
  }
  return [...byId.values()].sort((a, b) => a.doc.created.localeCompare(b.doc.created) || a.doc.updated.localeCompare(b.doc.updated))
}

/**
 * The downgrade baseline: the version of the package's last completed
 * rollout whose version is still a signed release. A halted rollout (its
 * nodes went back) or one naming a version nodes refused rolled nothing out.
 */
export function lastCompletedRollout (repo: Repository, pkg: string): RolloutDocument | undefined {
  const done = rolloutHistory(repo, pkg)
    .filter(h => h.doc.state === 'completed' && repo.targets()[`releases/${pkg}/${h.doc.version}.json`] != null)
  return done[done.length - 1]?.doc
}

/** true when `version` is older than `baseline` in the package's scheme */
export function isDowngrade (scheme: string, version: string, baseline: string): boolean {
  return isScheme(scheme) && compareVersions(scheme, version, baseline) < 0
}

/**
 * What the audit log must hold, as the signed metadata tells it: the start
 * of every rollout an operator started (its starter is signed in the
 * history), the operator's change a rollout records last, and every
 * release added since the log began. `umesh audit --verify` checks these,
 * which finds entries cut from the end of the log, where no chain can.
 */
export function auditExpectations (repo: Repository): ExpectedEntry[] {
  const out: ExpectedEntry[] = []
  for (const h of rolloutHistory(repo)) {
    const { id, package: pkg, version, state } = h.doc
    if (h.startedBy != null) {
      out.push({ what: `rollout ${id} of ${pkg} ${version}, started by ${h.startedBy} at ${h.doc.created}`, matches: e => e.action === 'rollout.start' && e.result.rollout === id })
    }
    if (h.changedBy != null && h.changedBy !== COORDINATOR_ACTOR && h.doc.reason !== 'started') {
      out.push({ what: `a change of rollout ${id} of ${pkg} to ${state} by ${h.changedBy} at ${h.doc.updated} (${h.doc.reason})`, matches: e => e.action.startsWith('rollout.') && e.action !== 'rollout.start' && e.result.rollout === id && e.result.state === state && e.actor === h.changedBy })
    }
  }
  for (const r of releasesIn(repo)) {
    if (typeof r.created !== 'string') continue
    out.push({ what: `the release ${r.package} ${r.version}, added at ${r.created}`, after: r.created, matches: e => e.action === 'release.add' && e.args.package === r.package && e.args.version === r.version })
  }
  return out
}
