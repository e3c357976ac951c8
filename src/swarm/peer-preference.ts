/**
 * Which peers a download asks, in which order, and for what:
 *
 * - a peer chunks may not be asked of now is left out (reached only through
 *   a relay while allowRelayedData is off: chunk data stays off relays);
 * - peers on this node's site (a direct connection inside one of its
 *   private subnets, src/network/links.ts) come first;
 * - for the first 2 s of a download, while a connected site peer's session
 *   is not open yet, off-site peers wait (download.ts);
 * - while a site peer is in the swarm, an off-site peer is not asked for a
 *   piece a site peer holds or said it is fetching: each piece crosses the
 *   site's uplink about once, then travels the LAN. A stalled piece may
 *   still be asked of anyone (the picker).
 */
import type { SwarmPeer } from './release-swarm.js'
import type { PeerId } from '@libp2p/interface'

export interface PreferenceInit {
  usable?: (peer: PeerId) => boolean
  local?: (peer: PeerId) => boolean
}

export interface PlannedPeer {
  peer: SwarmPeer
  /** pieces this peer is not asked for (undefined: none) */
  skip?: (i: number) => boolean
}

export function sitePlan (peers: SwarmPeer[], count: number, init: PreferenceInit, sitePending = false): PlannedPeer[] {
  const usable = peers.filter(p => init.usable?.(p.id) ?? true)
  if (init.local == null) return usable.map(peer => ({ peer }))
  const local: SwarmPeer[] = []
  const remote: SwarmPeer[] = []
  for (const p of usable) (init.local(p.id) ? local : remote).push(p)
  // a site peer is connected but its session not open yet (the first seconds of a download): off-site peers wait
  if (sitePending) return [...local.map(peer => ({ peer })), ...remote.map(peer => ({ peer, skip: () => true }))]
  if (local.length === 0 || remote.length === 0) return usable.map(peer => ({ peer }))
  // what the site holds or is getting, one byte a piece
  const covered = new Uint8Array(count)
  for (const p of local) {
    for (let i = 0; i < count; i++) if (p.have.has(i)) covered[i] = 1
    for (const i of p.fetching) if (i < count) covered[i] = 1
  }
  const skip = (i: number): boolean => covered[i] === 1
  return [...local.map(peer => ({ peer })), ...remote.map(peer => ({ peer, skip }))]
}
