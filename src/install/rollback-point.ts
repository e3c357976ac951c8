/**
 * Rollback points: a copy of a package's mutable state (its `statePaths`)
 * taken before an install changes anything, and put back when the install
 * is undone.
 *
 * `backups/<id>/files/<n>` holds each file's bytes (AES-256-GCM with a fresh
 * 12-byte IV per file when a key is given: IV, ciphertext, 16-byte tag);
 * `manifest.json`, written atomically and last, lists every path with its
 * kind (file, folder, absent), mode, size and plaintext sha256. A backup
 * without a manifest is incomplete: it is never restored, and the next
 * rollback point taken removes it. An encrypted backup's manifest carries an
 * HMAC under a key derived from the backup key, so it cannot be edited to
 * restore bytes to other paths either.
 *
 * A restore first decrypts and hashes every stored file, and changes nothing
 * unless all match; then it writes files atomically (temporary file and
 * rename) with their modes, makes each saved folder hold exactly what it
 * held (removing files added since), and removes paths that were absent.
 * Only regular files and folders are saved: a symbolic link, FIFO or device
 * in a state path is refused (a socket is a running service's and is left
 * alone).
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { DecipherGCM } from 'node:crypto'
import { chmodSync, closeSync, constants, existsSync, fchmodSync, fstatSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path'
import { UmeshError } from '../errors.js'
import { fsyncDir, writeFileAtomic } from '../util/fs.js'

export const MANIFEST_FILE = 'manifest.json'
export const BACKUP_KEY_FILE = 'backup.key'
const FORMAT = 'umesh-backup/1'
const FILES_DIR = 'files'
const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const PIECE = 1024 * 1024
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const STORED = /^files\/\d{1,9}$/

export class RollbackPointError extends UmeshError {
  override readonly name = 'RollbackPointError'
}

/** a stored file or the manifest does not match; nothing was restored */
export class RollbackPointCorruptError extends UmeshError {
  override readonly name = 'RollbackPointCorruptError'
}

export class BackupKeyError extends UmeshError {
  override readonly name = 'BackupKeyError'
}

export interface RollbackEntry {
  /** absolute */
  path: string
  kind: 'file' | 'dir' | 'absent'
  mode: number
  /** plaintext bytes (files) */
  size: number
  /** hex sha256 of the plaintext (files) */
  sha256: string
  /** where its bytes are, relative to the backup folder (files) */
  stored: string
}

export interface RollbackManifest {
  format: typeof FORMAT
  id: string
  package: string
  version: string | null
  created: string
  encrypted: boolean
  /** the saved paths as given; every entry is one of them or inside one */
  statePaths: string[]
  entries: RollbackEntry[]
  /** plaintext bytes of all files */
  bytes: number
  /** encrypted backups: HMAC-SHA256 of the manifest without this field */
  mac?: string
}

export interface RollbackPointSummary {
  id: string
  package: string
  version: string | null
  created: string
  encrypted: boolean
  entries: number
  bytes: number
}

function checkId (id: string): string {
  if (!ID.test(id)) throw new RollbackPointError(`rollback point id ${JSON.stringify(id)} is not 1-128 letters, digits, . _ - (starting with a letter or digit)`)
  return id
}

function checkKey (key: Uint8Array): void {
  if (key.length !== KEY_BYTES) throw new BackupKeyError(`the backup key is ${key.length} bytes; AES-256-GCM needs ${KEY_BYTES}`)
}

function macKey (key: Uint8Array): Buffer {
  return createHmac('sha256', key).update(`${FORMAT} manifest`).digest()
}

function manifestMac (key: Uint8Array, body: Omit<RollbackManifest, 'mac'>): string {
  return createHmac('sha256', macKey(key)).update(JSON.stringify(body)).digest('hex')
}

/** binds a stored file's ciphertext to its backup, name and path */
function aad (id: string, entry: RollbackEntry): Buffer {
  return Buffer.from(`${FORMAT}\0${id}\0${entry.stored}\0${entry.path}`)
}

function writeAll (fd: number, bytes: Uint8Array): void {
  let off = 0
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
}

