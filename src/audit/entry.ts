/**
 * One entry of the audit log: who did what to the repository, when, with
 * which arguments, signed with the repository key that authorised it and
 * chained to the entry before it. The signature covers the canonical JSON
 * (TUF's dialect, @tufjs/canonical-json) of every field but `sig`; the
 * chain is the sha256 of the previous entry's canonical bytes, `sig`
 * included, so an entry edited, removed or moved breaks the next link.
 */
import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import * as ed from '@noble/ed25519'
import { canonicalize } from '@tufjs/canonical-json'
import { toString as toHex, fromString as fromHex } from 'uint8arrays'
import { AuditError } from './errors.js'
import type { RoleKey } from '../trust/role-keys.js'

export const AUDIT_FORMAT = 'umesh-audit/1'
/** the `prev` of the first entry */
export const GENESIS = '0'.repeat(64)
/** an entry's line, at most (arguments are cut to fit long before this) */
export const MAX_ENTRY_BYTES = 16 * 1024
const MAX_TEXT = 1024
const MAX_ITEMS = 64

/** how an action reached the repository */
export type AuditVia = 'cli' | 'api'

/** a JSON value canonical JSON can carry: no floats, no undefined */
export type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain }

export interface AuditEntry {
  format: typeof AUDIT_FORMAT
  /** 0 for the first entry, then one more each */
  seq: number
  /** ISO 8601, UTC, when it was appended */
  time: string
  /** e.g. rollout.start, rollout.halt, release.add, release.publish */
  action: string
  /** the operation's arguments as given */
  args: { [key: string]: Plain }
  /** what it produced (a rollout id, a state, a target) */
  result: { [key: string]: Plain }
  /** the operator: --actor, UMESH_ACTOR, the OS user; through the API, the token's name */
  actor: string
  via: AuditVia
  /** the repository role whose key signed the action and this entry */
  role: string
  keyid: string
  /** sha256 (hex) of the previous entry's canonical bytes; GENESIS for the first */
  prev: string
  /** ed25519 signature (hex) over the canonical bytes of every other field */
  sig: string
}

export type UnsignedEntry = Omit<AuditEntry, 'sig'>

/**
 * Arguments as canonical JSON can carry them: fractions become text
 * (canonical JSON has no floats), undefined members go, long texts and
 * lists are cut, so no entry outgrows its line.
 */
export function plain (value: unknown, depth = 0): Plain {
  if (value == null) return null
  if (typeof value === 'string') return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value
  if (typeof value === 'boolean') return value
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : String(value)
  if (depth > 4) return '…'
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map(v => plain(v, depth + 1))
  if (typeof value === 'object') {
    const out: { [key: string]: Plain } = {}
    for (const [k, v] of Object.entries(value).slice(0, MAX_ITEMS)) {
      if (v !== undefined) out[k] = plain(v, depth + 1)
    }
    return out
  }
  return String(value)
}

export function canonicalBytes (entry: UnsignedEntry | AuditEntry): Buffer {
  return Buffer.from(canonicalize(entry), 'utf8')
}

/** the link the next entry carries */
export function entryHash (entry: AuditEntry): string {
  return createHash('sha256').update(canonicalBytes(entry)).digest('hex')
}

export function signEntry (entry: UnsignedEntry, key: RoleKey): AuditEntry {
  if (key.privateKey == null) throw new AuditError(`cannot sign the audit entry with key ${key.keyId}: its private half is not here`)
  if (entry.keyid !== key.keyId) throw new AuditError(`the audit entry names key ${entry.keyid}, not ${key.keyId}`)
  const sig = toHex(ed.sign(new Uint8Array(canonicalBytes(entry)), fromHex(key.privateKey, 'base16')), 'base16')
  return { ...entry, sig }
}

// an ed25519 public key in the SPKI DER form node:crypto reads
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

/** an ed25519 public key (hex) as node:crypto verifies with it */
export function publicKeyObject (publicKeyHex: string): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(publicKeyHex, 'hex')]), format: 'der', type: 'spki' })
}

/** whether `sig` is the key's signature over the entry's other fields */
export function entrySignatureValid (entry: AuditEntry, publicKey: string | KeyObject): boolean {
  try {
    const { sig, ...rest } = entry
    const key = typeof publicKey === 'string' ? publicKeyObject(publicKey) : publicKey
    return verifySignature(null, canonicalBytes(rest), key, Buffer.from(sig, 'hex'))
  } catch {
    return false
  }
}

const HEX64 = /^[0-9a-f]{64}$/
const ACTION = /^[a-z][a-z0-9.-]{0,63}$/

/** what is wrong with the shape of a parsed line, or undefined */
export function shapeProblem (raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw == null || Array.isArray(raw)) return 'not a JSON object'
  const e = raw as Record<string, unknown>
  const known = ['format', 'seq', 'time', 'action', 'args', 'result', 'actor', 'via', 'role', 'keyid', 'prev', 'sig']
  const unknown = Object.keys(e).filter(k => !known.includes(k))
  if (unknown.length > 0) return `unknown field ${unknown[0]}`
  if (e.format !== AUDIT_FORMAT) return `format: expected ${AUDIT_FORMAT}`
  if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 0) return 'seq: expected an integer from 0'
  if (typeof e.time !== 'string' || Number.isNaN(Date.parse(e.time))) return 'time: expected an ISO date'
  if (typeof e.action !== 'string' || !ACTION.test(e.action)) return 'action: expected a name such as rollout.start'
  for (const f of ['args', 'result'] as const) {
    if (typeof e[f] !== 'object' || e[f] == null || Array.isArray(e[f])) return `${f}: expected an object`
  }
  if (typeof e.actor !== 'string' || e.actor === '') return 'actor: expected a name'
  if (e.via !== 'cli' && e.via !== 'api') return 'via: expected cli or api'
  if (typeof e.role !== 'string') return 'role: expected a role name'
  if (typeof e.keyid !== 'string' || !HEX64.test(e.keyid)) return 'keyid: expected 64 hex digits'
  if (typeof e.prev !== 'string' || !HEX64.test(e.prev)) return 'prev: expected 64 hex digits'
  if (typeof e.sig !== 'string' || !/^[0-9a-f]{128}$/.test(e.sig)) return 'sig: expected 128 hex digits'
  return undefined
}
