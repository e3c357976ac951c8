/**
 * The repository's audit log, `<repo>/audit/log.jsonl`: one signed, chained
 * entry per line, appended and never rewritten. An append takes the lock,
 * reads only the log's tail for the entry to chain to, and writes the whole
 * line with one write() on a descriptor opened O_APPEND. A line left torn by
 * a crash is skipped over (the new entry starts on a line of its own and
 * chains to the last whole entry), and `verify` reports it.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, writeSync, readFileSync, fsyncSync } from 'node:fs'
import { join } from 'node:path'
import { AUDIT_FORMAT, entryHash, GENESIS, MAX_ENTRY_BYTES, plain, shapeProblem, signEntry } from './entry.js'
import { AuditError } from './errors.js'
import { withFileLock } from '../util/file-lock.js'
import type { AuditEntry, AuditVia, Plain } from './entry.js'
import type { RoleKey } from '../trust/role-keys.js'

export const AUDIT_DIR = 'audit'
export const AUDIT_LOG = 'log.jsonl'
/** how far back from the end an append looks for the entry to chain to */
const TAIL_BYTES = 4 * MAX_ENTRY_BYTES

export function auditLogFile (repoDir: string): string {
  return join(repoDir, AUDIT_DIR, AUDIT_LOG)
}

export interface AppendRequest {
  action: string
  args: Record<string, unknown>
  result: Record<string, unknown>
  actor: string
  via: AuditVia
  role: string
  key: RoleKey
}

interface Tail {
  last?: AuditEntry
  /** the file does not end with a newline: a torn write */
  torn: boolean
}

function readTail (file: string): Tail {
  if (!existsSync(file)) return { torn: false }
  const fd = openSync(file, 'r')
  try {
    const size = fstatSync(fd).size
    if (size === 0) return { torn: false }
    const length = Math.min(size, TAIL_BYTES)
    const buf = Buffer.alloc(length)
    readSync(fd, buf, 0, length, size - length)
    const torn = buf[length - 1] !== 0x0a
    // the first line of the window may be cut; whole lines only, newest first
    const lines = buf.toString('utf8').split('\n')
    if (length < size) lines.shift()
    if (torn) lines.pop()
    for (const line of lines.reverse()) {
      if (line.trim() === '') continue
      try {
        const raw = JSON.parse(line)
        if (shapeProblem(raw) == null) return { last: raw as AuditEntry, torn }
      } catch {}
    }
    throw new AuditError(`${file}: no whole entry in its last ${length} bytes to chain to; see what is wrong with: umesh audit --verify`)
  } finally {
    closeSync(fd)
  }
}

/** appends one entry (signed with `key`) and returns it */
export function appendEntry (repoDir: string, req: AppendRequest, now = new Date()): AuditEntry {
  const dir = join(repoDir, AUDIT_DIR)
  mkdirSync(dir, { recursive: true, mode: 0o750 })
  const file = join(dir, AUDIT_LOG)
  return withFileLock(join(dir, '.lock'), () => {
    const { last, torn } = readTail(file)
    // a log is in time order: a clock stepped back does not make an entry older than the one before
    const time = last != null && Date.parse(last.time) > now.getTime() ? last.time : now.toISOString()
    const sign = (args: Record<string, Plain>): AuditEntry => signEntry({
      format: AUDIT_FORMAT,
      seq: last == null ? 0 : last.seq + 1,
      time,
      action: req.action,
      args,
      result: plain(req.result) as Record<string, Plain>,
      actor: req.actor,
      via: req.via,
      role: req.role,
      keyid: req.key.keyId,
      prev: last == null ? GENESIS : entryHash(last)
    }, req.key)
    let entry = sign(plain(req.args) as Record<string, Plain>)
    // arguments too long for one line (many --requires, long texts) are kept as the start of their JSON
    if (Buffer.byteLength(JSON.stringify(entry)) > MAX_ENTRY_BYTES - 512) entry = sign({ truncated: JSON.stringify(entry.args).slice(0, MAX_ENTRY_BYTES / 4) })
    const line = Buffer.from(`${torn ? '\n' : ''}${JSON.stringify(entry)}\n`)
    if (line.length > MAX_ENTRY_BYTES) throw new AuditError(`the audit entry for ${req.action} is ${line.length} bytes, more than ${MAX_ENTRY_BYTES}`)
    const fd = openSync(file, 'a', 0o640)
    try {
      const written = writeSync(fd, line)
      if (written !== line.length) throw new AuditError(`${file}: wrote ${written} of ${line.length} bytes (disk full?); umesh audit --verify names the torn line`)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    return entry
  }, { timeoutMs: 5_000, error: message => new AuditError(message) })
}

export interface LogLine {
  /** 0-based line number in the file (blank lines counted) */
  line: number
  text: string
}

/** the log's non-empty lines; a missing log has none */
export function readLogLines (repoDir: string): LogLine[] {
  const file = auditLogFile(repoDir)
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8').split('\n').map((text, line) => ({ line, text })).filter(l => l.text.trim() !== '')
}