function readAt (fd: number, buf: Buffer, length: number, position: number): number {
  let got = 0
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got)
    if (n === 0) break
    got += n
  }
  return got
}

/** copies `src` (a regular file, never through a link) to a new `dst`, encrypting when a key is given */
function storeFile (src: string, dst: string, key: Uint8Array | undefined, ad: Buffer): { size: number, sha256: string } {
  const input = openSync(src, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  try {
    if (!fstatSync(input).isFile()) throw new RollbackPointError(`state file ${src} changed into something other than a regular file while it was being saved; take the rollback point again`)
    const out = openSync(dst, 'wx', 0o600)
    try {
      const hash = createHash('sha256')
      const iv = randomBytes(IV_BYTES)
      const cipher = key == null ? null : createCipheriv('aes-256-gcm', key, iv)
      if (cipher != null) {
        cipher.setAAD(ad)
        writeAll(out, iv)
      }
      const buf = Buffer.allocUnsafe(PIECE)
      let size = 0
      for (;;) {
        const n = readSync(input, buf, 0, PIECE, null)
        if (n === 0) break
        const piece = buf.subarray(0, n)
        hash.update(piece)
        size += n
        writeAll(out, cipher != null ? cipher.update(piece) : piece)
      }
      if (cipher != null) {
        writeAll(out, cipher.final())
        writeAll(out, cipher.getAuthTag())
      }
      fsyncSync(out)
      return { size, sha256: hash.digest('hex') }
    } finally {
      closeSync(out)
    }
  } finally {
    closeSync(input)
  }
}

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

function inside (path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep)
}

/** removes backup folders a crash left without a manifest (only ever called under the install lock) */
function removeIncomplete (backupsDir: string, except: string): void {
  for (const name of readdirSync(backupsDir)) {
    if (name === except || !ID.test(name)) continue
    const dir = join(backupsDir, name)
    if (lstatSync(dir).isDirectory() && !existsSync(join(dir, MANIFEST_FILE))) rmSync(dir, { recursive: true, force: true })
  }
}

export interface CreateRollbackPointOptions {
  backupsDir: string
  id: string
  package: string
  /** the version installed when it was taken */
  version: string | null
  /** absolute paths: files, folders (saved whole) or paths that do not exist */
  statePaths: string[]
  /** 32 bytes: encrypt with AES-256-GCM */
  key?: Uint8Array
}

