import type { CID } from 'multiformats/cid'

/** a chunk whose bytes hash to its CID */
export interface FetchedChunk {
  cid: CID
  bytes: Uint8Array
}

/** where fetched chunks go: the node's chunk store */
export interface ChunkSink {
  has: (cid: CID) => Promise<boolean>
  /**
   * `verified`: the bytes were hashed against the CID already (a
   * FetchedChunk: the chunks client checks each one), so the store need
   * not hash them again; it still checks them whenever it reads them back
   */
  put: (cid: CID, bytes: Uint8Array, options?: { verified?: boolean }) => Promise<unknown>
}
