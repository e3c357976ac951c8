/**
 * The repository's audit trail: every operator action on releases and
 * rollouts, from the CLI or the HTTP API, appended to
 * `<repo>/audit/log.jsonl` as one line each (time, action, arguments,
 * result, actor, how it came), signed with the repository key that
 * authorised it and chained by sha256 to the entry before, so an entry
 * edited, removed or moved is found by `umesh audit --verify`.
 *
 * Imports: errors, trust/ (the repository's role keys and metadata), util/ (the lock file).
 */
export { AUDIT_FORMAT, GENESIS, MAX_ENTRY_BYTES, canonicalBytes, entryHash, signEntry, entrySignatureValid, plain } from './entry.js'
export type { AuditEntry, AuditVia, Plain } from './entry.js'
export { AuditError, AuditVerifyError } from './errors.js'
export { appendEntry, auditLogFile, readLogLines, AUDIT_DIR, AUDIT_LOG } from './log.js'
export { verifyAuditLog, describeProblem, RepositoryKeys } from './verify.js'
export type { VerifyProblem, VerifyResult, ProblemKind, ExpectedEntry } from './verify.js'
export { resolveActor, checkActor } from './actor.js'
export { audited, auditedAsync, auditSigner, recordAction } from './record.js'
export type { Operator, AuditedAction } from './record.js'
export { readAuditLog, sinceTime } from './read.js'
