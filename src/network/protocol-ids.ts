/**
 * Every protocol id and topic carries the network name, so two meshes on one
 * LAN never mix: their DHTs, identify, ping and status speak different ids
 * and their gossip topics differ. Gossipsub itself keeps the standard
 * /meshsub ids because it gates its features (PRUNE backoff, peer exchange,
 * IDONTWANT) on them; its topic allow-list keeps other networks' topics out.
 */
import { createHash } from 'node:crypto'
import { chunksProtocol } from '../../protocols/chunks/constants.js'
import { haveProtocol } from '../../protocols/have/constants.js'
import { statusProtocol } from '../../protocols/status/constants.js'
import { syncProtocol } from '../../protocols/sync/constants.js'

export function protocolPrefix (network: string): string {
  return `umesh/${network}`
}

export function dhtProtocol (network: string): string {
  return `/umesh/${network}/kad/1.0.0`
}

export function announceTopic (network: string): string {
  return `/umesh/${network}/announce/1`
}

export function reportsTopic (network: string): string {
  return `/umesh/${network}/reports/1`
}

export function gossipTopics (network: string): string[] {
  return [announceTopic(network), reportsTopic(network)]
}

/**
 * Every protocol id a node of this network speaks (ours, the DHT, identify,
 * ping, gossipsub's ladder and floodsub), so per-protocol byte counts can be
 * labelled by a bounded set: anything else is "other".
 */
export function knownProtocols (network: string): string[] {
  const prefix = `/${protocolPrefix(network)}`
  return [
    statusProtocol(network), syncProtocol(network), chunksProtocol(network), haveProtocol(network),
    dhtProtocol(network), `${prefix}/id/1.0.0`, `${prefix}/id/push/1.0.0`, `${prefix}/ping/1.0.0`,
    '/meshsub/1.2.0', '/meshsub/1.1.0', '/meshsub/1.0.0', '/floodsub/1.0.0',
    // NAT traversal (nat.ts): AutoNAT under the network's prefix, circuit relay v2 and DCUtR under libp2p's ids
    `${prefix}/autonat/1.0.0`, '/libp2p/circuit/relay/0.2.0/hop', '/libp2p/circuit/relay/0.2.0/stop', '/libp2p/dcutr'
  ]
}

/**
 * DNS-SD service tag for mDNS. A DNS label takes letters, digits and '-';
 * a network name with '.' or '_' gets them replaced and a short hash of the
 * real name appended, so `fleet.a`, `fleet_a` and `fleet-a` stay apart.
 */
export function mdnsServiceTag (network: string): string {
  if (/^[a-z0-9-]+$/.test(network)) return `_umesh-${network}._udp.local`
  const hash = createHash('sha256').update(network).digest('hex').slice(0, 8)
  return `_umesh-${network.replace(/[._]/g, '-')}-${hash}._udp.local`
}
