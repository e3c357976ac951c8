/**
 * The addresses this node is listening on, as its transports bound them.
 *
 * libp2p 3's `getMultiaddrs()` lists only addresses it will advertise: a
 * public address counts once AutoNAT (or the operator's `announce`) has
 * confirmed it. A node listening on a public IP alone therefore lists none
 * until then, and a CLI on the same machine, reading `daemon.json`, would
 * have no address to ask its own daemon at. The daemon file and the ready
 * line use these instead: the advertised addresses first, then every bound
 * one not among them.
 */
import type { PeerId } from '@libp2p/interface'
import type { TransportManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface BoundAddresses {
  /** every address a transport listens on, without the /p2p/ part */
  bound: () => Multiaddr[]
}

export function boundAddresses (): (components: { transportManager: TransportManager }) => BoundAddresses {
  return (components) => ({ bound: () => components.transportManager.getAddrs() })
}

/** advertised addresses, then bound ones not advertised, each ending in /p2p/<peer id> */
export function ownAddresses (node: { peerId: PeerId, getMultiaddrs: () => Multiaddr[], services: { addresses?: BoundAddresses } }): string[] {
  const id = node.peerId.toString()
  const out = node.getMultiaddrs().map(a => a.toString())
  for (const a of node.services.addresses?.bound() ?? []) {
    const text = a.toString().includes('/p2p/') ? a.toString() : `${a.toString()}/p2p/${id}`
    if (!out.includes(text)) out.push(text)
  }
  return out
}
