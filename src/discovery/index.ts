/**
 * Finding and keeping peers: the bootstrap list re-dialled with backoff
 * until connected (libp2p's bootstrap module dials once), and the peer
 * keeper that dials peers announced by the DHT, mDNS and the bootstrap list,
 * and peers remembered in the peer store, until the target count is
 * connected.
 *
 * Imports: libraries only.
 */
export { BootstrapDialer } from './bootstrap-dialer.js'
export type { BootstrapDialerInit } from './bootstrap-dialer.js'
export { PeerKeeper } from './peer-keeper.js'
export type { PeerKeeperInit } from './peer-keeper.js'
export { Backoff } from './backoff.js'
