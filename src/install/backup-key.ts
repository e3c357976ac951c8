/**
 * The key rollback points are encrypted with: 32 random bytes in a file of
 * the node's data folder (`backup.key`, mode 0600), made on first use. It is
 * kept apart from the backups so a copy of an install root alone does not
 * reveal the state it saved; lose it and encrypted rollback points are lost.
 */
import { randomBytes } from 'node:crypto'
import { closeSync, fchmodSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { UmeshError } from '../errors.js'
import { fsyncDir } from '../util/fs.js'
import { writeAll } from './rollback-format.js'

/** the key file's name in the data folder */
export const BACKUP_KEY_FILE = 'backup.key'
export const KEY_BYTES = 32

export class BackupKeyError extends UmeshError {
  override readonly name = 'BackupKeyError'
}

export function checkKey (key: Uint8Array): void {
  if (key.length !== KEY_BYTES) throw new BackupKeyError(`the backup key is ${key.length} bytes; AES-256-GCM needs ${KEY_BYTES}`)
}

/** the key in `file`, or null when there is none; refuses one others may read, or of the wrong size */
function loadBackupKey (file: string): Uint8Array | null {
  const st = lstatSync(file, { throwIfNoEntry: false })
  if (st == null) return null
  if (!st.isFile()) throw new BackupKeyError(`${file} is not a regular file; remove it (encrypted rollback points taken with it are then lost) or put the key file back`)
  if ((st.mode & 0o077) !== 0) throw new BackupKeyError(`${file} is readable or writable by group or others (mode ${(st.mode & 0o777).toString(8)}); the key decrypts every rollback point: run chmod 600 ${file}`)
  const key = readFileSync(file)
  if (key.length !== KEY_BYTES) throw new BackupKeyError(`${file} holds ${key.length} bytes, a backup key is ${KEY_BYTES}; it is damaged: put back a copy, or remove it (encrypted rollback points taken with it are then lost)`)
  return new Uint8Array(key)
}

/**
 * The key in `file` (the caller passes `<dataDir>/backup.key`), created if
 * missing. Created under a temporary name and hard-linked into place, so two
 * processes creating it at once end up with the same key.
 */
export function loadOrCreateBackupKey (file: string): Uint8Array {
  const existing = loadBackupKey(file)
  if (existing != null) return existing
  const dir = dirname(file)
  mkdirSync(dir, { recursive: true })
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const fd = openSync(tmp, 'wx', 0o600)
  try {
    writeAll(fd, randomBytes(KEY_BYTES))
    fchmodSync(fd, 0o600)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(tmp, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  } finally {
    rmSync(tmp, { force: true })
  }
  fsyncDir(dir)
  return loadBackupKey(file)!
}
