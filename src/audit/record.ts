/**
 * What the operations layer (src/rollout/operations.ts,
 * src/release/operations.ts) calls, so the CLI and the HTTP API are both
 * recorded: `auditSigner` before the action (no key for the role here, or a
 * log that cannot be appended to, stops it before anything changes), then
 * `recordAction` once the action is done.
 */
import { appendEntry } from './log.js'
import { AuditError } from './errors.js'
import type { AuditEntry, AuditVia } from './entry.js'
import type { Repository, RoleName } from '../trust/repository.js'
import type { RoleKey } from '../trust/role-keys.js'

/** who asks for an operation, and through what */
export interface Operator {
  actor: string
  via: AuditVia
}

export interface AuditedAction {
  /** e.g. rollout.start */
  action: string
  /** the role whose key authorises the action; it signs the entry too */
  role: RoleName
  args: Record<string, unknown>
}

/** the key that will sign the entry: the first of the role's keys on this machine */
export function auditSigner (repo: Repository, role: RoleName): RoleKey {
  const key = repo.keysFor(role)[0]
  if (key?.privateKey == null) throw new AuditError(`no ${role} key in ${repo.keysDir} to sign the audit entry with; the action needs it anyway`)
  return key
}

export function recordAction (repo: Repository, who: Operator, what: AuditedAction, result: Record<string, unknown>, key = auditSigner(repo, what.role)): AuditEntry {
  return appendEntry(repo.dir, { action: what.action, args: what.args, result, actor: who.actor, via: who.via, role: what.role, key })
}

/**
 * Runs an operation and records it: the signer is found first, the entry
 * appended after the operation succeeded. An operation that failed is not
 * recorded (it changed nothing). An entry that cannot be appended after
 * the operation is an error saying the operation itself was done.
 */
export function audited<T> (repo: Repository, who: Operator, what: AuditedAction, run: () => T, result: (value: T) => Record<string, unknown>): T {
  const key = auditSigner(repo, what.role)
  const value = run()
  recordOrSay(repo, who, what, result(value), key)
  return value
}

export async function auditedAsync<T> (repo: Repository, who: Operator, what: AuditedAction, run: () => Promise<T>, result: (value: T) => Record<string, unknown>): Promise<T> {
  const key = auditSigner(repo, what.role)
  const value = await run()
  recordOrSay(repo, who, what, result(value), key)
  return value
}

function recordOrSay (repo: Repository, who: Operator, what: AuditedAction, result: Record<string, unknown>, key: RoleKey): void {
  try {
    recordAction(repo, who, what, result, key)
  } catch (err) {
    throw new AuditError(`${what.action} was done, but its audit entry could not be written: ${(err as Error).message}`)
  }
}
