/**
 * Rollback points: a copy of a package's mutable state (its `statePaths`)
 * taken before an install changes anything, and put back when the install
 * is undone, so an undone install leaves the state as the old version last
 * wrote it. Taking one is in `rollback-create.ts`, restoring it in
 * `rollback-restore.ts`, the format both share in `rollback-format.ts`, the
 * encryption key in `backup-key.ts`; listing and removing them is here.
 *
 * A backup without a manifest is incomplete (a crash while it was taken):
 * it is never listed nor restored. Removal deletes the manifest first, so a
 * crash midway leaves an incomplete backup, never a damaged one.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fsyncDir } from '../util/fs.js'
import { checkId, FORMAT, ID, MANIFEST_FILE } from './rollback-format.js'
import type { RollbackManifest } from './rollback-format.js'

export { createRollbackPoint } from './rollback-create.js'
export type { CreateRollbackPointOptions } from './rollback-create.js'
export { restoreRollbackPoint } from './rollback-restore.js'
export { BACKUP_KEY_FILE, BackupKeyError, loadOrCreateBackupKey } from './backup-key.js'
export { MANIFEST_FILE, RollbackPointCorruptError, RollbackPointError } from './rollback-format.js'
export type { RollbackEntry, RollbackManifest } from './rollback-format.js'

export interface RollbackPointSummary {
  id: string
  package: string
  version: string | null
  created: string
  encrypted: boolean
  entries: number
  bytes: number
}

/** the complete rollback points in `backupsDir`, oldest first (folders without a manifest are skipped) */
export function listRollbackPoints (backupsDir: string): RollbackPointSummary[] {
  let names: string[]
  try {
    names = readdirSync(backupsDir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const found: RollbackPointSummary[] = []
  for (const name of names) {
    if (!ID.test(name)) continue
    let m: RollbackManifest
    try {
      m = JSON.parse(readFileSync(join(backupsDir, name, MANIFEST_FILE), 'utf8'))
    } catch {
      continue
    }
    if (m?.format !== FORMAT || !Array.isArray(m.entries)) continue
    found.push({ id: name, package: m.package, version: m.version, created: m.created, encrypted: m.encrypted, entries: m.entries.length, bytes: m.bytes })
  }
  return found.sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id))
}

/** removes a rollback point: its manifest first, so a crash midway leaves an incomplete one, never a damaged one */
export function removeRollbackPoint (backupsDir: string, id: string): void {
  const dir = join(backupsDir, checkId(id))
  rmSync(join(dir, MANIFEST_FILE), { force: true })
  rmSync(dir, { recursive: true, force: true })
  if (existsSync(backupsDir)) fsyncDir(backupsDir)
}
