import { MAX_CHUNK_BYTES } from '../shared/chunk-cid.js'

export const PROTOCOL_NAME = 'chunks'
export const PROTOCOL_VERSION = '1.0.0'

export function chunksProtocol (network: string): string {
  return `/umesh/${network}/${PROTOCOL_NAME}/${PROTOCOL_VERSION}`
}

/** CIDs in one HAVE request; the answer's bitfield is at most 128 bytes */
export const MAX_HAVE_CIDS = 1024
/** CIDs in one GET request; its answers hold at most 32 MiB of chunk data */
export const MAX_GET_CIDS = 32
/** the largest chunk sent or accepted: the chunker's maximum (1 MiB) */
export const MAX_CHUNK_SIZE = MAX_CHUNK_BYTES
/** a binary chunk CID: version, codec, hash code, digest length, 32-byte digest */
export const CHUNK_CID_BYTES = 36
/**
 * the largest request: every CID costs its bytes plus a field tag and a length
 * (38 bytes, rounded up to 40), plus the kind and some slack; anything larger
 * is not a chunks request
 */
export const MAX_REQUEST_BYTES = MAX_HAVE_CIDS * 40 + 64
/** bytes a client may send after its request (read and dropped) before it is cut off, after its answers */
export const MAX_UNREAD_BYTES = MAX_REQUEST_BYTES
/** error texts are cut to this many characters so an answer fits its overhead */
export const MAX_ERROR_CHARS = 512
/** an answer's bytes beyond its chunk data or bitfield: code, error text, CID, field tags and lengths */
export const RESPONSE_OVERHEAD_BYTES = 4 * 1024
/** the largest GET answer a client accepts: one chunk plus overhead */
export const MAX_GET_RESPONSE_BYTES = MAX_CHUNK_SIZE + RESPONSE_OVERHEAD_BYTES
/** the largest HAVE answer a client accepts: the bitfield plus overhead */
export const MAX_HAVE_RESPONSE_BYTES = MAX_HAVE_CIDS / 8 + RESPONSE_OVERHEAD_BYTES

export const DEFAULT_TIMEOUT = 30_000
export const DEFAULT_MAX_INBOUND_STREAMS = 8
export const DEFAULT_MAX_OUTBOUND_STREAMS = 8
export const DEFAULT_MAX_CONCURRENT = 64

export const REQUEST_LIMITS = {
  cids: MAX_HAVE_CIDS
}
