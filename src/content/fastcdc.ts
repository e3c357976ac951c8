/**
 * Content-defined chunking with FastCDC (Xia et al., USENIX ATC 2016): a gear
 * rolling hash, cut-point skipping below the minimum size, and normalized
 * chunking (a harder mask before the average size, an easier one after) so
 * sizes gather around the average. Boundaries depend only on the bytes near
 * them, so an edit moves the boundaries around it and no others: a new
 * version of a file shares most chunks with the old one.
 *
 * Boundaries must never change between versions of this software (a changed
 * boundary re-sends every file in the fleet), so everything that decides them
 * is fixed here and pinned by golden tests:
 * - gear table: GEAR[i] is the first 4 bytes, big-endian, of
 *   sha256("umesh-fastcdc-gear-" + i) for i in 0..255, as a signed 32-bit
 *   integer (the same bits as the unsigned value).
 * - fingerprint: 32 bits, `fp = ((fp << 1) + GEAR[byte]) | 0`, so it covers the
 *   last 32 bytes. A 64-bit fingerprint made of two 32-bit halves measured
 *   7x slower in V8 (190 against 1300 MiB/s); BigInt is slower still.
 * - masks: bits = round(log2(avgSize)); the mask before avgSize has
 *   bits + normalization one-bits, the one after bits - normalization, spread
 *   evenly over the 32 bits from the top (bit 31 - floor(j * 32 / n)), as the
 *   paper spreads them to widen the window the condition depends on.
 * - a boundary falls after the byte whose fingerprint matches: a chunk ends
 *   with that byte. Chunks are never shorter than minSize (except the last)
 *   nor longer than maxSize.
 */
import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { UmeshError } from '../errors.js'
import { MAX_CHUNK_BYTES } from '../../protocols/shared/chunk-cid.js'

export const DEFAULT_MIN_SIZE = 64 * 1024
export const DEFAULT_AVG_SIZE = 256 * 1024
export const DEFAULT_MAX_SIZE = MAX_CHUNK_BYTES
/** the paper's "NC2": masks of bits + 2 and bits - 2 one-bits */
export const DEFAULT_NORMALIZATION = 2
/** no chunker may make chunks larger than this, whatever its options */
export const MAX_CHUNK_SIZE_LIMIT = 64 * 1024 * 1024
export const GEAR_SEED_PREFIX = 'umesh-fastcdc-gear-'

export class ChunkerOptionsError extends UmeshError {
  override readonly name = 'ChunkerOptionsError'
  override readonly exitCode = 2
}

export interface FastCdcOptions {
  /** no chunk but the last is shorter (default 64 KiB, at least 64 bytes) */
  minSize?: number
  /** where the mask switches from hard to easy; sizes gather around it (default 256 KiB) */
  avgSize?: number
  /** a chunk is cut here when no boundary came before (default 1 MiB, at most 64 MiB) */
  maxSize?: number
  /** 0 to 3, the paper's normalization level (default 2) */
  normalization?: number
}

/** validated options and the masks derived from them */
export interface FastCdcParams {
  readonly minSize: number
  readonly avgSize: number
  readonly maxSize: number
  readonly normalization: number
  readonly maskS: number
  readonly maskL: number
}

export interface Chunk {
  /** where the chunk starts in the whole stream */
  offset: number
  length: number
  bytes: Uint8Array
}

/** a file path, or the bytes of a stream in pieces of any size */
export type ChunkSource = string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>

export const GEAR: Readonly<Int32Array> = (() => {
  const table = new Int32Array(256)
  for (let i = 0; i < 256; i++) {
    table[i] = createHash('sha256').update(GEAR_SEED_PREFIX + String(i)).digest().readInt32BE(0)
  }
  return table
})()

/** a mask with `bits` one-bits spread evenly over the 32 bits, from bit 31 down */
export function spreadMask (bits: number): number {
  let mask = 0
  for (let j = 0; j < bits; j++) mask |= 1 << (31 - Math.floor(j * 32 / bits))
  return mask
}

