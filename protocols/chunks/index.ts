/**
 * The chunk exchange protocol, `/umesh/<network>/chunks/1.0.0`: how chunks,
 * named by their CIDs (v1, raw, sha2-256), travel between peers. One
 * ChunksRequest per stream:
 *
 * - HAVE {cids} (at most 1024): one answer, a bitfield with bit i set when the
 *   node holds chunk i; how a fetcher learns who has what.
 * - GET {cids} (at most 32): one answer per CID in request order, {OK, cid,
 *   data} or {NOT_FOUND, cid}, then the server closes the stream; pbStream
 *   writes wait for the reader, so a slow peer slows the server, not its memory.
 *
 * Peers are untrusted: the client verifies every chunk's hash against the CID
 * it asked for (`ChunkVerificationError` names the peer to drop), caps every
 * answer at one chunk plus overhead, and refuses answers out of order, for
 * CIDs it did not ask for, or beyond the count it asked for. Failures travel
 * as a code in the answer, never as a dropped stream; request size, CIDs per
 * request, streams per connection, concurrent requests and time per request
 * are capped.
 *
 * Imports: protocols/shared only; nothing from src/.
 */
import { ChunksService } from './chunks-service.js'
import type { ComponentLogger } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'
import type { CID } from 'multiformats/cid'

export {
  chunksProtocol, MAX_HAVE_CIDS, MAX_GET_CIDS, MAX_CHUNK_SIZE, MAX_REQUEST_BYTES, MAX_GET_RESPONSE_BYTES, MAX_HAVE_RESPONSE_BYTES,
  DEFAULT_TIMEOUT as DEFAULT_CHUNKS_TIMEOUT
} from './constants.js'
export { ChunksRequest, ChunksResponse } from './chunks.js'
export { getChunks, haveChunks } from './client.js'
export type { ChunksRequestOptions, ChunksTarget, FetchedChunk } from './client.js'
export * from './errors.js'

/**
 * What the service serves chunks from: a ChunkStore (src/content), or
 * anything with the same two methods. `get` rejects with an error named
 * ChunkNotFoundError (or NotFoundError) for a chunk it does not hold; a
 * ChunkCorruptError also answers NOT_FOUND. The service passes `once`: a
 * store that hashes what it reads may skip chunks it already checked in
 * this process (every receiver hashes every chunk).
 */
export interface ChunkReader {
  has: (cid: CID) => Promise<boolean>
  get: (cid: CID, options?: { once?: boolean }) => Promise<Uint8Array>
}

export interface ChunksInit {
  network: string
  store: ChunkReader
  /** time for one request, from reading it to the last answer written (default 30 s) */
  timeout?: number
  /** streams of this protocol open at once per connection, inbound (default 8) */
  maxInboundStreams?: number
  /** streams of this protocol open at once per connection, outbound: requests in flight to one peer (default 8) */
  maxOutboundStreams?: number
  /** requests served at once in all (default 64); more get BUSY */
  maxConcurrent?: number
  /**
   * serve chunks over relayed connections (default false): a relay's bytes
   * are capped and someone else's, so chunk data travels only over direct
   * connections; a request over a relay is refused with BAD_REQUEST
   */
  allowRelayed?: boolean
  /**
   * Where chunk answers wait for an upload slot (fair among peers, rare
   * chunks first) and the upload cap: `acquire` resolves to the function
   * that frees the slot once the answer is written. None: sent at once.
   */
  upload?: {
    acquire: (peer: string, cid: string, bytes: number, signal: AbortSignal) => Promise<() => void>
  }
}

export interface ChunksComponents {
  registrar: Registrar
  logger: ComponentLogger
}

export function chunks (init: ChunksInit): (components: ChunksComponents) => ChunksService {
  return (components) => new ChunksService(components, init)
}

export type { ChunksService }
