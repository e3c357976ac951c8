export const PROTOCOL_NAME = 'sync'
export const PROTOCOL_VERSION = '1.0.0'

export function syncProtocol (network: string): string {
  return `/umesh/${network}/${PROTOCOL_NAME}/${PROTOCOL_VERSION}`
}

/** a request is a kind, a path of at most 4096 bytes and a length; anything larger is not a sync request */
export const MAX_REQUEST_BYTES = 8 * 1024
/** bytes a client may send after its request (read and dropped) before it is cut off, after its answer */
export const MAX_UNREAD_BYTES = 64 * 1024
/** the largest file served or accepted (metadata and release indexes are far smaller) */
export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024
/** file bytes held in memory for all requests at once; more get BUSY */
export const DEFAULT_MAX_BYTES_IN_FLIGHT = 256 * 1024 * 1024
/** a response's bytes beyond its file data: code, error text, field tags and lengths */
export const RESPONSE_OVERHEAD_BYTES = 4 * 1024
/** error texts are cut to this many characters so they fit the overhead */
export const MAX_ERROR_CHARS = 1024
/** release paths listed in one summary */
export const MAX_SUMMARY_RELEASES = 4096
/** the largest summary response; releases past it are left out */
export const MAX_SUMMARY_BYTES = 1024 * 1024
export const DEFAULT_TIMEOUT = 30_000
export const DEFAULT_MAX_INBOUND_STREAMS = 4
export const DEFAULT_MAX_CONCURRENT = 16

export const SUMMARY_LIMITS = {
  releases: MAX_SUMMARY_RELEASES
}
