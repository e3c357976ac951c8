/**
 * Checks the audit log from its first line: each entry's shape, its
 * signature by a key the repository's metadata gives its role, its place
 * (seq one more than the entry before), its link (the sha256 of the entry
 * before) and its time (never before the entry before). Stops at the first
 * entry that fails and says which and why. A chain cannot show that entries
 * were cut from its end; what the repository signed can: the caller passes
 * the actions the signed metadata records (a rollout started by an
 * operator, a release added since the log began), and each must have its
 * entry.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { entryHash, entrySignatureValid, GENESIS, publicKeyObject, shapeProblem } from './entry.js'
import type { KeyObject } from 'node:crypto'
import { auditLogFile, readLogLines } from './log.js'
import type { AuditEntry } from './entry.js'

export type ProblemKind = 'malformed' | 'bad signature' | 'chain broken' | 'out of order' | 'missing'

/** an action the repository's signed metadata records, which the log must hold */
export interface ExpectedEntry {
  /** what it is, for the message: "rollout 1234 of app 1.0.0 started by bob at ..." */
  what: string
  /** only checked when the log began before this time (ISO); absent: always */
  after?: string
  matches: (entry: AuditEntry) => boolean
}

export interface VerifyProblem {
  /** the entry's position in the log, 0 for the first */
  index: number
  /** its line in the file, 1 for the first */
  line: number
  seq?: number
  time?: string
  kind: ProblemKind
  detail: string
}

export interface VerifyResult {
  file: string
  entries: number
  first?: string
  last?: string
  problem?: VerifyProblem
}

interface KnownKey { publicKey: string, roles: Set<string>, object?: KeyObject }

/**
 * Every key the repository's metadata ever named, with its roles: each root
 * version (root, targets, snapshot, timestamp) and the delegations of each
 * targets version (rollouts), the older ones read only when an entry names
 * a key not found yet. A key rotated away still verifies what it signed.
 */
export class RepositoryKeys {
  private readonly keys = new Map<string, KnownKey>()
  private targetsFiles?: string[]

  constructor (private readonly repoDir: string) {
    for (const file of this.metadataFiles(/^\d+\.root\.json$/)) {
      const signed = this.read(file)
      for (const [role, spec] of Object.entries<any>(signed?.roles ?? {})) {
        for (const id of spec?.keyids ?? []) this.add(id, signed.keys?.[id]?.keyval?.public, role)
      }
    }
  }

  private metadataFiles (pattern: RegExp): string[] {
    const dir = join(this.repoDir, 'metadata')
    if (!existsSync(dir)) return []
    return readdirSync(dir).filter(f => pattern.test(f)).sort((a, b) => parseInt(b) - parseInt(a))
  }

  private read (file: string): any {
    try {
      return JSON.parse(readFileSync(join(this.repoDir, 'metadata', file), 'utf8')).signed
    } catch {
      return undefined
    }
  }

  private add (id: string, publicKey: unknown, role: string): void {
    if (typeof publicKey !== 'string') return
    const known = this.keys.get(id) ?? { publicKey, roles: new Set() }
    known.roles.add(role)
    this.keys.set(id, known)
  }

  get (keyId: string): KnownKey | undefined {
    if (this.keys.has(keyId)) return this.keys.get(keyId)
    // newest targets versions first: a delegation key is usually recent
    this.targetsFiles ??= this.metadataFiles(/^\d+\.targets\.json$/)
    while (this.targetsFiles.length > 0 && !this.keys.has(keyId)) {
      const d = this.read(this.targetsFiles.shift() as string)?.delegations
      for (const role of d?.roles ?? []) {
        for (const id of role?.keyids ?? []) this.add(id, d.keys?.[id]?.keyval?.public, role.name)
      }
    }
    return this.keys.get(keyId)
  }
}

export function verifyAuditLog (repoDir: string, expected: ExpectedEntry[] = []): VerifyResult {
  const lines = readLogLines(repoDir)
  const keys = new RepositoryKeys(repoDir)
  const result: VerifyResult = { file: auditLogFile(repoDir), entries: lines.length }
  const parsed = lines.map(l => { try { return JSON.parse(l.text) } catch { return undefined } })
  const seqs = parsed.map(p => typeof p?.seq === 'number' ? p.seq : -1)
  let prevHash = GENESIS
  let prevTime = -Infinity
  for (const [index, l] of lines.entries()) {
    const raw = parsed[index]
    const fail = (kind: ProblemKind, detail: string): VerifyResult => {
      result.problem = { index, line: l.line + 1, seq: raw?.seq, time: raw?.time, kind, detail }
      return result
    }
    if (raw === undefined) return fail('malformed', `not JSON${index === lines.length - 1 ? ' (a write cut short?)' : ''}: ${l.text.slice(0, 60)}`)
    const shape = shapeProblem(raw)
    if (shape != null) return fail('malformed', shape)
    const e = raw as AuditEntry
    const key = keys.get(e.keyid)
    if (key == null) return fail('bad signature', `signed by key ${e.keyid.slice(0, 12)}…, which no metadata of this repository names`)
    if (!key.roles.has(e.role)) return fail('bad signature', `signed by key ${e.keyid.slice(0, 12)}…, a ${[...key.roles].join('/')} key, while the entry says ${e.role}`)
    key.object ??= publicKeyObject(key.publicKey)
    if (!entrySignatureValid(e, key.object)) return fail('bad signature', 'the signature does not match the entry: it was changed after it was signed')
    if (e.seq !== index) {
      const elsewhere = seqs.indexOf(index)
      if (elsewhere > index) return fail('out of order', `seq ${e.seq} where seq ${index} belongs; seq ${index} is entry ${elsewhere} further down (entries were moved)`)
      if (e.seq > index) return fail('chain broken', `seq ${e.seq} follows seq ${index - 1}; ${e.seq - index === 1 ? `entry ${index} was` : `entries ${index} to ${e.seq - 1} were`} removed`)
      return fail('out of order', `seq ${e.seq} where seq ${index} belongs (entries were moved or copied)`)
    }
    if (e.prev !== prevHash) return fail('chain broken', 'its link does not match the entry before it: the entry before was changed, removed or moved')
    if (Date.parse(e.time) < prevTime) return fail('out of order', `time ${e.time} is before the entry before it (${new Date(prevTime).toISOString()})`)
    prevHash = entryHash(e)
    prevTime = Date.parse(e.time)
    result.first ??= e.time
    result.last = e.time
  }
  const entries = parsed as AuditEntry[]
  for (const x of expected) {
    if (x.after != null && (result.first == null || result.first > x.after)) continue
    if (!entries.some(e => x.matches(e))) {
      const last = lines[lines.length - 1]
      result.problem = {
        index: lines.length,
        line: (last?.line ?? -1) + 2,
        kind: 'missing',
        detail: `the repository's signed metadata records ${x.what}, and no entry does: entries were cut from the end of the log (or the action's entry was never written)`
      }
      return result
    }
  }
  return result
}

export function describeProblem (p: VerifyProblem): string {
  if (p.kind === 'missing') return `after the last entry: missing: ${p.detail}`
  return `entry ${p.index} (line ${p.line}${p.seq != null ? `, seq ${String(p.seq)}` : ''}${p.time != null ? `, ${String(p.time)}` : ''}): ${p.kind}: ${p.detail}`
}
