export const PROTOCOL_NAME = 'have'
export const PROTOCOL_VERSION = '1.0.0'

export function haveProtocol (network: string): string {
  return `/umesh/${network}/${PROTOCOL_NAME}/${PROTOCOL_VERSION}`
}

/** pieces a release may have on this protocol: 2^20 chunks of at least 64 KiB is 64 GiB; the bitfield is at most 128 KiB */
export const MAX_PIECES = 1 << 20
/** pieces announced in one `added` message; more go in the next */
export const MAX_ADDED = 4096
/** the largest message: a full bitfield, or MAX_ADDED varints, plus the CID and field tags */
export const MAX_MESSAGE_BYTES = MAX_PIECES / 8 + 1024
/** a CID of the release index: version, codec, hash code, length, 32-byte digest */
export const MAX_RELEASE_BYTES = 64
/** time for the first message each way */
export const DEFAULT_HELLO_TIMEOUT = 10_000
/** a session with no message either way for this long is closed (either side may open it again) */
export const DEFAULT_IDLE_TIMEOUT = 5 * 60_000
/** pieces newly held are gathered this long before they go out in one message */
export const ADDED_FLUSH_MS = 20
export const DEFAULT_MAX_INBOUND_STREAMS = 16
export const DEFAULT_MAX_OUTBOUND_STREAMS = 16
