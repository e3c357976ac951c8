/**
 * A GET answer on the wire without copying its chunk. protons' encoder
 * copies the chunk's bytes into one new buffer with the other fields (up to
 * 1 MiB per answer, allocated and copied for every chunk served); here the
 * fields before `data` are encoded by protons, then `data`'s tag and length,
 * and the chunk's own bytes follow as a list. The bytes on the wire are the
 * ones protons writes: `data` is the last field (tag 5) and protons writes
 * fields in number order.
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { varintBytes as varint } from '../shared/length-prefix.js'
import { ChunksResponse } from './chunks.js'

/** field 5 (`data`), wire type 2 (length-delimited) */
const DATA_TAG = (5 << 3) | 2

/** the answer as ChunksResponse.encode gives it, with its chunk not copied */
export function encodeAnswer (answer: Partial<ChunksResponse>): Uint8Array | Uint8ArrayList {
  const data = answer.data
  // protons leaves an empty bytes field out
  if (data == null || data.byteLength === 0) return ChunksResponse.encode(answer)
  const head = ChunksResponse.encode({ ...answer, data: undefined })
  return new Uint8ArrayList(head, varint(DATA_TAG), varint(data.byteLength), data)
}
