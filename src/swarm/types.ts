import type { CID } from 'multiformats/cid'

/** a chunk whose bytes hash to its CID */
export interface FetchedChunk {
  cid: CID
  bytes: Uint8Array
}

/** where fetched chunks go: the node's chunk store */
export interface ChunkSink {
  has: (cid: CID) => Promise<boolean>
  put: (cid: CID, bytes: Uint8Array) => Promise<unknown>
}
