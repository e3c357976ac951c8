/**
 * The tree a release is published from: a directory, or a .tar / .tar.gz /
 * .tgz archive. readSourceTree checks the whole tree against the rules in
 * tree-rules.ts before the caller stores anything, and hands back the files
 * sorted by path, each with its published mode and a way to read its bytes.
 *
 * Only files are listed: directories are implied by the file paths, so an
 * empty directory is checked like any entry but not published (ship a
 * placeholder file if an installed tree needs one). Directory modes are
 * dropped entirely, so setgid or sticky directories are not refused. Owners,
 * ACLs and extended attributes (file capabilities among them) are never read
 * or carried: a published file is its path, its bytes and 0644 or 0755.
 *
 * A directory is walked with lstat and never follows a link; the root PATH
 * itself may be a link (the user named it). Files are read in place later,
 * so open() reopens each with O_NOFOLLOW and checks it is still the same
 * inode of the same size, refusing a tree that changed after the check.
 */
import { constants } from 'node:fs'
import { lstat, open, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { readRange, readTarTree } from './tar-source.js'
import { ReleaseSourceError, TreeIndex, UnsafeTreeError, checkEntryPath, fileMode, quotePath, rejectKind, resolveLimits, sortByPath } from './tree-rules.js'
import type { SourceTreeLimits, ResolvedLimits } from './tree-rules.js'

export interface SourceEntry {
  /** posix, relative to the tree root, NFC, no "." or ".." parts */
  path: string
  /** 0o755 if any executable bit was set, else 0o644 */
  mode: 0o644 | 0o755
  size: number
  /** the file's exact bytes; an error if it changed since the check, or after close() */
  open: () => AsyncIterable<Uint8Array>
}

export interface SourceTree {
  source: string
  format: 'dir' | 'tar' | 'tar.gz'
  /** files only, sorted by the UTF-8 bytes of their path */
  entries: SourceEntry[]
  totalBytes: number
  /** releases the archive's temp copy; read every entry before calling it */
  close: () => Promise<void>
}

export interface SourceTreeOptions extends SourceTreeLimits {
  /** where an archive's private temp dir goes; default os.tmpdir() */
  tmpDir?: string
}

export async function readSourceTree (path: string, options: SourceTreeOptions = {}): Promise<SourceTree> {
  const limits = resolveLimits(options)
  let info
  try {
    info = await stat(path)
  } catch (err) {
    throw new ReleaseSourceError(path, `cannot be read (${(err as Error).message}); expected a directory or a .tar, .tar.gz or .tgz file`)
  }
  let tree: SourceTree
  if (info.isDirectory()) {
    tree = await readDirectoryTree(path, limits)
  } else if (info.isFile() && /\.(tar\.gz|tgz)$/i.test(path)) {
    tree = await readTarTree(path, true, limits, options.tmpDir)
  } else if (info.isFile() && /\.tar$/i.test(path)) {
    tree = await readTarTree(path, false, limits, options.tmpDir)
  } else {
    throw new ReleaseSourceError(path, `is ${info.isFile() ? 'a file without a .tar, .tar.gz or .tgz name' : 'neither a file nor a directory'}; expected a directory or a .tar, .tar.gz or .tgz archive`)
  }
  tree.entries = sortByPath(tree.entries)
  return tree
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function decodeName (parent: string, name: Buffer): string {
  try {
    return utf8.decode(name)
  } catch {
    const shown = parent === '' ? name.toString('utf8') : `${parent}/${name.toString('utf8')}`
    throw new UnsafeTreeError(shown, 'the name is not valid UTF-8; rename it to valid UTF-8')
  }
}

async function listDir (root: string, dir: string): Promise<Buffer[]> {
  try {
    return await readdir(join(root, dir), { encoding: 'buffer' })
  } catch (err) {
    throw new ReleaseSourceError(root, `cannot list ${dir === '' ? 'its root' : quotePath(dir)} (${(err as Error).message}); make the whole tree readable`)
  }
}

async function readDirectoryTree (root: string, limits: ResolvedLimits): Promise<SourceTree> {
  const tree = new TreeIndex(limits)
  const entries: SourceEntry[] = []
  const state = { closed: false }
  const pending = ['']
  while (pending.length > 0) {
    const dir = pending.pop() as string
    const names = (await listDir(root, dir)).sort(Buffer.compare)
    for (const raw of names) {
      const name = decodeName(dir, raw)
      const path = dir === '' ? name : `${dir}/${name}`
      checkEntryPath(path)
      const info = await lstat(join(root, path)).catch((err: Error) => {
        throw new ReleaseSourceError(root, `${quotePath(path)} cannot be read (${err.message}); was the tree changed while it was checked?`)
      })
      if (info.isDirectory()) {
        tree.add(path, 'dir')
        pending.push(path)
        continue
      }
      if (info.isSymbolicLink()) rejectKind(path, 'symbolic link')
      if (info.isBlockDevice()) rejectKind(path, 'block device')
      if (info.isCharacterDevice()) rejectKind(path, 'character device')
      if (info.isFIFO()) rejectKind(path, 'FIFO')
      if (info.isSocket()) rejectKind(path, 'socket')
      if (!info.isFile()) rejectKind(path, 'unknown entry type')
      if (info.nlink > 1) rejectKind(path, 'hard link', ` (one of ${info.nlink} names for the same file)`)
      const mode = fileMode(path, info.mode)
      tree.add(path, 'file', info.size)
      const expected = { dev: info.dev, ino: info.ino, size: info.size }
      entries.push({ path, mode, size: info.size, open: () => readLiveFile(root, path, expected, state) })
    }
  }
  return {
    source: root,
    format: 'dir',
    entries,
    totalBytes: tree.totalBytes,
    close: async () => { state.closed = true }
  }
}

async function * readLiveFile (root: string, path: string, expected: { dev: number, ino: number, size: number }, state: { closed: boolean }): AsyncGenerator<Uint8Array> {
  if (state.closed) throw new ReleaseSourceError(root, `${quotePath(path)} was opened after the tree was closed; read every file before close()`)
  const changed = (now: string): ReleaseSourceError =>
    new ReleaseSourceError(root, `${quotePath(path)} changed after the tree was checked (was a ${expected.size}-byte file, ${now}); publish from a tree nobody is modifying`)
  let handle
  try {
    // O_NONBLOCK: a FIFO swapped in after the check must not hang the open
    handle = await open(join(root, path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (err) {
    throw changed(`now it cannot be opened: ${(err as Error).message}`)
  }
  try {
    const info = await handle.stat()
    if (!info.isFile() || info.dev !== expected.dev || info.ino !== expected.ino) throw changed('now it is another file')
    if (info.size !== expected.size) throw changed(`now ${info.size} bytes`)
    if (info.nlink > 1) throw changed(`now it has ${info.nlink} names`)
    yield * readRange(handle, 0, expected.size, root, path)
  } finally {
    await handle.close()
  }
}
