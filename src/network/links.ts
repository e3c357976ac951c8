/**
 * How this node is linked to a peer, read from its open connections:
 *
 * - `local`: a direct connection whose remote address lies in one of this
 *   machine's private IPv4 subnets (the same site, behind the same NAT);
 * - `direct`: a direct connection over any other address;
 * - `relayed`: only relayed connections (circuit relay v2, `/p2p-circuit`);
 * - `none`: no open connection.
 *
 * The swarm asks site-local peers for chunks first, and chunk data never
 * crosses a relayed connection unless allowRelayedData says so.
 */
import { networkInterfaces } from 'node:os'
import { isPrivateIp } from '@libp2p/utils'
import type { Connection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export type Link = 'local' | 'direct' | 'relayed' | 'none'

/** true for a relayed connection's address (it carries /p2p-circuit) */
export function isRelayedAddr (ma: Pick<Multiaddr, 'toString'>): boolean {
  return ma.toString().includes('/p2p-circuit')
}

export function isRelayed (conn: { remoteAddr: Pick<Multiaddr, 'toString'> }): boolean {
  return isRelayedAddr(conn.remoteAddr)
}

/** an IPv4 subnet as a 32-bit network and mask */
export interface Subnet {
  network: number
  mask: number
}

export function ipv4ToNumber (ip: string): number | undefined {
  const parts = ip.split('.')
  if (parts.length !== 4) return undefined
  let n = 0
  for (const p of parts) {
    const v = Number(p)
    if (!/^\d{1,3}$/.test(p) || v > 255) return undefined
    n = n * 256 + v
  }
  return n
}

/** this machine's private IPv4 subnets, loopback left out (it says nothing about a site) */
export function privateSubnets (interfaces = networkInterfaces()): Subnet[] {
  const subnets: Subnet[] = []
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue
      const ip = ipv4ToNumber(a.address)
      const mask = ipv4ToNumber(a.netmask)
      if (ip == null || mask == null || isPrivateIp(a.address) !== true) continue
      subnets.push({ network: (ip & mask) >>> 0, mask })
    }
  }
  return subnets
}

/** true when a direct connection's remote IPv4 address is in one of `subnets` */
export function inSubnets (ma: Multiaddr, subnets: readonly Subnet[]): boolean {
  const ip4 = ma.getComponents().find(c => c.name === 'ip4')?.value
  const n = ip4 == null ? undefined : ipv4ToNumber(ip4)
  if (n == null) return false
  return subnets.some(s => ((n & s.mask) >>> 0) === s.network)
}

/**
 * Each connection's kind, per list of subnets: a connection's address does
 * not change, and the swarm asks for every chunk request (parsing the
 * address each time was 1.7 % of a node's CPU profile in a 20-node rollout)
 */
const kinds = new WeakMap<readonly Subnet[], WeakMap<object, Exclude<Link, 'none'>>>()

function kindOf (c: Pick<Connection, 'remoteAddr'>, subnets: readonly Subnet[]): Exclude<Link, 'none'> {
  let known = kinds.get(subnets)
  if (known == null) {
    known = new WeakMap()
    kinds.set(subnets, known)
  }
  let kind = known.get(c)
  if (kind == null) {
    kind = isRelayed(c) ? 'relayed' : inSubnets(c.remoteAddr, subnets) ? 'local' : 'direct'
    known.set(c, kind)
  }
  return kind
}

/** the best link among a peer's open connections */
export function linkOf (connections: ReadonlyArray<Pick<Connection, 'remoteAddr' | 'status'>>, subnets: readonly Subnet[]): Link {
  let best: Link = 'none'
  for (const c of connections) {
    if (c.status !== 'open') continue
    const kind = kindOf(c, subnets)
    if (kind === 'local') return 'local'
    if (kind === 'direct') best = 'direct'
    else if (best === 'none') best = 'relayed'
  }
  return best
}
