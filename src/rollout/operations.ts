/**
 * What `umesh rollout` and the HTTP API's /api/v1/rollouts both do, from
 * the same fields: start a rollout from the CLI's option texts, and steer
 * one (promote, pause, resume, halt with or without rollback). Each is
 * recorded in the repository's audit log (src/audit) with the operator who
 * asked, and the operator is kept in the rollout's history (history.ts).
 */
import { audited } from '../audit/index.js'
import { UsageError } from '../errors.js'
import { ROLLOUTS_ROLE } from '../trust/repository.js'
import { parseAbort, parseGate, parseWaves } from './document.js'
import { changeRollout, listRollouts, NoRolloutError, readRollout, startRollout } from './repo-rollouts.js'
import { parseSelector, selectorText } from './selector.js'
import { checkSelection } from './selection.js'
import type { Operator } from '../audit/index.js'
import type { Repository } from '../trust/repository.js'
import type { RolloutDocument } from './types.js'

export const DEFAULT_WAVES = 'canary:1,10%,50%,100%'
export const DEFAULT_GATE = 'success>=0.95,soak=60s'
export const DEFAULT_ABORT = 'failures>=0.1'

/** the CLI's options, as texts and flags */
export interface RolloutStartFields {
  package: string
  version: string
  waves?: string
  gate?: string
  abort?: string
  maxParallel?: number
  manual?: boolean
  allowDowngrade?: boolean
  critical?: boolean
  /** a label selector (selector.ts): only matching nodes take part */
  select?: string
  /** sign a selector that matches no node the coordinator knows */
  allowEmpty?: boolean
}

export function beginRollout (repo: Repository, f: RolloutStartFields, who: Operator): RolloutDocument {
  const maxParallel = f.maxParallel ?? 1
  if (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > 10_000) throw new UsageError('maxParallel: expected an integer from 1 to 10000')
  const selector = f.select == null ? undefined : parseSelector(f.select)
  if (selector != null) checkSelection(repo.dir, f.package, selector, f.allowEmpty === true)
  const start = (): RolloutDocument => startRollout(repo, {
    package: f.package,
    version: f.version,
    waves: parseWaves(f.waves ?? DEFAULT_WAVES),
    gate: parseGate(f.gate ?? DEFAULT_GATE),
    abort: parseAbort(f.abort ?? DEFAULT_ABORT),
    maxParallel,
    manual: f.manual === true,
    allowDowngrade: f.allowDowngrade === true,
    critical: f.critical === true,
    ...(selector != null ? { selector: selectorText(selector) } : {})
  }, who.actor)
  return audited(repo, who, { action: 'rollout.start', role: ROLLOUTS_ROLE, args: { ...f } }, start, doc => ({ rollout: doc.id, state: doc.state }))
}

export const STEER_ACTIONS = ['promote', 'pause', 'resume', 'halt'] as const
export type SteerAction = typeof STEER_ACTIONS[number]

/** an operator's change to the package's rollout, signed into the repository */
export function steerRollout (repo: Repository, pkg: string, action: SteerAction, rollback: boolean, who: Operator): RolloutDocument {
  const doc = readRollout(repo, pkg)
  if (doc == null) throw new NoRolloutError(`no rollout of ${pkg} in this repository`)
  const change = (): RolloutDocument => {
    switch (action) {
      case 'promote': return changeRollout(repo, pkg, { kind: 'open', wave: doc.open + 1, reason: `wave ${doc.waves[doc.open + 1]?.name ?? '?'} opened by ${who.actor}` }, who.actor)
      case 'pause': return changeRollout(repo, pkg, { kind: 'state', state: 'paused', reason: `paused by ${who.actor}` }, who.actor)
      case 'resume': return changeRollout(repo, pkg, { kind: 'state', state: 'running', reason: `resumed by ${who.actor}` }, who.actor)
      case 'halt': return changeRollout(repo, pkg, { kind: 'state', state: 'halted', rollback, reason: `halted by ${who.actor}${rollback ? '; rollback requested' : ''}` }, who.actor)
    }
  }
  const args = { package: pkg, rollout: doc.id, version: doc.version, ...(action === 'halt' ? { rollback } : {}) }
  return audited(repo, who, { action: `rollout.${action}`, role: ROLLOUTS_ROLE, args }, change, next => ({ rollout: next.id, state: next.state, open: next.waves[next.open]?.name ?? null, rollback: next.rollback }))
}

/** the package named, or the only one with a rollout */
export function onlyPackage (repo: Repository, pkg: string | undefined): string {
  if (pkg != null) return pkg
  const docs = listRollouts(repo)
  if (docs.length === 1) return docs[0].package
  throw new UsageError(docs.length === 0 ? 'this repository has no rollout; start one with `umesh rollout start`' : `rollouts of several packages (${docs.map(d => d.package).join(', ')}); name one with --package`)
}
