/**
 * Reads a release from a .tar, .tar.gz or .tgz in one streaming pass. Every
 * header is checked by the shared tree rules; the bytes of each file are
 * copied into one anonymous temp file, and open() reads them back by offset.
 *
 * Why not extract to a temp dir: names from the archive never become paths on
 * disk, so no entry can escape, overwrite or link anything while we look at
 * it. The temp file lives in a private (0700) dir and is unlinked the moment
 * it is opened, so a rejection, a crash or close() leaves nothing behind; the
 * copy also makes the tree a snapshot the archive's later edits cannot change.
 *
 * Tar specifics: a leading "./" (what `tar -C dir -cf x.tar .` writes) is
 * dropped, and the "./" root entry itself is skipped; "." anywhere else is
 * refused. Pax and GNU long-name headers are applied by tar-stream; every
 * other type but file and directory is refused. The decompressed stream is
 * counted as it flows and cut off past maxArchiveBytes (the zip-bomb guard).
 */
import { createReadStream } from 'node:fs'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { Transform, pipeline } from 'node:stream'
import { createGunzip } from 'node:zlib'
import tar from 'tar-stream'
import { ReleaseSourceError, TreeIndex, UnsafeTreeError, checkEntryPath, fileMode, quotePath, rejectKind } from './tree-rules.js'
import type { FileHandle } from 'node:fs/promises'
import type { Header } from 'tar-stream'
import type { ResolvedLimits } from './tree-rules.js'
import type { SourceEntry, SourceTree } from './source-tree.js'

const CHUNK_BYTES = 64 * 1024

/** thrown by the byte counter; turned into an UnsafeTreeError naming the entry being read */
class ArchiveTooLarge extends Error {}

export async function readTarTree (source: string, gzipped: boolean, limits: ResolvedLimits, tmpDir = tmpdir()): Promise<SourceTree> {
  const dir = await mkdtemp(join(tmpDir, 'umesh-release-')) // created with mode 0700
  let store: FileHandle
  try {
    store = await open(join(dir, 'files'), 'wx+', 0o600)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  try {
    const state = { closed: false }
    const entries = await scanArchive(source, gzipped, limits, store, state)
    const handle = store
    return {
      source,
      format: gzipped ? 'tar.gz' : 'tar',
      entries,
      totalBytes: entries.reduce((sum, e) => sum + e.size, 0),
      close: async () => {
        if (state.closed) return
        state.closed = true
        await handle.close()
      }
    }
  } catch (err) {
    await store.close()
    throw err
  }
}

async function scanArchive (source: string, gzipped: boolean, limits: ResolvedLimits, store: FileHandle, state: { closed: boolean }): Promise<SourceEntry[]> {
  const input = createReadStream(source)
  const gunzip = gzipped ? createGunzip() : undefined
  let seen = 0
  const counter = new Transform({
    transform (chunk: Buffer, _encoding, callback) {
      seen += chunk.length
      callback(seen > limits.maxArchiveBytes ? new ArchiveTooLarge() : null, chunk)
    }
  })
  const extract = tar.extract()
  const onError = (err: Error | null): void => { if (err != null) extract.destroy(err) }
  if (gunzip != null) pipeline(input, gunzip, counter, onError)
  else pipeline(input, counter, onError)
  counter.pipe(extract)

  const tree = new TreeIndex(limits)
  const entries: SourceEntry[] = []
  let position = 0
  let current: string | undefined
  try {
    for await (const entry of extract) {
      const header = entry.header
      const path = treePath(header)
      if (path === undefined) { // the "./" root entry
        entry.resume()
        continue
      }
      checkEntryPath(path)
      const kind = entryKind(path, header)
      tree.add(path, kind, header.size)
      if (kind === 'dir') {
        entry.resume()
        continue
      }
      const size = header.size
      const mode = fileMode(path, header.mode)
      const offset = position
      current = path
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        await writeAll(store, chunk, position)
        position += chunk.length
      }
      current = undefined
      if (position - offset !== size) throw new ReleaseSourceError(source, `entry ${quotePath(path)} holds ${position - offset} bytes but its header says ${size}; the archive is damaged, recreate it`)
      entries.push({
        path,
        mode,
        size,
        open: async function * () {
          if (state.closed) throw new ReleaseSourceError(source, `${quotePath(path)} was opened after the tree was closed; read every file before close()`)
          yield * readRange(store, offset, size, source, path)
        }
      })
    }
  } catch (err) {
    if (err instanceof ArchiveTooLarge) {
      // `current` is the file whose data was flowing, or none if the excess is headers or padding
      const where = current !== undefined ? 'while reading this entry' : 'outside any file entry (headers or padding)'
      throw new UnsafeTreeError(current ?? basename(source), `the archive ${gzipped ? 'decompresses to' : 'holds'} more than ${limits.maxArchiveBytes} bytes (the maxArchiveBytes limit) ${where}; it may be a zip bomb, otherwise raise the limit`)
    }
    if (err instanceof UnsafeTreeError || err instanceof ReleaseSourceError) throw err
    const message = (err as Error).message
    if (gunzip != null && (err as NodeJS.ErrnoException).code?.startsWith('Z_') === true) {
      throw new ReleaseSourceError(source, `is not a readable gzip file (${message}); recreate it with tar -czf, or name it .tar if it is not compressed`)
    }
    if ((err as NodeJS.ErrnoException).code != null) throw new ReleaseSourceError(source, `cannot be read (${message})`)
    throw new ReleaseSourceError(source, `is not a readable tar archive (${message}); check it was copied completely, or recreate it with tar -cf`)
  } finally {
    input.destroy()
    gunzip?.destroy()
    counter.destroy()
    extract.destroy()
  }
  return entries
}