export function createRollbackPoint (opts: CreateRollbackPointOptions): { id: string, dir: string, entries: number, bytes: number } {
  const id = checkId(opts.id)
  const key = opts.key
  if (key != null) checkKey(key)
  const roots = opts.statePaths.map((p) => {
    if (!isAbsolute(p)) throw new RollbackPointError(`state path ${JSON.stringify(p)} is not absolute; write it from the root (/...)`)
    return resolve(p)
  })
  for (let i = 0; i < roots.length; i++) {
    for (let j = 0; j < roots.length; j++) {
      if (i !== j && inside(roots[i]!, roots[j]!) && (roots[i] !== roots[j] || i > j)) {
        throw new RollbackPointError(roots[i] === roots[j] ? `state path ${roots[i]!} is listed twice; list it once` : `state path ${roots[i]!} is inside ${roots[j]!}, which is saved whole; list only ${roots[j]!}`)
      }
    }
  }
  mkdirSync(opts.backupsDir, { recursive: true, mode: 0o700 })
  removeIncomplete(opts.backupsDir, id)
  const dir = join(opts.backupsDir, id)
  if (existsSync(join(dir, MANIFEST_FILE))) throw new RollbackPointError(`rollback point ${id} already exists in ${opts.backupsDir}; remove it first or use another id`)
  rmSync(dir, { recursive: true, force: true })
  const filesDir = join(dir, FILES_DIR)
  try {
    mkdirSync(dir, { mode: 0o700 })
    mkdirSync(filesDir, { mode: 0o700 })
    const entries: RollbackEntry[] = []
    let bytes = 0
    const saveFile = (path: string, mode: number): void => {
      const entry: RollbackEntry = { path, kind: 'file', mode, size: 0, sha256: '', stored: `${FILES_DIR}/${entries.length}` }
      const { size, sha256 } = storeFile(path, join(dir, entry.stored), key, aad(id, entry))
      entry.size = size
      entry.sha256 = sha256
      bytes += size
      entries.push(entry)
    }
    const refuse = (path: string, root: string, what: string): never => {
      throw new RollbackPointError(`state path ${root}${path === root ? '' : ` holds ${path}, which`} is ${what}; rollback points save only regular files and folders: ${what === 'a symbolic link' ? 'list the path it points to in statePaths instead' : 'move it out of the state path'}`)
    }
    const walk = (path: string, root: string): void => {
      for (const name of readdirSync(path).sort()) {
        const child = join(path, name)
        const st = lstatSync(child)
        if (st.isSymbolicLink()) refuse(child, root, 'a symbolic link')
        else if (st.isDirectory()) {
          entries.push({ path: child, kind: 'dir', mode: st.mode & 0o7777, size: 0, sha256: '', stored: '' })
          walk(child, root)
        } else if (st.isFile()) saveFile(child, st.mode & 0o7777)
        else if (!st.isSocket()) refuse(child, root, 'a FIFO or a device')
      }
    }
    for (const root of roots) {
      const st = lstatSync(root, { throwIfNoEntry: false })
      if (st == null) entries.push({ path: root, kind: 'absent', mode: 0, size: 0, sha256: '', stored: '' })
      else if (st.isSymbolicLink()) refuse(root, root, 'a symbolic link')
      else if (st.isFile()) saveFile(root, st.mode & 0o7777)
      else if (st.isDirectory()) {
        entries.push({ path: root, kind: 'dir', mode: st.mode & 0o7777, size: 0, sha256: '', stored: '' })
        walk(root, root)
      } else refuse(root, root, 'neither a regular file nor a folder')
    }
    fsyncDir(filesDir)
    const body: Omit<RollbackManifest, 'mac'> = { format: FORMAT, id, package: opts.package, version: opts.version, created: new Date().toISOString(), encrypted: key != null, statePaths: roots, entries, bytes }
    const manifest: RollbackManifest = key != null ? { ...body, mac: manifestMac(key, body) } : body
    writeFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 1) + '\n', 0o600)
    fsyncDir(opts.backupsDir)
    return { id, dir, entries: entries.length, bytes }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
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

