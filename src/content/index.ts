/**
 * Content: how release files become chunks and where chunks live. FastCDC
 * cuts files at content-defined boundaries (so versions share chunks), each
 * chunk is named by a CIDv1 (raw, sha2-256), and the chunk store keeps them on
 * disk, checking every chunk's hash when it is stored and again when it is read
 * (when serving, once per process: see chunk-store.ts).
 *
 * Imports: protocols/shared (chunk CIDs, the largest chunk), errors.
 */
export {
  chunkBytes, chunkSource, cutPoint, fastCdcParams, spreadMask, ChunkerOptionsError, GEAR, GEAR_SEED_PREFIX,
  DEFAULT_AVG_SIZE, DEFAULT_MAX_SIZE, DEFAULT_MIN_SIZE, DEFAULT_NORMALIZATION, MAX_CHUNK_SIZE_LIMIT
} from './fastcdc.js'
export type { Chunk, ChunkSource, FastCdcOptions, FastCdcParams } from './fastcdc.js'
export {
  assertChunkCid, chunkCid, chunkCidFromDigest, decodeChunkCid, formatChunkCid, isChunkCid, parseChunkCid, sha256Digest, verifyChunk,
  InvalidChunkCidError, CHUNK_CODEC, CHUNK_HASH
} from '../../protocols/shared/index.js'
export {
  ChunkStore, openChunkStore, ChunkCorruptError, ChunkHashMismatchError, ChunkNotFoundError, ChunkTooLargeError, DEFAULT_WRITE_CONCURRENCY, DEFAULT_MAX_CHECKED
} from './chunk-store.js'
export type { ChunkedFile, ChunkRef, ChunkStoreInit } from './chunk-store.js'
