/**
 * Chunks on disk, by CID, checked on the way in and on the way out: `put`
 * refuses bytes that do not hash to their CID or are larger than the cap,
 * `get` re-hashes what it read and reports (and removes) a damaged file
 * rather than return it, so a flipped bit on disk never reaches an install
 * (nor a peer, unless it flipped after this process checked the chunk: see
 * serving below), and the chunk is simply fetched again.
 *
 * The folder layout is blockstore-fs's (`<root>/<shard>/<name>.data`, name =
 * base32upper multihash, shard = its last two characters), so an FsBlockstore
 * or Helia can open the same folder, but the code is ours, because
 * blockstore-fs 4 (through steno) does not fsync before its rename (after a
 * power cut a chunk can be an empty file that `has` reports present), writes
 * every put of a CID through the same temporary name (two peers sending the
 * same chunk at once can expose a truncated file to a reader), streams gets
 * in 64 KiB pieces (measured 4x slower than one read of a 256 KiB chunk) and
 * turns every read error, EIO included, into "not found". Here a chunk is
 * written to a unique file in `<root>/.tmp/`, fsynced, then renamed into
 * place: a file in place is whole. The directory is not fsynced: a rename
 * lost in a crash only makes the chunk missing, and it is fetched again.
 *
 * Serving (`get` with `once`) hashes a chunk once per process, not on every
 * read: the chunks this process wrote (hashed in memory just before) and
 * those it has read and checked since it started are remembered (a bounded
 * set), so a chunk served many times is hashed once. A file damaged on disk
 * after that check is served as it is until the process restarts; the
 * receiver hashes every chunk and refuses it. Every other `get` hashes.
 */
import { createHash } from 'node:crypto'
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { base32upper } from 'multiformats/bases/base32'
import { UmeshError } from '../errors.js'
import { assertChunkCid, chunkCid, verifyChunk } from '../../protocols/shared/index.js'
import { ChunkerOptionsError, chunkSource, DEFAULT_MAX_SIZE, fastCdcParams } from './fastcdc.js'
import type { ChunkSource, FastCdcOptions, FastCdcParams } from './fastcdc.js'
import type { Logger } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

export const DEFAULT_WRITE_CONCURRENCY = 8
/** chunks remembered as checked in this process (their file paths: about 2 MB at most; the pieces of a 4 GiB release) */
export const DEFAULT_MAX_CHECKED = 16384
const TMP_DIR = '.tmp'

export class ChunkHashMismatchError extends UmeshError {
  override readonly name = 'ChunkHashMismatchError'
}
export class ChunkTooLargeError extends UmeshError {
  override readonly name = 'ChunkTooLargeError'
}
export class ChunkCorruptError extends UmeshError {
  override readonly name = 'ChunkCorruptError'
}
export class ChunkNotFoundError extends UmeshError {
  override readonly name = 'ChunkNotFoundError'
}

export interface ChunkStoreInit {
  /** chunks larger than this are refused (default 1 MiB) */
  maxChunkSize?: number
  /** how chunkFile and chunkStream cut; maxSize may not exceed maxChunkSize (default FastCDC 64/256/1024 KiB) */
  chunker?: FastCdcOptions
  /** fsync each chunk before renaming it into place (default true; false only for throw-away stores) */
  fsync?: boolean
  /** chunks chunkFile and chunkStream write at once (default 8) */
  writeConcurrency?: number
  /** chunks remembered as hashed in this process, so `get` with `once` reads them without hashing again (default 16384) */
  maxChecked?: number
  log?: Logger
}

export interface ChunkRef {
  cid: CID
  size: number
}

export interface ChunkedFile {
  /** in file order: the file is their bytes, concatenated */
  chunks: ChunkRef[]
  size: number
  /** hex sha256 of the whole file */
  sha256: string
  /** chunks (and their bytes) the store did not hold before */
  newChunks: number
  newBytes: number
}

export async function openChunkStore (path: string, init: ChunkStoreInit = {}): Promise<ChunkStore> {
  const store = new ChunkStore(path, init)
  await store.open()
  return store
}

export class ChunkStore {
  readonly maxChunkSize: number
  readonly chunker: FastCdcParams
  private readonly fsync: boolean
  private readonly writeConcurrency: number
  private readonly log: Logger
  private readonly tmpDir: string
  private readonly shards = new Set<string>()
  private readonly inFlight = new Map<string, Promise<boolean>>()
  /** files whose bytes this process hashed against their CID (written, or read and checked), oldest first */
  private readonly checked = new Set<string>()
  private readonly maxChecked: number
  private tmpCounter = 0

