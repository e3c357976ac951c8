/**
 * The node's reachability (src/network/reachability.ts) from what libp2p
 * tells it: a public address AutoNAT confirmed makes it reachable; a public
 * peer seeing it at a public IP not its own makes it unreachable, and then
 * it listens on /p2p-circuit (a relay slot) once; private peers and relayed
 * connections say nothing.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { defaultLogger } from '@libp2p/logger'
import { multiaddr } from '@multiformats/multiaddr'
import { Reachability } from '../../../src/network/reachability.js'
import type { Multiaddr } from '@multiformats/multiaddr'

function parts (addresses: Array<{ multiaddr: Multiaddr, verified: boolean }> = []): { r: Reachability, events: EventTarget, listened: string[][], verified: string[] } {
  const events = new EventTarget()
  const listened: string[][] = []
  const verified: string[] = []
  const r = new Reachability({
    addressManager: { getAddressesWithMetadata: () => addresses, getAddresses: () => [] } as any,
    transportManager: { listen: async (addrs: Multiaddr[]) => { listened.push(addrs.map(a => a.toString())) } } as any,
    connectionManager: { getConnections: () => [] } as any,
    events: events as any,
    logger: defaultLogger()
  }, { checkEveryMs: 60_000, autonatProtocol: '/umesh/x/autonat/1.0.0', verify: async (c) => { verified.push(c.remoteAddr.toString()) } })
  return { r, events, listened, verified }
}

const identify = (remote: string, observed?: string, protocols: string[] = []): CustomEvent => new CustomEvent('peer:identify', {
  detail: { peerId: { toString: () => `peer-${remote}` }, protocols, observedAddr: observed == null ? undefined : multiaddr(observed), connection: { remoteAddr: multiaddr(remote), status: 'open' } }
})

describe('reachability', () => {
  it('unknown at first; reachable once a public address is confirmed', () => {
    assert.equal(parts().r.state(), 'unknown')
    assert.equal(parts([{ multiaddr: multiaddr('/ip4/10.0.0.2/tcp/4090'), verified: true }]).r.state(), 'unknown', 'a private address says nothing')
    assert.equal(parts([{ multiaddr: multiaddr('/ip4/11.77.1.2/tcp/4090'), verified: false }]).r.state(), 'unknown', 'not confirmed yet')
    assert.equal(parts([{ multiaddr: multiaddr('/ip4/11.77.1.2/tcp/4090'), verified: true }]).r.state(), 'reachable')
  })

  it('unreachable when a public peer sees it at a public IP not its own; then a relay slot is asked for, once', async () => {
    const { r, events, listened } = parts()
    r.start()
    try {
      events.dispatchEvent(identify('/ip4/10.0.0.9/tcp/4090', '/ip4/11.77.1.11/tcp/5555'))
      assert.equal(r.state(), 'unknown', 'a private peer says nothing')
      events.dispatchEvent(identify('/ip4/11.77.1.1/tcp/4090/p2p/12D3KooWECDtH8SELx8Ztv9sSnjarqgNvdkRaAZR8kSc58FwqWZu/p2p-circuit', '/ip4/11.77.1.11/tcp/5555'))
      assert.equal(r.state(), 'unknown', 'a relayed connection says nothing')
      events.dispatchEvent(identify('/ip4/11.77.1.1/tcp/4090', '/ip4/10.0.0.2/tcp/5555'))
      assert.equal(r.state(), 'unknown', 'seen at a private address')
      events.dispatchEvent(identify('/ip4/11.77.1.1/tcp/4090', '/ip4/11.77.1.11/tcp/5555'))
      assert.equal(r.state(), 'unreachable')
      events.dispatchEvent(identify('/ip4/11.77.1.2/tcp/4090', '/ip4/11.77.1.11/tcp/6666'))
      assert.deepEqual(listened, [['/p2p-circuit']], 'one relay slot asked for')
      assert.equal(r.sample().natSeenBy, 2)
    } finally {
      r.stop()
    }
  })

  it('asks a public peer that speaks AutoNAT to dial it back while no public address is confirmed', async () => {
    const { r, events, verified } = parts([{ multiaddr: multiaddr('/ip4/11.77.1.2/tcp/4090'), verified: false }])
    r.start()
    try {
      events.dispatchEvent(identify('/ip4/11.77.1.1/tcp/4090', undefined, ['/umesh/x/autonat/1.0.0']))
      events.dispatchEvent(identify('/ip4/11.77.1.3/tcp/4090', undefined, ['/other/1.0.0']))
      await new Promise(resolve => setTimeout(resolve, 1_200))
      assert.deepEqual(verified, ['/ip4/11.77.1.1/tcp/4090'])
    } finally {
      r.stop()
    }
  })
})
