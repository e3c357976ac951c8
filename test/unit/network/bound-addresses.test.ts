import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { ownAddresses } from '../../../src/network/bound-addresses.js'

describe('ownAddresses', () => {
  it('lists the advertised addresses, then the bound ones libp2p does not advertise yet (a public IP before AutoNAT)', async () => {
    const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const id = peerId.toString()
    const advertised = [multiaddr(`/ip4/10.0.0.2/tcp/4001/p2p/${id}`)]
    const bound = [multiaddr('/ip4/10.0.0.2/tcp/4001'), multiaddr('/ip4/203.0.113.7/tcp/4001')]
    assert.deepEqual(ownAddresses({ peerId, getMultiaddrs: () => advertised, services: { addresses: { bound: () => bound } } }),
      [`/ip4/10.0.0.2/tcp/4001/p2p/${id}`, `/ip4/203.0.113.7/tcp/4001/p2p/${id}`])
    // nothing advertised at all: the bound address is still there for the CLI
    assert.deepEqual(ownAddresses({ peerId, getMultiaddrs: () => [], services: { addresses: { bound: () => [bound[1]] } } }), [`/ip4/203.0.113.7/tcp/4001/p2p/${id}`])
    // a node without the service (the throw-away client) lists what libp2p advertises
    assert.deepEqual(ownAddresses({ peerId, getMultiaddrs: () => advertised, services: {} }), [`/ip4/10.0.0.2/tcp/4001/p2p/${id}`])
  })
})
