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
 *
 * Each byte is hashed once: with a store that can read a chunk into a
 * buffer unverified (ChunkStore.readInto), the file's signed sha256 is the
 * check, and only a file that fails it has its chunks verified one by one
 * (the store removes a damaged one, so it is fetched again). Chunks are read
 * into one reused buffer (no allocation per chunk: a release's worth of
 * freed buffers is memory the process keeps), and a file's fsync runs while
 * the next file is written, off the event loop.
 */
import { createHash, randomBytes } from 'node:crypto'
import { chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { open } from 'node:fs/promises'
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

/** where staging reads chunks from */
export interface StageChunkSource {
  /** a chunk's bytes, verified against its CID */
  get: (cid: CID) => Promise<Uint8Array>
  /**
   * a chunk's bytes as stored, not hashed, read into `into` until it is full
   * or the chunk ends; returns the bytes read. Used when the caller checks
   * the bytes another way (staging: the file's signed sha256)
   */
  readInto?: (cid: CID, into: Uint8Array) => Promise<number>
}

/** file hashes read this much at a time */
const HASH_READ_BYTES = 1024 * 1024
/** files whose fsync and close may still run while the next is written */
const SYNCS_IN_FLIGHT = 2

export interface StageOptions {
  index: ReleaseIndex
  store: StageChunkSource
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

/** the hex sha256 of a file, read `buffer.length` bytes at a time into `buffer` (one is made when none is given) */
export async function hashFile (path: string, buffer: Uint8Array = Buffer.allocUnsafe(HASH_READ_BYTES)): Promise<string> {
  const hash = createHash('sha256')
  const handle = await open(path, 'r')
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null)
      if (bytesRead === 0) break
      hash.update(buffer.subarray(0, bytesRead))
    }
  } finally {
    await handle.close()
  }
  return hash.digest('hex')
}

/** hard-links the previous version's copy when it is on disk unchanged; false when it cannot */
async function linkFromPrevious (file: IndexFile, target: string, previous: { dir: string, files: Map<string, IndexFile> } | undefined, buffer: Uint8Array): Promise<boolean> {
  const before = previous?.files.get(file.path)
  if (previous == null || before == null || before.sha256 !== file.sha256 || before.mode !== file.mode || before.size !== file.size) return false
  const source = resolve(previous.dir, file.path)
  if (!source.startsWith(previous.dir + sep)) return false
  try {
    const st = lstatSync(source)
    if (!st.isFile() || st.size !== file.size || (st.mode & 0o7777) !== file.mode) return false
    if (await hashFile(source, buffer) !== file.sha256) return false
    linkSync(source, target)
    return true
  } catch {
    return false // gone, unreadable, another file system, too many links: write it instead
  }
}

type Handle = Awaited<ReturnType<typeof open>>

async function writeAll (handle: Handle, bytes: Uint8Array): Promise<void> {
  let off = 0
  while (off < bytes.length) off += (await handle.write(bytes, off, bytes.length - off)).bytesWritten
}

/** a chunk of `file` into `buffer`: verified by the store, or read unverified when the file's hash will check it */
async function readChunk (store: StageChunkSource, file: IndexFile, i: number, cid: CID, buffer: Uint8Array): Promise<Uint8Array> {
  const expected = file.chunks[i]!.size
  if (store.readInto == null) {
    const bytes = await store.get(cid)
    if (bytes.length !== expected) throw new StagedFileMismatchError(file.path, `chunk ${i} (${file.chunks[i]!.cid}) is ${bytes.length} bytes, the index says ${expected}`)
    return bytes
  }
  // one byte more than expected is asked for, so a longer chunk file shows
  const n = await store.readInto(cid, buffer.subarray(0, expected + 1))
  if (n !== expected) throw await mismatch(store, file, `chunk ${i} (${file.chunks[i]!.cid}) is ${n > expected ? `more than ${expected}` : n} bytes on disk, the index says ${expected}`)
  return buffer.subarray(0, n)
}

/**
 * A file read unverified failed its check: each of its chunks goes through
 * the verifying `get`, which removes a damaged chunk from the store (so it
 * is fetched again); the error names what was found.
 */
async function mismatch (store: StageChunkSource, file: IndexFile, detail: string): Promise<StagedFileMismatchError> {
  if (store.readInto == null) return new StagedFileMismatchError(file.path, detail)
  for (const [i, c] of file.chunks.entries()) {
    try {
      await store.get(CID.parse(c.cid))
    } catch (err) {
      return new StagedFileMismatchError(file.path, `${detail}; chunk ${i} (${c.cid}): ${(err as Error).message}`)
    }
  }
  return new StagedFileMismatchError(file.path, detail)
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

  // one buffer for every chunk read (and every hash of a previous version's file): chunks are at most MAX_CHUNK_BYTES
  let largest = 0
  for (const { file } of plan.files) for (const c of file.chunks) largest = Math.max(largest, c.size)
  const buffer = Buffer.allocUnsafe(Math.max(1, opts.store.readInto != null ? largest + 1 : 0, previous != null ? HASH_READ_BYTES : 0))
  // files written whose fsync and close are still running
  const syncing: Array<Promise<void>> = []

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
      if (await linkFromPrevious(file, target, previous, buffer)) {
        result.linked++
        done += file.size
        opts.onProgress?.(done, total)
        continue
      }
      const handle = await open(target, 'wx', file.mode)
      let handed = false
      try {
        const hash = createHash('sha256')
        let size = 0
        for (let i = 0; i < cids.length; i++) {
          opts.signal?.throwIfAborted()
          const bytes = await readChunk(opts.store, file, i, cids[i]!, buffer)
          hash.update(bytes)
          await writeAll(handle, bytes)
          size += bytes.length
          result.bytesWritten += bytes.length
          done += bytes.length
          opts.onProgress?.(done, total)
        }
        const digest = hash.digest('hex')
        if (size !== file.size) throw new StagedFileMismatchError(file.path, `${size} bytes written, the index says ${file.size}`)
        if (digest !== file.sha256) throw await mismatch(opts.store, file, `its bytes hash to sha256 ${digest}, the index says ${file.sha256}`)
        // the file is whole: its mode, fsync and close run while the next file is written
        if (syncing.length >= SYNCS_IN_FLIGHT) await syncing.shift()
        handed = true
        const finishing = finishFile(handle, file.mode)
        // awaited later; marked handled now, so a failure meanwhile is not an unhandled rejection
        finishing.catch(() => {})
        syncing.push(finishing)
      } finally {
        if (!handed) await handle.close()
      }
      result.written++
    }
    for (const s of syncing.splice(0)) await s
    for (const d of [...plan.dirs].reverse()) fsyncDir(d)
    fsyncDir(dir)
    fsyncDir(versions)
  } catch (err) {
    await Promise.allSettled(syncing)
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  return result
}

/** sets the file's mode (the umask may have narrowed it), fsyncs and closes it; closed whatever happens */
async function finishFile (handle: Handle, mode: number): Promise<void> {
  try {
    await handle.chmod(mode)
    await handle.sync()
  } finally {
    await handle.close()
  }
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
