import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parse } from '../../src/cli/args.js'
import { defaults } from '../../src/config/index.js'
import { diffConfig } from '../../src/daemon/reload.js'
import { Backoff } from '../../src/discovery/backoff.js'
import { meshGater } from '../../src/network/gater.js'
import { dhtProtocol, mdnsServiceTag } from '../../src/network/protocol-ids.js'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { MultiaddrConnection } from '@libp2p/interface'

const PEER = '12D3KooWECDtH8SELx8Ztv9sSnjarqgNvdkRaAZR8kSc58FwqWZu'

describe('config reload diff', () => {
  it('separates live options from those needing a restart', () => {
    const a = defaults()
    const b = { ...defaults(), denyPeers: [PEER], maxConnections: 7, listen: ['/ip4/127.0.0.1/tcp/1'], network: 'other' }
    const outcome = diffConfig(a, b)
    assert.deepEqual(outcome.applied.sort(), ['denyPeers', 'maxConnections'])
    assert.deepEqual(outcome.restartNeeded.sort(), ['listen', 'network'])
    assert.deepEqual(diffConfig(a, defaults()), { applied: [], restartNeeded: [] })
  })
})

describe('cli flags', () => {
  it('maps schema flags to config keys, splitting comma lists and --no- booleans', () => {
    const p = parse('node', ['--listen', '/ip4/127.0.0.1/tcp/1,/ip4/127.0.0.1/tcp/2', '--listen', '/ip4/127.0.0.1/tcp/3', '--no-mdns', '--max-connections', '9', '--config', 'x.json'], { config: { type: 'string' } }, true)
    assert.deepEqual(p.node.listen, ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2', '/ip4/127.0.0.1/tcp/3'])
    assert.equal(p.node.mdns, false)
    assert.equal(p.node.maxConnections, '9')
    assert.equal(p.own.config, 'x.json')
  })

  it('rejects unknown flags and contradictions as usage errors (exit 2)', () => {
    assert.throws(() => parse('node', ['--lisen', 'x'], {}, true), (err: any) => err.name === 'UsageError' && err.exitCode === 2 && /--lisen/.test(err.message) && /umesh node --help/.test(err.message))
    assert.throws(() => parse('node', ['--mdns', '--no-mdns'], {}, true), (err: any) => err.name === 'UsageError' && /contradict/.test(err.message))
  })
})

describe('backoff', () => {
  it('doubles the wait per failure up to the cap, and resets on success', () => {
    let now = 0
    const b = new Backoff({ baseMs: 100, maxMs: 1000, now: () => now })
    assert.equal(b.ready('p'), true)
    assert.deepEqual([b.fail('p'), b.fail('p'), b.fail('p'), b.fail('p'), b.fail('p')], [100, 200, 400, 800, 1000])
    assert.equal(b.ready('p'), false)
    now += 1000
    assert.equal(b.ready('p'), true)
    b.succeed('p')
    assert.equal(b.fail('p'), 100)
  })
})

describe('connection gater', () => {
  const conn = (ip: string): MultiaddrConnection => ({ remoteAddr: multiaddr(`/ip4/${ip}/tcp/1234`) }) as unknown as MultiaddrConnection

  it('denies listed peers in and out, and follows a changed list', () => {
    const gater = meshGater({ denyPeers: new Set([PEER]), maxInboundPerIp: 2 })
    const peer = peerIdFromString(PEER)
    assert.equal(gater.denyDialPeer?.(peer), true)
    assert.equal(gater.denyInboundEncryptedConnection?.(peer, conn('127.0.0.1')), true)
    gater.settings.denyPeers = new Set()
    assert.equal(gater.denyDialPeer?.(peer), false)
  })

  it('caps inbound connections per IP', () => {
    const gater = meshGater({ denyPeers: new Set(), maxInboundPerIp: 2 })
    const open = new Map([['10.0.0.1', 2], ['10.0.0.2', 1]])
    gater.countInbound = ip => open.get(ip) ?? 0
    assert.equal(gater.denyInboundConnection?.(conn('10.0.0.1')), true)
    assert.equal(gater.denyInboundConnection?.(conn('10.0.0.2')), false)
  })
})

describe('protocol ids', () => {
  it('carry the network name, and distinct networks get distinct mDNS tags', () => {
    assert.equal(dhtProtocol('lab'), '/umesh/lab/kad/1.0.0')
    assert.equal(mdnsServiceTag('lab'), '_umesh-lab._udp.local')
    const tags = ['fleet.a', 'fleet_a', 'fleet-a'].map(mdnsServiceTag)
    assert.equal(new Set(tags).size, 3, tags.join(' '))
    assert.ok(tags.every(t => /^_umesh-[a-z0-9-]+\._udp\.local$/.test(t)))
  })
})
