/**
 * A length-prefix decoder for lpStream and pbStream that gives up on a
 * length prefix longer than the largest accepted message needs.
 *
 * @libp2p/utils' lpStream reads a prefix byte by byte and checks
 * `maxLengthLength` only once a varint has decoded; its default decoder
 * (uint8-varint) looks at no more than 8 bytes and throws a RangeError, which
 * lpStream takes for "incomplete, read on". So a peer that sends continuation
 * bytes (0x80-0xff) without end is never cut off: every byte is kept in a
 * list of one-byte views (measured at over 100 bytes of heap per byte
 * received) until the request's timeout. This decoder throws, with a name the
 * protocol clients treat as an oversized answer, as soon as the prefix is
 * longer than the varint of `maxDataLength`.
 */
import type { Uint8ArrayList } from 'uint8arraylist'

/** bytes of the unsigned varint of `value` */
export function varintLength (value: number): number {
  let bytes = 1
  for (let n = value; n >= 0x80; n = Math.floor(n / 0x80)) bytes++
  return bytes
}

/** Thrown for a length prefix longer than any accepted message needs; the name is the one lpStream uses for the same fault. */
export class InvalidDataLengthLengthError extends Error {
  override readonly name = 'InvalidDataLengthLengthError'
}

/**
 * The length prefix at the start of `data`: its value and its size in bytes,
 * or undefined while it is incomplete. Throws InvalidDataLengthLengthError
 * once the prefix is longer than the prefix of `maxDataLength`.
 */
export function lengthPrefix (data: Uint8ArrayList | Uint8Array, maxDataLength: number): { value: number, bytes: number } | undefined {
  const maxBytes = varintLength(maxDataLength)
  let value = 0
  let factor = 1
  for (let i = 0; i < data.byteLength; i++) {
    if (i >= maxBytes) {
      // worded as lpStream words the same fault
      throw new InvalidDataLengthLengthError(`Message length length too long - ${i + 1} > ${maxBytes} (a message of at most ${maxDataLength} bytes needs no longer length prefix)`)
    }
    const byte = 'get' in data ? data.get(i) : data[i]
    value += (byte & 0x7f) * factor
    if (byte < 0x80) return { value, bytes: i + 1 }
    factor *= 0x80
  }
  return undefined
}

/**
 * A `lengthDecoder` for lpStream/pbStream: the prefix's value once it is
 * complete; a RangeError while it is not (lpStream reads another byte); an
 * InvalidDataLengthLengthError once it is longer than the prefix of
 * `maxDataLength`, so at most that many bytes plus one are ever buffered.
 */
export function boundedLengthDecoder (maxDataLength: number): (data: Uint8ArrayList | Uint8Array) => number {
  return (data) => {
    const prefix = lengthPrefix(data, maxDataLength)
    if (prefix == null) throw new RangeError('incomplete length prefix')
    return prefix.value
  }
}

/** the unsigned varint of `value` (below 2^53), as protobuf and length prefixes write it */
export function varintBytes (value: number): Uint8Array {
  const out = new Uint8Array(varintLength(value))
  for (let i = 0; i < out.length - 1; i++) {
    out[i] = (value % 0x80) | 0x80
    value = Math.floor(value / 0x80)
  }
  out[out.length - 1] = value
  return out
}
