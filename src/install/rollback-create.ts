/**
 * Taking a rollback point: a copy of a package's `statePaths` made before an
 * install changes anything. The manifest is written last and atomically, so
 * a crash leaves a backup without one, which is never restored and is
 * removed when the next rollback point is taken. Only regular files and
 * folders are saved: a symbolic link, FIFO or device in a state path is
 * refused (a socket is a running service's and is left alone). Files are
 * opened without following links and checked again once open, so a path
 * swapped for a link while it is being saved is refused too.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { closeSync, constants, existsSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, rmSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { fsyncDir, writeFileAtomic } from '../util/fs.js'
import { checkKey } from './backup-key.js'
import { aad, checkId, FILES_DIR, FORMAT, ID, inside, IV_BYTES, MANIFEST_FILE, manifestMac, PIECE, RollbackPointError, writeAll } from './rollback-format.js'
import type { RollbackEntry, RollbackManifest } from './rollback-format.js'

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

/** removes backup folders a crash left without a manifest (only ever called under the install lock) */
function removeIncomplete (backupsDir: string, except: string): void {
  for (const name of readdirSync(backupsDir)) {
    if (name === except || !ID.test(name)) continue
    const dir = join(backupsDir, name)
    if (lstatSync(dir).isDirectory() && !existsSync(join(dir, MANIFEST_FILE))) rmSync(dir, { recursive: true, force: true })
  }
}

/** the state paths, absolute and normal; none listed twice or inside another */
function checkStatePaths (statePaths: string[]): string[] {
  const roots = statePaths.map((p) => {
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
  return roots
}

function refuse (path: string, root: string, what: string): never {
  throw new RollbackPointError(`state path ${root}${path === root ? '' : ` holds ${path}, which`} is ${what}; rollback points save only regular files and folders: ${what === 'a symbolic link' ? 'list the path it points to in statePaths instead' : 'move it out of the state path'}`)
}

/** saves every state path into `dir`; returns the manifest's entries and the plaintext bytes saved */
function saveStatePaths (dir: string, id: string, roots: string[], key: Uint8Array | undefined): { entries: RollbackEntry[], bytes: number } {
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
  return { entries, bytes }
}

export function createRollbackPoint (opts: CreateRollbackPointOptions): { id: string, dir: string, entries: number, bytes: number } {
  const id = checkId(opts.id)
  const key = opts.key
  if (key != null) checkKey(key)
  const roots = checkStatePaths(opts.statePaths)
  mkdirSync(opts.backupsDir, { recursive: true, mode: 0o700 })
  removeIncomplete(opts.backupsDir, id)
  const dir = join(opts.backupsDir, id)
  if (existsSync(join(dir, MANIFEST_FILE))) throw new RollbackPointError(`rollback point ${id} already exists in ${opts.backupsDir}; remove it first or use another id`)
  rmSync(dir, { recursive: true, force: true })
  const filesDir = join(dir, FILES_DIR)
  try {
    mkdirSync(dir, { mode: 0o700 })
    mkdirSync(filesDir, { mode: 0o700 })
    const { entries, bytes } = saveStatePaths(dir, id, roots, key)
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
