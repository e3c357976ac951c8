/**
 * The files a node serves over sync: its mirror folder in the TUF repository
 * layout. A remote peer chooses the path, so the path is checked against a
 * narrow grammar first, and then opened so that it cannot leave the folder:
 * every parent is a real directory (no symbolic link), the last component is
 * opened with O_NOFOLLOW, the opened file must be a regular file, and on
 * Linux the kernel's own name for the opened descriptor must lie inside the
 * folder.
 */
import { constants } from 'node:fs'
import { lstat, open, readlink, realpath } from 'node:fs/promises'
import { join, sep } from 'node:path'
import { pathProblem } from '../shared/path-rules.js'
import { SyncNotFoundError, SyncPathError } from './errors.js'
import type { FileHandle } from 'node:fs/promises'

/** `timestamp`, `root`, or `<version>.<role>` where a role is lower-case letters, digits and "-" */
const METADATA_FILE = /^metadata\/(?:timestamp|root|[0-9]{1,10}\.[a-z0-9-]{1,64})\.json$/

/**
 * Returns the path unchanged if the sync protocol may serve it:
 * `metadata/<name>.json` or `targets/<path>` with a path that passes the
 * release path rules. Throws SyncPathError otherwise.
 */
export function checkSyncPath (path: string): string {
  if (path.startsWith('metadata/')) {
    if (!METADATA_FILE.test(path)) {
      throw new SyncPathError(path, 'expected metadata/<name>.json where name is timestamp, root or <version>.<role> (a role of lower-case letters, digits and "-")')
    }
    return path
  }
  if (path.startsWith('targets/')) {
    const problem = pathProblem(path.slice('targets/'.length))
    if (problem != null) throw new SyncPathError(path, problem)
    return path
  }
  throw new SyncPathError(path, 'expected a repository-relative path under metadata/ or targets/')
}

export interface OpenedMirrorFile {
  handle: FileHandle
  size: number
}

function codeOf (err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code
}

function notFound (path: string): SyncNotFoundError {
  return new SyncNotFoundError(path, `this node holds no ${path}`)
}

/**
 * Opens a checked path below `root` for reading, or throws SyncPathError (a
 * link or something other than a regular file on the way) or
 * SyncNotFoundError. The caller closes the handle.
 */
export async function openMirrorFile (root: string, path: string): Promise<OpenedMirrorFile> {
  checkSyncPath(path)
  let base: string
  try {
    base = await realpath(root)
  } catch (err) {
    if (codeOf(err) === 'ENOENT') throw notFound(path)
    throw err
  }
  const parts = path.split('/')
  let dir = base
  for (const part of parts.slice(0, -1)) {
    dir = join(dir, part)
    let stat
    try {
      stat = await lstat(dir)
    } catch (err) {
      if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR') throw notFound(path)
      throw err
    }
    if (stat.isSymbolicLink()) throw new SyncPathError(path, `${JSON.stringify(dir.slice(base.length + 1))} is a symbolic link; the mirror follows none`)
    if (!stat.isDirectory()) throw notFound(path)
  }
  const file = join(dir, parts[parts.length - 1])
  let handle: FileHandle
  try {
    // O_NONBLOCK: a FIFO planted in the mirror must not hang the open
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (err) {
    if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR') throw notFound(path)
    if (codeOf(err) === 'ELOOP' || codeOf(err) === 'EMLINK') throw new SyncPathError(path, 'the file is a symbolic link; the mirror follows none')
    throw err
  }
  try {
    const stat = await handle.stat()
    if (!stat.isFile()) throw new SyncPathError(path, 'not a regular file')
    await checkOpenedInside(handle, base, path)
    return { handle, size: stat.size }
  } catch (err) {
    await handle.close()
    throw err
  }
}

/** closes the race between the checks above and the open: where did the open really land? (Linux only) */
async function checkOpenedInside (handle: FileHandle, base: string, path: string): Promise<void> {
  if (process.platform !== 'linux') return
  let real: string
  try {
    real = await readlink(`/proc/self/fd/${handle.fd}`)
  } catch {
    return // no /proc: the component checks stand alone
  }
  if (!real.startsWith(base + sep)) throw new SyncPathError(path, 'the file lies outside the mirror folder')
}

/** reads exactly `size` bytes; a file that shrank while read is an error, growth past `size` is ignored */
export async function readOpened (file: OpenedMirrorFile, path: string): Promise<Uint8Array<ArrayBuffer>> {
  const data = new Uint8Array(file.size)
  let offset = 0
  while (offset < file.size) {
    const { bytesRead } = await file.handle.read(data, offset, file.size - offset, offset)
    if (bytesRead === 0) throw new Error(`${path} shrank while it was read (${offset} of ${file.size} bytes)`)
    offset += bytesRead
  }
  return data
}
