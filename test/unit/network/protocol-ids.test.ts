import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { dhtProtocol, mdnsServiceTag } from '../../../src/network/protocol-ids.js'

describe('protocol ids', () => {
  it('carry the network name, and distinct networks get distinct mDNS tags', () => {
    assert.equal(dhtProtocol('lab'), '/umesh/lab/kad/1.0.0')
    assert.equal(mdnsServiceTag('lab'), '_umesh-lab._udp.local')
    const tags = ['fleet.a', 'fleet_a', 'fleet-a'].map(mdnsServiceTag)
    assert.equal(new Set(tags).size, 3, tags.join(' '))
    assert.ok(tags.every(t => /^_umesh-[a-z0-9-]+\._udp\.local$/.test(t)))
  })
})
