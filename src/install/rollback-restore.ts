/**
 * Restoring a rollback point when an install is undone. A restore first
 * decrypts and hashes every stored file, and changes nothing unless all
 * match (a half-restored state would be worse than none); then it writes
 * files atomically (temporary file and rename) with their modes, makes each
 * saved folder hold exactly what it held (removing files added since), and
 * removes paths that were absent. Restoring twice is the same as once, so an
 * undo cut by a crash can simply restore again.
 */
import { createDecipheriv, createHash, timingSafeEqual } from 'node:crypto'
import type { DecipherGCM } from 'node:crypto'
import { chmodSync, closeSync, constants, existsSync, fchmodSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, resolve } from 'node:path'
import { fsyncDir } from '../util/fs.js'
import { BACKUP_KEY_FILE, checkKey } from './backup-key.js'
import { aad, checkId, FORMAT, inside, IV_BYTES, MANIFEST_FILE, manifestMac, PIECE, readAt, RollbackPointCorruptError, RollbackPointError, STORED, TAG_BYTES, writeAll } from './rollback-format.js'
import type { RollbackEntry, RollbackManifest } from './rollback-format.js'

/** streams a stored file's plaintext to `sink`; throws if it does not decrypt (the tag is checked before returning) */
function readStored (file: string, key: Uint8Array | undefined, ad: Buffer, sink: (plain: Buffer) => void): void {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW)
  try {
    const size = fstatSync(fd).size
    const buf = Buffer.allocUnsafe(PIECE)
    if (key == null) {
      for (let pos = 0; pos < size;) {
        const n = readAt(fd, buf, Math.min(PIECE, size - pos), pos)
        if (n === 0) break
        sink(buf.subarray(0, n))
        pos += n
      }
      return
    }
    if (size < IV_BYTES + TAG_BYTES) throw new Error(`${size} bytes, too short for an encrypted file`)
    const iv = Buffer.alloc(IV_BYTES)
    const tag = Buffer.alloc(TAG_BYTES)
    readAt(fd, iv, IV_BYTES, 0)
    readAt(fd, tag, TAG_BYTES, size - TAG_BYTES)
    const decipher: DecipherGCM = createDecipheriv('aes-256-gcm', key, iv)
    decipher.setAAD(ad)
    decipher.setAuthTag(tag)
    const end = size - TAG_BYTES
    for (let pos = IV_BYTES; pos < end;) {
      const n = readAt(fd, buf, Math.min(PIECE, end - pos), pos)
      if (n === 0) throw new Error('the file ended early')
      sink(decipher.update(buf.subarray(0, n)))
      pos += n
    }
    sink(decipher.final())
  } finally {
    closeSync(fd)
  }
}

/** reads and checks the manifest's shape, and its HMAC when encrypted and a key is given */
function readManifest (backupsDir: string, id: string, key?: Uint8Array): RollbackManifest {
  const file = join(backupsDir, checkId(id), MANIFEST_FILE)
  let raw: any
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new RollbackPointError(`rollback point ${id} is not in ${backupsDir}${existsSync(join(backupsDir, id)) ? ' (it has no manifest: it was never finished)' : ''}; list them with \`umesh update status\``)
    }
    throw new RollbackPointCorruptError(`rollback point ${id}: ${file} is not readable JSON (${(err as Error).message}); it cannot be restored`)
  }
  const corrupt = (what: string): never => { throw new RollbackPointCorruptError(`rollback point ${id}: the manifest ${file} ${what}; it cannot be restored, and nothing was changed`) }
  if (raw?.format !== FORMAT || raw.id !== id || typeof raw.encrypted !== 'boolean' || !Array.isArray(raw.statePaths) || !Array.isArray(raw.entries)) corrupt(`is not a ${FORMAT} manifest of this rollback point`)
  const roots: string[] = raw.statePaths
  if (!roots.every(p => typeof p === 'string' && isAbsolute(p) && resolve(p) === p)) corrupt('lists a state path that is not absolute and normal')
  for (const e of raw.entries) {
    if (typeof e?.path !== 'string' || !isAbsolute(e.path) || resolve(e.path) !== e.path || !roots.some(r => inside(e.path, r))) corrupt(`has an entry outside its state paths (${JSON.stringify(e?.path)})`)
    if (!['file', 'dir', 'absent'].includes(e.kind) || !Number.isSafeInteger(e.mode) || e.mode < 0 || e.mode > 0o7777) corrupt(`has an invalid entry for ${e.path}`)
    if (e.kind === 'file' && (!STORED.test(e.stored) || !Number.isSafeInteger(e.size) || e.size < 0 || !/^[0-9a-f]{64}$/.test(e.sha256))) corrupt(`has an invalid file entry for ${e.path}`)
  }
  for (const r of roots) if (!raw.entries.some((e: RollbackEntry) => e.path === r)) corrupt(`has no entry for its state path ${r}`)
  if (raw.encrypted === true) {
    if (key == null) throw new RollbackPointError(`rollback point ${id} is encrypted; it needs the backup key (${BACKUP_KEY_FILE} in the data folder) to be restored`)
    checkKey(key)
    const { mac, ...body } = raw
    const expected = Buffer.from(manifestMac(key, body), 'hex')
    const given = Buffer.from(typeof mac === 'string' ? mac : '', 'hex')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) corrupt('does not carry a valid HMAC under this backup key (it was changed, or the key is not the one it was taken with)')
  }
  return raw as RollbackManifest
}