export function restoreRollbackPoint (opts: { backupsDir: string, id: string, key?: Uint8Array }): { restored: number } {
  const manifest = readManifest(opts.backupsDir, opts.id, opts.key)
  const dir = join(opts.backupsDir, manifest.id)
  const key = manifest.encrypted ? opts.key : undefined
  const files = manifest.entries.filter(e => e.kind === 'file')

  // 1: every stored file decrypts and hashes to what the manifest says, or nothing is touched
  for (const entry of files) {
    const hash = createHash('sha256')
    let size = 0
    try {
      readStored(join(dir, entry.stored), key, aad(manifest.id, entry), (plain) => { hash.update(plain); size += plain.length })
    } catch (err) {
      throw new RollbackPointCorruptError(`rollback point ${manifest.id}: the saved copy of ${entry.path} (${entry.stored}) cannot be read${key != null ? ' or decrypted' : ''} (${(err as Error).message}); nothing was restored`)
    }
    const digest = hash.digest('hex')
    if (size !== entry.size || digest !== entry.sha256) {
      throw new RollbackPointCorruptError(`rollback point ${manifest.id}: the saved copy of ${entry.path} (${entry.stored}) is damaged: ${size} bytes with sha256 ${digest}, the manifest says ${entry.size} bytes with ${entry.sha256}; nothing was restored`)
    }
  }

  // 2: put everything back
  const touched = new Set<string>()
  const removeAny = (path: string): void => {
    const st = lstatSync(path, { throwIfNoEntry: false })
    if (st == null) return
    rmSync(path, { recursive: st.isDirectory(), force: true })
    touched.add(dirname(path))
  }
  const restoreFile = (entry: RollbackEntry): void => {
    const parent = dirname(entry.path)
    mkdirSync(parent, { recursive: true })
    const st = lstatSync(entry.path, { throwIfNoEntry: false })
    if (st?.isDirectory() === true) rmSync(entry.path, { recursive: true, force: true })
    const tmp = join(parent, `.${basename(entry.path)}.umesh-restore-${process.pid}.tmp`)
    rmSync(tmp, { force: true })
    const fd = openSync(tmp, 'wx', 0o600)
    try {
      const hash = createHash('sha256')
      readStored(join(dir, entry.stored), key, aad(manifest.id, entry), (plain) => { hash.update(plain); writeAll(fd, plain) })
      if (hash.digest('hex') !== entry.sha256) throw new RollbackPointCorruptError(`rollback point ${manifest.id}: the saved copy of ${entry.path} changed while it was restored; restore again`)
      fchmodSync(fd, entry.mode)
      fsyncSync(fd)
    } catch (err) {
      closeSync(fd)
      rmSync(tmp, { force: true })
      throw err
    }
    closeSync(fd)
    renameSync(tmp, entry.path)
    touched.add(parent)
  }
  const ensureDir = (entry: RollbackEntry): void => {
    const st = lstatSync(entry.path, { throwIfNoEntry: false })
    if (st != null && !st.isDirectory()) removeAny(entry.path)
    if (st == null || !st.isDirectory()) {
      mkdirSync(entry.path, { recursive: true })
      touched.add(dirname(entry.path))
    }
    // writable while its contents are restored; its saved mode is set after them
    chmodSync(entry.path, entry.mode | 0o700)
  }
  const removeExtras = (path: string, keep: Set<string>): void => {
    for (const name of readdirSync(path)) {
      const child = join(path, name)
      const st = lstatSync(child)
      if (!keep.has(child)) {
        if (!st.isSocket()) removeAny(child)
      } else if (st.isDirectory()) removeExtras(child, keep)
    }
  }

  for (const root of manifest.statePaths) {
    const rootEntry = manifest.entries.find(e => e.path === root)!
    if (rootEntry.kind === 'absent') removeAny(root)
    else if (rootEntry.kind === 'file') restoreFile(rootEntry)
    else {
      const below = manifest.entries.filter(e => inside(e.path, root))
      for (const entry of below) {
        if (entry.kind === 'dir') ensureDir(entry)
        else if (entry.kind === 'file') restoreFile(entry)
      }
      removeExtras(root, new Set(below.map(e => e.path)))
      for (const entry of below.reverse()) if (entry.kind === 'dir') chmodSync(entry.path, entry.mode)
    }
  }
  for (const d of touched) if (existsSync(d)) fsyncDir(d)
  return { restored: manifest.statePaths.length }
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

/**
 * The key rollback points are encrypted with: `<dataDir>/backup.key`, 32
 * random bytes, mode 0600, created on first use. Created under a temporary
 * name and hard-linked into place, so two processes creating it at once end
 * up with the same key. Lose it and encrypted rollback points are lost.
 */
export function loadOrCreateBackupKey (dataDir: string): Uint8Array {
  const file = join(dataDir, BACKUP_KEY_FILE)
  const load = (): Uint8Array | null => {
    const st = lstatSync(file, { throwIfNoEntry: false })
    if (st == null) return null
    if (!st.isFile()) throw new BackupKeyError(`${file} is not a regular file; remove it (encrypted rollback points taken with it are then lost) or put the key file back`)
    if ((st.mode & 0o077) !== 0) throw new BackupKeyError(`${file} is readable or writable by group or others (mode ${(st.mode & 0o777).toString(8)}); the key decrypts every rollback point: run chmod 600 ${file}`)
    const key = readFileSync(file)
    if (key.length !== KEY_BYTES) throw new BackupKeyError(`${file} holds ${key.length} bytes, a backup key is ${KEY_BYTES}; it is damaged: put back a copy, or remove it (encrypted rollback points taken with it are then lost)`)
    return new Uint8Array(key)
  }
  const existing = load()
  if (existing != null) return existing
  mkdirSync(dataDir, { recursive: true })
  const tmp = join(dataDir, `.${BACKUP_KEY_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
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
  fsyncDir(dataDir)
  return load()!
}
