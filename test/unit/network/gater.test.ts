import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { meshGater } from '../../../src/network/gater.js'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { MultiaddrConnection } from '@libp2p/interface'

const PEER = '12D3KooWECDtH8SELx8Ztv9sSnjarqgNvdkRaAZR8kSc58FwqWZu'

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
