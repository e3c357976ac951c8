/**
 * The throw-away client's protocol list (src/network/client-node.ts): an
 * `ls` answer parsed; a refusal or malformed answer is an error. And the
 * list read from a real libp2p node over loopback.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { createClientNode, listProtocols, parseProtocolList, ProtocolListError } from '../../../src/network/client-node.js'

/** an `ls` answer as libp2p writes it: each id as a varint length and the id with a newline, then a newline */
function lsAnswer (protocols: string[]): Uint8Array {
  const parts: number[] = []
  for (const p of protocols) {
    const bytes = new TextEncoder().encode(`${p}\n`)
    let n = bytes.length
    while (n >= 0x80) { parts.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
    parts.push(n)
    parts.push(...bytes)
  }
  parts.push(0x0a)
  return Uint8Array.from(parts)
}

describe('parseProtocolList', () => {
  it('reads every protocol id of an ls answer, long ones included', () => {
    const ids = ['/umesh/lab-a/status/1.0.0', '/meshsub/1.1.0', `/long/${'x'.repeat(200)}/1.0.0`]
    assert.deepEqual(parseProtocolList(lsAnswer(ids)), ids)
    assert.deepEqual(parseProtocolList(lsAnswer([])), [])
  })

  it('na, a truncated answer or one without its end is an error', () => {
    assert.throws(() => parseProtocolList(new TextEncoder().encode('na\n')), ProtocolListError)
    const whole = lsAnswer(['/a/1.0.0', '/b/1.0.0'])
    assert.throws(() => parseProtocolList(whole.subarray(0, whole.length - 1)), /no end/)
    assert.throws(() => parseProtocolList(whole.subarray(0, 5)), /bad entry/)
    assert.throws(() => parseProtocolList(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff])), /bad length/)
    assert.throws(() => parseProtocolList(new Uint8Array(0)), /no end/)
  })
})

describe('listProtocols', () => {
  it('lists what a libp2p node on loopback handles, within the signal', async () => {
    const server = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { ping: ping({ protocolPrefix: 'umesh/lab-z' }) }
    })
    await server.handle('/umesh/lab-z/status/1.0.0', (stream) => { stream.abort(new Error('not here')) })
    const client = await createClientNode()
    try {
      const { peer, protocols } = await listProtocols(client, server.getMultiaddrs()[0], { signal: AbortSignal.timeout(5_000) })
      assert.ok(peer.equals(server.peerId))
      assert.ok(protocols.includes('/umesh/lab-z/status/1.0.0'), protocols.join(' '))
      assert.ok(protocols.includes('/umesh/lab-z/ping/1.0.0'), protocols.join(' '))
    } finally {
      await client.stop()
      await server.stop()
    }
  })
})
