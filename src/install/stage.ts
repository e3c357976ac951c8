/**
 * Materialises a version's file tree from verified chunks into
 * `versions/.staging-<id>/`, then (a separate call, made by the install
 * transaction) renames it to `versions/<version>/`.
 *
 * The index is signed and was parsed strictly, but staging checks every
 * path again before the first byte is written: each must pass the release
 * tree rules and resolve inside the staging folder, so a flaw anywhere
 * upstream still cannot make a node write outside its install root. Files
 * are created with O_EXCL (never following a link, never overwriting),
 * hashed as they are written and fsynced; a file whose bytes do not hash to
 * the index's sha256 stops the staging. A file the previous version holds
 * with the same content and mode is hard-linked instead of copied, after
 * its bytes on disk are hashed too, so an edited file is never carried over.
 */
import { createHash, randomBytes } from 'node:crypto'
import { closeSync, createReadStream, fchmodSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync, chmodSync } from 'node:fs'
import { join, resolve, sep } from 'node:path'
import { CID } from 'multiformats/cid'
import { UmeshError } from '../errors.js'
import { checkEntryPath, quotePath } from '../release/tree-rules.js'
import { fsyncDir } from '../util/fs.js'
import type { IndexFile, ReleaseIndex } from '../release/release-index.js'

export const VERSIONS_DIR = 'versions'
const DIR_MODE = 0o755

/** an index entry that would write outside the tree or is otherwise unfit to install; found before anything is written */
export class UnsafeInstallPathError extends UmeshError {
  override readonly name = 'UnsafeInstallPathError'
  constructor (readonly entry: string, readonly reason: string) {
    super(`refusing to install ${quotePath(entry)}: ${reason}; nothing was written (the release index is signed: report this release to its publisher)`)
  }
}

/** a staged file's bytes do not match the index */
export class StagedFileMismatchError extends UmeshError {
  override readonly name = 'StagedFileMismatchError'
  constructor (readonly path: string, detail: string) {
    super(`staged file ${quotePath(path)} does not match the release index: ${detail}; the staging was removed (a chunk source is faulty: check the disk, or remove the chunk store's copy so it is fetched again)`)
  }
}

/** a version or folder name that is not one plain path component */
export class InvalidVersionNameError extends UmeshError {
  override readonly name = 'InvalidVersionNameError'
}

export class StageError extends UmeshError {
  override readonly name = 'StageError'
}

/** checks that `name` is one plain path component; versions may not start with "." (reserved for staging) */
export function checkVersionName (name: string, what = 'version'): string {
  const bad = (why: string): never => { throw new InvalidVersionNameError(`${what} ${JSON.stringify(name)} ${why}; it must be a single folder name`) }
  if (name === '' || name === '.' || name === '..') bad('is not a folder name')
  if (name.includes('/') || name.includes('\\')) bad('contains a path separator')
  if (name.includes('..')) bad('contains ".."')
  if (/[\p{Cc}]/u.test(name)) bad('contains a control character')
  if (Buffer.byteLength(name) > 255) bad('is longer than 255 bytes')
  if (what === 'version' && name.startsWith('.')) bad('starts with "." (names starting with "." are staging folders)')
  return name
}

export function versionsDir (installRoot: string): string {
  return join(resolve(installRoot), VERSIONS_DIR)
}

export function versionDir (installRoot: string, version: string): string {
  return join(versionsDir(installRoot), checkVersionName(version))
}

/** removes `versions/<version>` (and only that) */
export function removeVersion (installRoot: string, version: string): void {
  rmSync(versionDir(installRoot, version), { recursive: true, force: true })
}

export interface StageOptions {
  index: ReleaseIndex
  store: { get: (cid: CID) => Promise<Uint8Array> }
  installRoot: string
  /** the folder under versions/ to stage into, e.g. `.staging-<id>` */
  stagingName: string
  /** the version on disk now: unchanged files are hard-linked from it */
  previous?: { dir: string, index: ReleaseIndex }
  onProgress?: (bytesDone: number, bytesTotal: number) => void
  signal?: AbortSignal
}

export interface StageResult {
  dir: string
  /** files hard-linked from the previous version */
  linked: number
  /** files written from chunks */
  written: number
  bytesWritten: number
}

interface PlannedFile {
  file: IndexFile
  target: string
  cids: CID[]
}

