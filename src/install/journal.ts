/**
 * The install journal (`state.json`) and the history (`history.jsonl`) of one
 * package's install root. The journal is rewritten atomically before every
 * step of an install, so a restart knows exactly where it stopped; the
 * history gains one fsynced line per finished install, rollback or failure
 * (a torn last line after a crash is skipped when read).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { UmeshError } from '../errors.js'
import { writeFileAtomic } from '../util/fs.js'
import type { HistoryEntry, InstallState } from './types.js'

export const STATE_FILE = 'state.json'
export const HISTORY_FILE = 'history.jsonl'
const FORMAT = 'umesh-install/1'
/** the history read back at most (the file itself is never truncated by a read) */
const MAX_HISTORY_BYTES = 16 * 1024 * 1024

export class JournalError extends UmeshError {
  override readonly name = 'JournalError'
}

export function emptyState (pkg: string): InstallState {
  return { format: FORMAT, package: pkg, current: null, versions: [], pending: null }
}

export function readState (installRoot: string, pkg: string): InstallState {
  const file = join(installRoot, STATE_FILE)
  if (!existsSync(file)) return emptyState(pkg)
  let raw: any
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new JournalError(`${file} is not JSON (${(err as Error).message}); it is written atomically, so something else changed it: restore it from a backup or move it aside to start over`)
  }
  if (raw?.format !== FORMAT || raw.package !== pkg || !Array.isArray(raw.versions)) {
    throw new JournalError(`${file} is not the install journal of ${pkg} (format ${JSON.stringify(raw?.format)}, package ${JSON.stringify(raw?.package)}); check the package's installRoot`)
  }
  return raw as InstallState
}

export function writeState (installRoot: string, state: InstallState): void {
  mkdirSync(installRoot, { recursive: true })
  writeFileAtomic(join(installRoot, STATE_FILE), JSON.stringify(state, null, 1) + '\n', 0o644)
}

export function appendHistory (installRoot: string, entry: HistoryEntry): void {
  mkdirSync(installRoot, { recursive: true })
  const fd = openSync(join(installRoot, HISTORY_FILE), 'a', 0o644)
  try {
    writeSync(fd, JSON.stringify(entry) + '\n')
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** every entry, oldest first; lines that do not parse (a torn write) are skipped */
export function readHistory (installRoot: string): HistoryEntry[] {
  const file = join(installRoot, HISTORY_FILE)
  if (!existsSync(file)) return []
  let text = readFileSync(file, 'utf8')
  if (text.length > MAX_HISTORY_BYTES) text = text.slice(text.length - MAX_HISTORY_BYTES)
  const out: HistoryEntry[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    try {
      const e = JSON.parse(line)
      if (typeof e?.id === 'string' && typeof e.to === 'string') out.push(e)
    } catch {}
  }
  return out
}
