export const PROTOCOL_NAME = 'status'
export const PROTOCOL_VERSION = '1.0.0'
/** the request revision this code speaks */
export const REVISION = 1

export function statusProtocol (network: string): string {
  return `/umesh/${network}/${PROTOCOL_NAME}/${PROTOCOL_VERSION}`
}

/** a request is a few bytes; anything larger is not a status request */
export const MAX_REQUEST_BYTES = 64
/**
 * Bytes a client may send after its request (read and dropped) before it is
 * cut off. Its answer is sent first, whatever it sends.
 */
export const MAX_UNREAD_BYTES = 256 * 1024
/** the largest response a client accepts */
export const MAX_RESPONSE_BYTES = 512 * 1024
/** peers listed in one response; the count is always exact */
export const MAX_PEERS_LISTED = 256
export const DEFAULT_TIMEOUT = 5_000
/**
 * How long a client waits once its stream is open, whatever signal its caller
 * passed: the service gives a request 5 s, read to close, and the answer
 * needs time to travel a slow link after that.
 */
export const CLIENT_EXCHANGE_TIMEOUT = 10_000
export const DEFAULT_MAX_INBOUND_STREAMS = 2
export const DEFAULT_MAX_CONCURRENT = 32

export const RESPONSE_LIMITS = {
  phases: 32,
  peers: MAX_PEERS_LISTED,
  listenAddrs: 64,
  releases: 256,
  /** a node has at most 16 labels (src/rollout/labels.ts) */
  labels: 16,
  // NAT traversal: a handful of addresses, the peers chunks came from (status-report lists 16 and 64)
  nat: { publicAddrs: 16, relayAddrs: 16 },
  bandwidth: { sources: 64 }
}