/** one restore under way: where the stored files are, and the folders whose entries changed (fsynced at the end) */
interface Restore {
  manifest: RollbackManifest
  dir: string
  key: Uint8Array | undefined
  touched: Set<string>
}

/** every stored file decrypts and hashes to what the manifest says, or this throws and nothing is touched */
function verifyStored (r: Restore): void {
  for (const entry of r.manifest.entries.filter(e => e.kind === 'file')) {
    const hash = createHash('sha256')
    let size = 0
    try {
      readStored(join(r.dir, entry.stored), r.key, aad(r.manifest.id, entry), (plain) => { hash.update(plain); size += plain.length })
    } catch (err) {
      throw new RollbackPointCorruptError(`rollback point ${r.manifest.id}: the saved copy of ${entry.path} (${entry.stored}) cannot be read${r.key != null ? ' or decrypted' : ''} (${(err as Error).message}); nothing was restored`)
    }
    const digest = hash.digest('hex')
    if (size !== entry.size || digest !== entry.sha256) {
      throw new RollbackPointCorruptError(`rollback point ${r.manifest.id}: the saved copy of ${entry.path} (${entry.stored}) is damaged: ${size} bytes with sha256 ${digest}, the manifest says ${entry.size} bytes with ${entry.sha256}; nothing was restored`)
    }
  }
}

function removeAny (r: Restore, path: string): void {
  const st = lstatSync(path, { throwIfNoEntry: false })
  if (st == null) return
  rmSync(path, { recursive: st.isDirectory(), force: true })
  r.touched.add(dirname(path))
}

function restoreFile (r: Restore, entry: RollbackEntry): void {
  const parent = dirname(entry.path)
  mkdirSync(parent, { recursive: true })
  const st = lstatSync(entry.path, { throwIfNoEntry: false })
  if (st?.isDirectory() === true) rmSync(entry.path, { recursive: true, force: true })
  const tmp = join(parent, `.${basename(entry.path)}.umesh-restore-${process.pid}.tmp`)
  rmSync(tmp, { force: true })
  const fd = openSync(tmp, 'wx', 0o600)
  try {
    const hash = createHash('sha256')
    readStored(join(r.dir, entry.stored), r.key, aad(r.manifest.id, entry), (plain) => { hash.update(plain); writeAll(fd, plain) })
    if (hash.digest('hex') !== entry.sha256) throw new RollbackPointCorruptError(`rollback point ${r.manifest.id}: the saved copy of ${entry.path} changed while it was restored; restore again`)
    fchmodSync(fd, entry.mode)
    fsyncSync(fd)
  } catch (err) {
    closeSync(fd)
    rmSync(tmp, { force: true })
    throw err
  }
  closeSync(fd)
  renameSync(tmp, entry.path)
  r.touched.add(parent)
}

function ensureDir (r: Restore, entry: RollbackEntry): void {
  const st = lstatSync(entry.path, { throwIfNoEntry: false })
  if (st != null && !st.isDirectory()) removeAny(r, entry.path)
  if (st == null || !st.isDirectory()) {
    mkdirSync(entry.path, { recursive: true })
    r.touched.add(dirname(entry.path))
  }
  // writable while its contents are restored; its saved mode is set after them
  chmodSync(entry.path, entry.mode | 0o700)
}

/** removes what a saved folder did not hold (sockets excepted: a running service's) */
function removeExtras (r: Restore, path: string, keep: Set<string>): void {
  for (const name of readdirSync(path)) {
    const child = join(path, name)
    const st = lstatSync(child)
    if (!keep.has(child)) {
      if (!st.isSocket()) removeAny(r, child)
    } else if (st.isDirectory()) removeExtras(r, child, keep)
  }
}

function restoreStatePath (r: Restore, root: string): void {
  const rootEntry = r.manifest.entries.find(e => e.path === root)!
  if (rootEntry.kind === 'absent') removeAny(r, root)
  else if (rootEntry.kind === 'file') restoreFile(r, rootEntry)
  else {
    const below = r.manifest.entries.filter(e => inside(e.path, root))
    for (const entry of below) {
      if (entry.kind === 'dir') ensureDir(r, entry)
      else if (entry.kind === 'file') restoreFile(r, entry)
    }
    removeExtras(r, root, new Set(below.map(e => e.path)))
    for (const entry of below.reverse()) if (entry.kind === 'dir') chmodSync(entry.path, entry.mode)
  }
}

export function restoreRollbackPoint (opts: { backupsDir: string, id: string, key?: Uint8Array }): { restored: number } {
  const manifest = readManifest(opts.backupsDir, opts.id, opts.key)
  const r: Restore = { manifest, dir: join(opts.backupsDir, manifest.id), key: manifest.encrypted ? opts.key : undefined, touched: new Set() }
  verifyStored(r)
  for (const root of manifest.statePaths) restoreStatePath(r, root)
  for (const d of r.touched) if (existsSync(d)) fsyncDir(d)
  return { restored: manifest.statePaths.length }
}
