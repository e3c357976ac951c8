/**
 * What several protocols share, and nothing else: the stream opener every
 * client takes, the bounded length-prefix decoder, the server side of a one-request
 * stream, the piece bitfield (the
 * chunks protocol's HAVE answer and the have exchange), chunk CIDs, the path
 * rules, closing a stream, and the base error class.
 *
 * Imports: only libraries. Every protocol may import from here; nothing under
 * `protocols/` imports from `src/`.
 */
export { Bitfield } from './bitfield.js'
export {
  assertChunkCid, chunkCid, chunkCidFromDigest, decodeChunkCid, formatChunkCid, isChunkCid, parseChunkCid, sha256Digest, verifyChunk,
  InvalidChunkCidError, CHUNK_CODEC, CHUNK_HASH, MAX_CHUNK_BYTES
} from './chunk-cid.js'
export { closeStream, finishStream } from './close-stream.js'
export { ProtocolError } from './errors.js'
export { boundedLengthDecoder, lengthPrefix, varintBytes, varintLength, InvalidDataLengthLengthError } from './length-prefix.js'
export { OneRequest } from './one-request.js'
export { timeoutSignal, withTimeout } from './timeout-signal.js'
export type { OneRequestInit } from './one-request.js'
export { pathProblem, quotePath, MAX_COMPONENT_BYTES, MAX_PATH_BYTES } from './path-rules.js'
export type { StreamOpener } from './stream-opener.js'
