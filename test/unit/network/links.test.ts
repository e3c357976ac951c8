/**
 * How a peer is linked (src/network/links.ts) and what the download makes
 * of it (src/swarm/peer-preference.ts): site peers first, off-site peers kept
 * off what the site holds or fetches, relayed-only peers left out.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { inSubnets, isRelayedAddr, linkOf, privateSubnets } from '../../../src/network/links.js'
import { sitePlan } from '../../../src/swarm/peer-preference.js'
import { Bitfield } from '../../../protocols/shared/index.js'
import type { SwarmPeer } from '../../../src/swarm/release-swarm.js'
import type { PeerId } from '@libp2p/interface'
import type { NetworkInterfaceInfo } from 'node:os'

const RELAY = '12D3KooWECDtH8SELx8Ztv9sSnjarqgNvdkRaAZR8kSc58FwqWZu'
const iface = (address: string, netmask: string, internal = false): NetworkInterfaceInfo =>
  ({ address, netmask, family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr: null }) as NetworkInterfaceInfo
const conn = (addr: string, status = 'open'): any => ({ remoteAddr: multiaddr(addr), status })

describe('links', () => {
  const subnets = privateSubnets({ eth0: [iface('10.201.7.2', '255.255.255.0')], wan: [iface('11.77.1.5', '255.255.255.0')], lo: [iface('127.0.0.1', '255.0.0.0', true)] })

  it('a site is this machine\'s private IPv4 subnets: loopback and public ones are not', () => {
    assert.equal(subnets.length, 1)
    assert.ok(inSubnets(multiaddr('/ip4/10.201.7.3/tcp/4090'), subnets))
    assert.ok(!inSubnets(multiaddr('/ip4/10.202.7.3/tcp/4090'), subnets), 'another site\'s LAN')
    assert.ok(!inSubnets(multiaddr('/ip4/11.77.1.6/tcp/4090'), subnets), 'a public neighbour is not the site')
    assert.ok(!inSubnets(multiaddr('/ip6/::1/tcp/4090'), subnets))
  })

  it('the best link among a peer\'s open connections: local, then direct, then relayed', () => {
    const relayed = `/ip4/11.77.1.1/tcp/4090/p2p/${RELAY}/p2p-circuit`
    assert.ok(isRelayedAddr(multiaddr(relayed)))
    assert.equal(linkOf([], subnets), 'none')
    assert.equal(linkOf([conn(relayed)], subnets), 'relayed')
    assert.equal(linkOf([conn(relayed), conn('/ip4/11.77.1.9/tcp/4090')], subnets), 'direct')
    assert.equal(linkOf([conn('/ip4/11.77.1.9/tcp/4090'), conn('/ip4/10.201.7.3/tcp/4090')], subnets), 'local')
    assert.equal(linkOf([conn('/ip4/10.201.7.3/tcp/4090', 'closed'), conn(relayed)], subnets), 'relayed', 'a closed connection does not count')
  })
})

describe('sitePlan', () => {
  const peer = (name: string, held: number[], count = 4, fetching: number[] = []): SwarmPeer => {
    const have = new Bitfield(count)
    for (const i of held) have.set(i)
    return { id: { toString: () => name } as PeerId, key: name, session: undefined as any, have, fetching: new Set(fetching) }
  }
  const local = (id: PeerId): boolean => id.toString().startsWith('site')

  it('site peers first; an off-site peer is kept off what a site peer holds or fetches', () => {
    const seed = peer('publisher', [0, 1, 2, 3])
    const site = peer('site-1', [0], 4, [1])
    const plan = sitePlan([seed, site], 4, { local })
    assert.deepEqual(plan.map(p => p.peer.key), ['site-1', 'publisher'])
    assert.equal(plan[0].skip, undefined, 'a site peer may be asked for anything')
    assert.deepEqual([0, 1, 2, 3].map(i => plan[1].skip?.(i)), [true, true, false, false])
  })

  it('with no site peer, or no preference, every peer for every piece; while a site peer\'s session is pending, off-site peers wait', () => {
    const seed = peer('publisher', [0, 1, 2, 3])
    assert.deepEqual(sitePlan([seed], 4, { local }).map(p => p.skip), [undefined])
    assert.deepEqual(sitePlan([seed], 4, {}).map(p => p.skip), [undefined])
    const waiting = sitePlan([seed], 4, { local }, true)
    assert.deepEqual([0, 1, 2, 3].map(i => waiting[0].skip?.(i)), [true, true, true, true])
  })

  it('a peer chunks may not be asked of (reached only through a relay) is left out', () => {
    const plan = sitePlan([peer('publisher', [0]), peer('behind-nat', [0])], 4, { usable: (id) => id.toString() !== 'behind-nat' })
    assert.deepEqual(plan.map(p => p.peer.key), ['publisher'])
  })
})
