/**
 * Connection gater: the deny-list (never dial, never accept, in or out,
 * never relay for) and
 * a cap on inbound connections open at once from one IP address. Both read
 * live settings, so a config reload applies without a restart.
 */
import { isRelayedAddr } from './links.js'
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface GaterSettings {
  denyPeers: Set<string>
  maxInboundPerIp: number
}

/** The IP address of a multiaddr, or undefined when it has none. */
export function ipOf (ma: Multiaddr): string | undefined {
  return ma.getComponents().find(c => c.name === 'ip4' || c.name === 'ip6')?.value
}

export interface MeshGater extends ConnectionGater {
  settings: GaterSettings
  /** counts inbound connections per IP; bound once the node exists */
  countInbound: (ip: string) => number
}

export function meshGater (settings: GaterSettings): MeshGater {
  const gater: MeshGater = {
    settings,
    countInbound: () => 0,
    denyDialPeer: (peerId: PeerId) => gater.settings.denyPeers.has(peerId.toString()),
    denyInboundConnection: (maConn: MultiaddrConnection) => {
      // a relayed connection's address names the relay: the relay caps those, not the per-IP count
      if (isRelayedAddr(maConn.remoteAddr)) return false
      const ip = ipOf(maConn.remoteAddr)
      return ip != null && gater.countInbound(ip) >= gater.settings.maxInboundPerIp
    },
    denyInboundEncryptedConnection: (peerId: PeerId) => gater.settings.denyPeers.has(peerId.toString()),
    denyOutboundEncryptedConnection: (peerId: PeerId) => gater.settings.denyPeers.has(peerId.toString()),
    // the relay service neither holds a slot for a denied peer nor relays to or from one
    denyInboundRelayReservation: (source: PeerId) => gater.settings.denyPeers.has(source.toString()),
    denyOutboundRelayedConnection: (source: PeerId, destination: PeerId) => gater.settings.denyPeers.has(source.toString()) || gater.settings.denyPeers.has(destination.toString()),
    denyInboundRelayedConnection: (relay: PeerId, remote: PeerId) => gater.settings.denyPeers.has(relay.toString()) || gater.settings.denyPeers.has(remote.toString())
  }
  return gater
}
