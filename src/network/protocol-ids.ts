/**
 * Every protocol id and topic carries the network name, so two meshes on one
 * LAN never mix: their DHTs, identify, ping and status speak different ids
 * and their gossip topics differ. Gossipsub itself keeps the standard
 * /meshsub ids because it gates its features (PRUNE backoff, peer exchange,
 * IDONTWANT) on them; its topic allow-list keeps other networks' topics out.
 */
import { createHash } from 'node:crypto'

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
 * DNS-SD service tag for mDNS. A DNS label takes letters, digits and '-';
 * a network name with '.' or '_' gets them replaced and a short hash of the
 * real name appended, so `fleet.a`, `fleet_a` and `fleet-a` stay apart.
 */
export function mdnsServiceTag (network: string): string {
  if (/^[a-z0-9-]+$/.test(network)) return `_umesh-${network}._udp.local`
  const hash = createHash('sha256').update(network).digest('hex').slice(0, 8)
  return `_umesh-${network.replace(/[._]/g, '-')}-${hash}._udp.local`
}