export function fastCdcParams (options: FastCdcOptions = {}): FastCdcParams {
  const minSize = options.minSize ?? DEFAULT_MIN_SIZE
  const avgSize = options.avgSize ?? DEFAULT_AVG_SIZE
  const maxSize = options.maxSize ?? DEFAULT_MAX_SIZE
  const normalization = options.normalization ?? DEFAULT_NORMALIZATION
  for (const [name, value] of Object.entries({ minSize, avgSize, maxSize, normalization })) {
    if (!Number.isSafeInteger(value)) throw new ChunkerOptionsError(`chunker ${name}: expected a whole number, found ${String(value)}`)
  }
  if (!(minSize >= 64 && minSize < avgSize && avgSize < maxSize && maxSize <= MAX_CHUNK_SIZE_LIMIT)) {
    throw new ChunkerOptionsError(`chunker sizes: expected 64 <= minSize < avgSize < maxSize <= ${MAX_CHUNK_SIZE_LIMIT}, found minSize ${minSize}, avgSize ${avgSize}, maxSize ${maxSize}; fix the sizes or leave them out for 64 KiB / 256 KiB / 1 MiB`)
  }
  const bits = Math.round(Math.log2(avgSize))
  if (normalization < 0 || normalization > 3 || bits + normalization > 31 || bits - normalization < 1) {
    throw new ChunkerOptionsError(`chunker normalization: expected 0 to 3 (and log2(avgSize) +/- it within 1..31), found ${normalization} with avgSize ${avgSize}; leave it out for ${DEFAULT_NORMALIZATION}`)
  }
  return { minSize, avgSize, maxSize, normalization, maskS: spreadMask(bits + normalization), maskL: spreadMask(bits - normalization) }
}

/**
 * The length of the chunk that starts at `start`, looking no further than
 * `end`. When fewer than maxSize bytes are left, the caller must pass all
 * that is left (the end of the stream): the answer may be `end - start`.
 */
export function cutPoint (data: Uint8Array, start: number, end: number, params: FastCdcParams): number {
  let n = end - start
  if (n <= params.minSize) return n
  if (n > params.maxSize) n = params.maxSize
  const normalEnd = start + (n < params.avgSize ? n : params.avgSize)
  const stop = start + n
  const { maskS, maskL } = params
  const gear = GEAR
  let fp = 0
  let i = start + params.minSize
  for (; i < normalEnd; i++) {
    fp = ((fp << 1) + gear[data[i]]) | 0
    if ((fp & maskS) === 0) return i + 1 - start
  }
  for (; i < stop; i++) {
    fp = ((fp << 1) + gear[data[i]]) | 0
    if ((fp & maskL) === 0) return i + 1 - start
  }
  return n
}

/** chunks of bytes already in memory; each chunk's bytes are a view into `data` */
export function * chunkBytes (data: Uint8Array, options: FastCdcOptions | FastCdcParams = {}): Generator<Chunk> {
  const params = 'maskS' in options ? options : fastCdcParams(options)
  let offset = 0
  while (offset < data.length) {
    const length = cutPoint(data, offset, data.length, params)
    yield { offset, length, bytes: data.subarray(offset, offset + length) }
    offset += length
  }
}

interface Filler {
  /** copies bytes into buf from `at`; 0 at the end of the source */
  read: (buf: Uint8Array, at: number) => Promise<number>
  close: () => Promise<void>
}

async function fileFiller (path: string): Promise<Filler> {
  const handle = await open(path, 'r')
  return {
    read: async (buf, at) => (await handle.read(buf, at, buf.length - at, null)).bytesRead,
    close: async () => { await handle.close() }
  }
}

function iterableFiller (source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Filler {
  const pieces = (async function * () { for await (const piece of source) yield piece })()
  let piece: Uint8Array = new Uint8Array(0)
  let used = 0
  return {
    read: async (buf, at) => {
      while (used === piece.length) {
        const next = await pieces.next()
        if (next.done === true) return 0
        piece = next.value
        used = 0
      }
      const n = Math.min(piece.length - used, buf.length - at)
      buf.set(piece.subarray(used, used + n), at)
      used += n
      return n
    },
    close: async () => { await pieces.return(undefined) }
  }
}

/**
 * Chunks a file or a stream without holding it in memory: one buffer of
 * twice the maximum chunk size. Each chunk's bytes are its own copy, which the
 * caller may keep.
 */
export async function * chunkSource (source: ChunkSource, options: FastCdcOptions | FastCdcParams = {}): AsyncGenerator<Chunk> {
  const params = 'maskS' in options ? options : fastCdcParams(options)
  const buf = new Uint8Array(2 * params.maxSize)
  const filler = typeof source === 'string' ? await fileFiller(source) : iterableFiller(source)
  let start = 0
  let end = 0
  let offset = 0
  let done = false
  try {
    while (!done) {
      if (start > 0) {
        buf.copyWithin(0, start, end)
        end -= start
        start = 0
      }
      while (end < buf.length) {
        const n = await filler.read(buf, end)
        if (n === 0) { done = true; break }
        end += n
      }
      while (end - start >= params.maxSize || (done && end > start)) {
        const length = cutPoint(buf, start, end, params)
        yield { offset, length, bytes: buf.slice(start, start + length) }
        start += length
        offset += length
      }
    }
  } finally {
    await filler.close()
  }
}