/** every check that can be made without writing; returns the folders to create (parents first) and the files */
function planTree (dir: string, files: IndexFile[]): { dirs: string[], files: PlannedFile[] } {
  const paths = new Set<string>()
  const dirs = new Map<string, string>() // relative path -> absolute
  const planned: PlannedFile[] = []
  for (const file of files) {
    const path: unknown = file.path
    if (typeof path !== 'string') throw new UnsafeInstallPathError(String(path), 'the path is not a string')
    try {
      checkEntryPath(path)
    } catch (err) {
      throw new UnsafeInstallPathError(path, (err as Error & { reason?: string }).reason ?? (err as Error).message)
    }
    const target = resolve(dir, path)
    if (!target.startsWith(dir + sep)) throw new UnsafeInstallPathError(path, `it resolves to ${target}, outside the staging folder ${dir}`)
    if (paths.has(path)) throw new UnsafeInstallPathError(path, 'the index lists this path twice')
    if (file.mode !== 0o644 && file.mode !== 0o755) throw new UnsafeInstallPathError(path, `mode ${Number(file.mode).toString(8)} is neither 644 nor 755`)
    if (!Number.isSafeInteger(file.size) || file.size < 0) throw new UnsafeInstallPathError(path, `size ${String(file.size)} is not a byte count`)
    if (typeof file.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(file.sha256)) throw new UnsafeInstallPathError(path, 'its sha256 is not 64 hex digits')
    let sum = 0
    const cids = file.chunks.map((c) => {
      sum += c.size
      try {
        return CID.parse(c.cid)
      } catch {
        throw new UnsafeInstallPathError(path, `chunk ${JSON.stringify(c.cid)} is not a CID`)
      }
    })
    if (sum !== file.size) throw new UnsafeInstallPathError(path, `its chunks add up to ${sum} bytes, the file size is ${file.size}`)
    paths.add(path)
    const parts = path.split('/')
    for (let i = 1; i < parts.length; i++) {
      const rel = parts.slice(0, i).join('/')
      if (!dirs.has(rel)) dirs.set(rel, join(dir, rel))
    }
    planned.push({ file, target, cids })
  }
  for (const rel of dirs.keys()) {
    if (paths.has(rel)) throw new UnsafeInstallPathError(rel, 'the path is a file, and other paths use it as a folder')
  }
  return { dirs: [...dirs.values()], files: planned }
}