  constructor (readonly path: string, init: ChunkStoreInit = {}) {
    this.maxChunkSize = init.maxChunkSize ?? DEFAULT_MAX_SIZE
    if (!Number.isSafeInteger(this.maxChunkSize) || this.maxChunkSize < 1) {
      throw new ChunkerOptionsError(`chunk store maxChunkSize: expected a positive whole number of bytes, found ${String(this.maxChunkSize)}`)
    }
    this.chunker = fastCdcParams(init.chunker)
    if (this.chunker.maxSize > this.maxChunkSize) {
      throw new ChunkerOptionsError(`chunker maxSize ${this.chunker.maxSize} is larger than the store's maxChunkSize ${this.maxChunkSize}: the store would refuse its own chunks; lower chunker.maxSize or raise maxChunkSize`)
    }
    this.fsync = init.fsync ?? true
    this.writeConcurrency = Math.max(1, init.writeConcurrency ?? DEFAULT_WRITE_CONCURRENCY)
    this.maxChecked = Math.max(0, init.maxChecked ?? DEFAULT_MAX_CHECKED)
    this.log = init.log ?? logger('umesh:chunk-store')
    this.tmpDir = join(path, TMP_DIR)
  }

  /** creates the folder, and removes temporary files left by processes that died mid-write */
  async open (): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true })
    for (const name of await readdir(this.tmpDir)) {
      const pid = Number(name.split('.')[0])
      if (pid !== process.pid && !isAlive(pid)) await rm(join(this.tmpDir, name), { force: true })
    }
  }

  /** where a chunk lives on disk (blockstore-fs's NextToLast layout) */
  pathOf (cid: CID): string {
    const name = base32upper.encoder.encode(cid.multihash.bytes)
    return join(this.path, name.slice(-2), `${name}.data`)
  }

  /**
   * Stores a chunk after checking it; false when it was already there.
   * `verified`: the caller hashed the bytes against the CID just before (a
   * chunk fetched from a peer: the chunks client checks each), so they are
   * not hashed twice; `get` checks them again whenever they are read back.
   */
  async put (cid: CID, bytes: Uint8Array, options: { verified?: boolean } = {}): Promise<boolean> {
    assertChunkCid(cid)
    if (bytes.length > this.maxChunkSize) {
      throw new ChunkTooLargeError(`chunk ${cid.toString()}: expected at most ${this.maxChunkSize} bytes, found ${bytes.length}; it was not stored (raise maxChunkSize only if the release was chunked with a larger maximum)`)
    }
    if (options.verified !== true && !verifyChunk(cid, bytes)) {
      throw new ChunkHashMismatchError(`chunk ${cid.toString()}: its ${bytes.length} bytes hash to ${chunkCid(bytes).toString()}; it was not stored (the sender is faulty or malicious: fetch it from another peer)`)
    }
    return await this.write(cid, bytes)
  }

  /**
   * The chunk's bytes, hashed against its CID: a damaged file is removed and
   * reported (ChunkCorruptError). `once`: a chunk this process already hashed
   * (it wrote the bytes, or read and checked them before) is not hashed
   * again; for serving peers, who check every chunk themselves.
   */
  async get (cid: CID, options: { once?: boolean } = {}): Promise<Uint8Array> {
    assertChunkCid(cid)
    const file = this.pathOf(cid)
    let bytes: Uint8Array
    try {
      const handle = await open(file, 'r')
      try {
        const { size } = await handle.stat()
        if (size > this.maxChunkSize) {
          // not removed: it may be whole, stored under a larger cap than this store was opened with
          throw new ChunkTooLargeError(`chunk ${cid.toString()} on disk at ${file}: expected at most ${this.maxChunkSize} bytes, found ${size}; it was not read (open the store with the maxChunkSize it was filled with, or delete the file)`)
        }
        // read at the size stat gave (readFile would stat the file again)
        const read = Buffer.allocUnsafe(size)
        let off = 0
        while (off < size) {
          const { bytesRead } = await handle.read(read, off, size - off, off)
          if (bytesRead === 0) break
          off += bytesRead
        }
        bytes = new Uint8Array(read.buffer, read.byteOffset, off)
      } finally {
        await handle.close()
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ChunkNotFoundError(`chunk ${cid.toString()} is not in the store at ${this.path}; fetch it first`)
      }
      throw err
    }
    if (options.once === true && this.checked.has(file)) return bytes
    if (!verifyChunk(cid, bytes)) return await this.corrupt(cid, `${bytes.length} bytes that hash to ${chunkCid(bytes).toString()}`)
    this.remember(file)
    return bytes
  }

  /**
   * Reads a chunk as stored into `into`, until `into` is full or the file
   * ends, without hashing it; returns the bytes read. For a caller that
   * checks the bytes another way and reads many chunks: staging checks each
   * file against its signed sha256 (so each byte is hashed once, not twice)
   * and reads every chunk into one buffer (nothing allocated per chunk).
   * Anything else reads with `get`.
   */
  async readInto (cid: CID, into: Uint8Array): Promise<number> {
    assertChunkCid(cid)
    let handle
    try {
      handle = await open(this.pathOf(cid), 'r')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ChunkNotFoundError(`chunk ${cid.toString()} is not in the store at ${this.path}; fetch it first`)
      }
      throw err
    }
    try {
      let off = 0
      while (off < into.length) {
        const { bytesRead } = await handle.read(into, off, into.length - off, off)
        if (bytesRead === 0) break
        off += bytesRead
      }
      return off
    } finally {
      await handle.close()
    }
  }

  async has (cid: CID): Promise<boolean> {
    assertChunkCid(cid)
    return await exists(this.pathOf(cid))
  }

  async delete (cid: CID): Promise<void> {
    assertChunkCid(cid)
    this.checked.delete(this.pathOf(cid))
    await rm(this.pathOf(cid), { force: true })
  }

  async chunkFile (path: string): Promise<ChunkedFile> {
    return await this.chunkStream(path)
  }

  /**
   * Chunks a file or stream into the store, hashing the whole file on the
   * way; up to writeConcurrency chunks are written while the next are cut.
   */
  async chunkStream (source: ChunkSource): Promise<ChunkedFile> {
    const fileHash = createHash('sha256')
    const result: ChunkedFile = { chunks: [], size: 0, sha256: '', newChunks: 0, newBytes: 0 }
    const writing = new Set<Promise<void>>()
    let failure: { error: unknown } | undefined
    try {
      for await (const chunk of chunkSource(source, this.chunker)) {
        fileHash.update(chunk.bytes)
        const cid = chunkCid(chunk.bytes)
        result.chunks.push({ cid, size: chunk.length })
        result.size += chunk.length
        const write: Promise<void> = this.write(cid, chunk.bytes).then(
          (written) => { if (written) { result.newChunks++; result.newBytes += chunk.length } },
          (error) => { failure ??= { error } }
        ).finally(() => { writing.delete(write) })
        writing.add(write)
        if (writing.size >= this.writeConcurrency) await Promise.race(writing)
        if (failure != null) break
      }
    } finally {
      await Promise.all(writing)
    }
    if (failure != null) throw failure.error
    result.sha256 = fileHash.digest('hex')
    return result
  }

  /** writes checked bytes once, however many callers bring the same chunk at the same time */
  private async write (cid: CID, bytes: Uint8Array): Promise<boolean> {
    const file = this.pathOf(cid)
    const pending = this.inFlight.get(file)
    if (pending != null) {
      await pending
      return false
    }
    const write = this.writeFile(file, cid, bytes)
    this.inFlight.set(file, write)
    try {
      return await write
    } finally {
      this.inFlight.delete(file)
    }
  }

  /** a unique temporary file, fsync, rename into place */
  private async writeFile (file: string, cid: CID, bytes: Uint8Array): Promise<boolean> {
    if (await exists(file)) return false
    const shard = join(file, '..')
    if (!this.shards.has(shard)) {
      await mkdir(shard, { recursive: true })
      this.shards.add(shard)
    }
    const tmp = join(this.tmpDir, `${process.pid}.${++this.tmpCounter}.tmp`)
    try {
      const handle = await open(tmp, 'wx', 0o644)
      try {
        await handle.writeFile(bytes)
        if (this.fsync) await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(tmp, file)
    } catch (err) {
      await rm(tmp, { force: true })
      throw err
    }
    // the bytes were hashed against the CID before this write (put checks them, or its caller did; chunkStream named them)
    this.remember(file)
    this.log.trace('stored %s (%d bytes)', cid, bytes.length)
    return true
  }

  /** a file checked in this process; the oldest is forgotten past maxChecked */
  private remember (file: string): void {
    if (this.maxChecked === 0) return
    this.checked.delete(file)
    this.checked.add(file)
    if (this.checked.size > this.maxChecked) this.checked.delete(this.checked.values().next().value!)
  }

  private async corrupt (cid: CID, found: string): Promise<never> {
    const file = this.pathOf(cid)
    this.checked.delete(file)
    await rm(file, { force: true })
    this.log.error('removed damaged chunk file %s: %s', file, found)
    throw new ChunkCorruptError(`chunk ${cid.toString()} on disk at ${file} is damaged: expected bytes that hash to its CID, found ${found}; the file was removed, fetch the chunk again (and check the disk if this repeats)`)
  }
}

async function exists (path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}

function isAlive (pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}