/**
 * The entry's path inside the tree: a directory's one trailing "/" and the
 * leading "./" tar writes for `tar -cf x.tar .` are dropped; undefined for
 * the root entry itself.
 */
function treePath (header: Header): string | undefined {
  let name = header.name
  if (header.type === 'directory' && name.endsWith('/')) name = name.slice(0, -1)
  if (name === '.') return undefined
  return name.startsWith('./') ? name.slice(2) : name
}

function entryKind (path: string, header: Header): 'file' | 'dir' {
  switch (header.type) {
    case 'file': return 'file'
    case 'directory':
      if (header.size !== 0) throw new UnsafeTreeError(path, `the directory entry carries ${String(header.size)} bytes of data; recreate the archive with a standard tar`)
      return 'dir'
    case 'symlink': return rejectKind(path, 'symbolic link', ` to ${quotePath(header.linkname ?? '')}`)
    case 'link': return rejectKind(path, 'hard link', ` to ${quotePath(header.linkname ?? '')}`)
    case 'character-device': return rejectKind(path, 'character device')
    case 'block-device': return rejectKind(path, 'block device')
    case 'fifo': return rejectKind(path, 'FIFO')
    case 'contiguous-file': return rejectKind(path, 'contiguous file')
    default: return rejectKind(path, 'unknown entry type', ` (${String(header.type)})`)
  }
}

async function writeAll (handle: FileHandle, chunk: Buffer, position: number): Promise<void> {
  let done = 0
  while (done < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, done, chunk.length - done, position + done)
    done += bytesWritten
  }
}

/** exactly `size` bytes from `offset`, in fresh chunks; a short read means the file changed under us */
export async function * readRange (handle: FileHandle, offset: number, size: number, source: string, path: string): AsyncGenerator<Uint8Array> {
  let done = 0
  while (done < size) {
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, size - done))
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset + done)
    if (bytesRead === 0) {
      throw new ReleaseSourceError(source, `${quotePath(path)} ended after ${done} of its ${size} bytes: it changed after the tree was checked; publish from a tree nobody is modifying`)
    }
    done += bytesRead
    yield buffer.subarray(0, bytesRead)
  }
}