export async function hashFile (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** hard-links the previous version's copy when it is on disk unchanged; false when it cannot */
async function linkFromPrevious (file: IndexFile, target: string, previous: { dir: string, files: Map<string, IndexFile> } | undefined): Promise<boolean> {
  const before = previous?.files.get(file.path)
  if (previous == null || before == null || before.sha256 !== file.sha256 || before.mode !== file.mode || before.size !== file.size) return false
  const source = resolve(previous.dir, file.path)
  if (!source.startsWith(previous.dir + sep)) return false
  try {
    const st = lstatSync(source)
    if (!st.isFile() || st.size !== file.size || (st.mode & 0o7777) !== file.mode) return false
    if (await hashFile(source) !== file.sha256) return false
    linkSync(source, target)
    return true
  } catch {
    return false // gone, unreadable, another file system, too many links: write it instead
  }
}

function writeAll (fd: number, bytes: Uint8Array): void {
  let off = 0
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
}

export async function stageVersion (opts: StageOptions): Promise<StageResult> {
  const { index } = opts
  checkVersionName(opts.stagingName, 'staging folder')
  const versions = versionsDir(opts.installRoot)
  const dir = join(versions, opts.stagingName)
  const plan = planTree(dir, index.files)
  const previous = opts.previous == null ? undefined : { dir: resolve(opts.previous.dir), files: new Map(opts.previous.index.files.map(f => [f.path, f])) }
  const total = index.files.reduce((n, f) => n + f.size, 0)
  const result: StageResult = { dir, linked: 0, written: 0, bytesWritten: 0 }
  let done = 0

  mkdirSync(versions, { recursive: true, mode: DIR_MODE })
  rmSync(dir, { recursive: true, force: true })
  try {
    mkdirSync(dir, { mode: DIR_MODE })
    chmodSync(dir, DIR_MODE)
    for (const d of plan.dirs) {
      mkdirSync(d, { mode: DIR_MODE })
      chmodSync(d, DIR_MODE)
    }
    opts.onProgress?.(0, total)
    for (const { file, target, cids } of plan.files) {
      opts.signal?.throwIfAborted()
      if (await linkFromPrevious(file, target, previous)) {
        result.linked++
        done += file.size
        opts.onProgress?.(done, total)
        continue
      }
      const fd = openSync(target, 'wx', file.mode)
      try {
        const hash = createHash('sha256')
        let size = 0
        for (let i = 0; i < cids.length; i++) {
          opts.signal?.throwIfAborted()
          const bytes = await opts.store.get(cids[i]!)
          const expected = file.chunks[i]!.size
          if (bytes.length !== expected) throw new StagedFileMismatchError(file.path, `chunk ${i} (${file.chunks[i]!.cid}) is ${bytes.length} bytes, the index says ${expected}`)
          hash.update(bytes)
          writeAll(fd, bytes)
          size += bytes.length
          result.bytesWritten += bytes.length
          done += bytes.length
          opts.onProgress?.(done, total)
        }
        const digest = hash.digest('hex')
        if (size !== file.size) throw new StagedFileMismatchError(file.path, `${size} bytes written, the index says ${file.size}`)
        if (digest !== file.sha256) throw new StagedFileMismatchError(file.path, `its bytes hash to sha256 ${digest}, the index says ${file.sha256}`)
        fchmodSync(fd, file.mode)
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      result.written++
    }
    for (const d of [...plan.dirs].reverse()) fsyncDir(d)
    fsyncDir(dir)
    fsyncDir(versions)
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  return result
}

/**
 * Renames `versions/<stagingName>` to `versions/<version>`. A folder already
 * there (unblessed leftovers: the caller decided) is first renamed aside and
 * removed after, so `versions/<version>` is missing only between two renames.
 */
export function promoteStaged (installRoot: string, stagingName: string, version: string): string {
  checkVersionName(stagingName, 'staging folder')
  const versions = versionsDir(installRoot)
  const from = join(versions, stagingName)
  const to = versionDir(installRoot, version)
  if (lstatSync(from, { throwIfNoEntry: false })?.isDirectory() !== true) throw new StageError(`nothing is staged at ${from}; stage the version first`)
  let aside: string | null = null
  if (lstatSync(to, { throwIfNoEntry: false }) != null) {
    aside = join(versions, `.staging-replaced-${version}-${randomBytes(4).toString('hex')}`)
    renameSync(to, aside)
  }
  renameSync(from, to)
  fsyncDir(versions)
  if (aside != null) rmSync(aside, { recursive: true, force: true })
  return to
}

/**
 * Checks a tree on disk against its index: every file present as a regular
 * file with the right size, sha256 and executable bit, and nothing else (no
 * extra files, folders or links). Each problem names its path.
 */
export async function verifyTree (dir: string, index: ReleaseIndex): Promise<{ ok: boolean, problems: string[] }> {
  const problems: string[] = []
  const root = lstatSync(dir, { throwIfNoEntry: false })
  if (root?.isDirectory() !== true) return { ok: false, problems: [`${dir} is ${root == null ? 'missing' : 'not a folder'}`] }
  const wanted = new Map(index.files.map(f => [f.path, f]))
  const wantedDirs = new Set<string>()
  for (const f of index.files) {
    const parts = f.path.split('/')
    for (let i = 1; i < parts.length; i++) wantedDirs.add(parts.slice(0, i).join('/'))
  }
  const found: string[] = []
  const walk = (rel: string): void => {
    for (const name of readdirSync(rel === '' ? dir : join(dir, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`
      const st = lstatSync(join(dir, path))
      if (st.isSymbolicLink()) problems.push(`${quotePath(path)} is a symbolic link, not in the release`)
      else if (st.isDirectory()) {
        if (!wantedDirs.has(path)) problems.push(`${quotePath(path)} is an extra folder, not in the release`)
        walk(path)
      } else if (!st.isFile()) problems.push(`${quotePath(path)} is not a regular file`)
      else if (!wanted.has(path)) problems.push(`${quotePath(path)} is an extra file, not in the release`)
      else found.push(path)
    }
  }
  walk('')
  const present = new Set(found)
  for (const file of index.files) {
    if (!present.has(file.path)) {
      problems.push(`${quotePath(file.path)} is missing`)
      continue
    }
    const full = join(dir, file.path)
    const st = lstatSync(full)
    if (st.size !== file.size) {
      problems.push(`${quotePath(file.path)} is ${st.size} bytes, the release says ${file.size}`)
      continue
    }
    const exec = (st.mode & 0o111) !== 0
    if (exec !== (file.mode === 0o755)) problems.push(`${quotePath(file.path)} is ${exec ? '' : 'not '}executable, the release says mode ${file.mode.toString(8)}`)
    const digest = await hashFile(full)
    if (digest !== file.sha256) problems.push(`${quotePath(file.path)} has sha256 ${digest}, the release says ${file.sha256}`)
  }
  return { ok: problems.length === 0, problems }
}
