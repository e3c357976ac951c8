/**
 * Every protocol id and topic carries the network name, so two meshes on one
 * LAN never mix: their DHTs, identify, ping and status speak different ids
 * and their gossip topics differ. Gossipsub itself keeps the standard
 * /meshsub ids because it gates its features (PRUNE backoff, peer exchange,
 * IDONTWANT) on them; its topic allow-list keeps other networks' topics out.
 */
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

/** DNS-SD service tag for mDNS; dots in a network name would split the label */
export function mdnsServiceTag (network: string): string {
  return `_umesh-${network.replace(/[._]/g, '-')}._udp.local`
}
