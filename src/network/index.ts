/**
 * The libp2p side of a node: assembly of the node with its transports,
 * services and the update-mesh protocols (create-node.ts), protocol ids and
 * gossip topics that carry the network name (protocol-ids.ts), the
 * connection gater, the guard that hangs up on peers of other networks, the
 * byte counter, what each peer speaks (peer-protocols.ts), NAT traversal
 * (nat.ts, reachability.ts, links.ts), and a throw-away client node for the
 * CLI and tests.
 *
 * Imports: protocols/ (the services it mounts), libraries.
 */
export { createMeshNode } from './create-node.js'
export type { MeshNode, MeshNodeConfig, MeshNodeInit, MeshNodeParts, MeshServices, Role } from './create-node.js'
export { createClientNode } from './client-node.js'
export { meshGater } from './gater.js'
export type { MeshGater } from './gater.js'
export { NetworkGuard } from './network-guard.js'
export { PeerProtocols } from './peer-protocols.js'
export type { PeerProtocolsComponents, PeerProtocolsEvents } from './peer-protocols.js'
export { TrafficMeter } from './traffic-meter.js'
export { natReport, relayServiceOn } from './nat.js'
export type { NatReport } from './nat.js'
export { isRelayed, linkOf } from './links.js'
export { ownAddresses } from './bound-addresses.js'
export type { Link } from './links.js'
export type { Reachability, ReachabilityState } from './reachability.js'
export * from './protocol-ids.js'
