/**
 * Chunk identifiers: CIDv1, raw codec, sha2-256 multihash. The digest comes
 * from node:crypto (OpenSSL, about 1.7 GiB/s) and is wrapped into the
 * multihash by hand, which gives the same CID as multiformats' own sha256
 * hasher at a fraction of its overhead. Only this one kind of CID names a
 * chunk: anything else is refused rather than half-supported.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create as createDigest } from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { ProtocolError } from './errors.js'

/** the largest chunk the mesh names, sends, accepts or stores (the chunker's maximum) */
export const MAX_CHUNK_BYTES = 1024 * 1024

export const CHUNK_CODEC = raw.code
export const CHUNK_HASH = sha256.code
const DIGEST_LENGTH = 32

export class InvalidChunkCidError extends ProtocolError {
  override readonly name = 'InvalidChunkCidError'
}

export function sha256Digest (bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest()
}

/** the CID of a chunk whose sha2-256 digest is already known */
export function chunkCidFromDigest (digest: Uint8Array): CID {
  return CID.createV1(CHUNK_CODEC, createDigest(CHUNK_HASH, digest))
}

export function chunkCid (bytes: Uint8Array): CID {
  return chunkCidFromDigest(sha256Digest(bytes))
}

/** true when `cid` is a chunk CID: version 1, raw codec, a 32-byte sha2-256 digest */
export function isChunkCid (cid: CID): boolean {
  return cid.version === 1 && cid.code === CHUNK_CODEC && cid.multihash.code === CHUNK_HASH && cid.multihash.digest.length === DIGEST_LENGTH
}

export function assertChunkCid (cid: CID): void {
  if (!isChunkCid(cid)) {
    throw new InvalidChunkCidError(`expected a chunk CID (CIDv1, raw codec 0x55, sha2-256 multihash 0x12), found ${cid.toString()} (version ${cid.version}, codec 0x${cid.code.toString(16)}, hash 0x${cid.multihash.code.toString(16)}); chunks are named only by chunkCid()`)
  }
}

/** false for bytes that do not hash to `cid`, and for any CID that is not a chunk CID */
export function verifyChunk (cid: CID, bytes: Uint8Array): boolean {
  if (!isChunkCid(cid)) return false
  return timingSafeEqual(sha256Digest(bytes), cid.multihash.digest)
}

/** parses a chunk CID from its text form (any multibase CID.parse knows) */
export function parseChunkCid (text: string): CID {
  let cid: CID
  try {
    cid = CID.parse(text)
  } catch (err) {
    throw new InvalidChunkCidError(`expected a chunk CID such as "bafkrei...", found ${JSON.stringify(text.length > 80 ? text.slice(0, 80) + '...' : text)} (${(err as Error).message})`)
  }
  assertChunkCid(cid)
  return cid
}

/** the canonical text form: base32, as "bafkrei..." */
export function formatChunkCid (cid: CID): string {
  return cid.toString()
}

/** parses a chunk CID from its binary form, as carried in protocol messages */
export function decodeChunkCid (bytes: Uint8Array): CID {
  let cid: CID
  try {
    cid = CID.decode(bytes)
  } catch (err) {
    throw new InvalidChunkCidError(`expected the binary form of a chunk CID (36 bytes), found ${bytes.length} bytes that do not decode (${(err as Error).message})`)
  }
  assertChunkCid(cid)
  return cid
}
