/**
 * The stream guard in front of identify, ping and the DHT: the frame
 * watcher's verdicts on prefixes and lengths split across reads, and a real
 * stream pair whose reader gets honest frames and never a byte past a
 * broken limit.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { lpStream, streamPair } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { FrameWatcher, builtinProtocolLimits, guardStream, guardedMetrics, DHT_MAX_MESSAGE_BYTES, IDENTIFY_MAX_MESSAGE_BYTES } from '../../../src/network/stream-guard.js'
import { varint } from '../../helpers/floods.js'

const frame = (n: number): Uint8Array => Uint8Array.from([...varint(n), ...new Uint8Array(n).fill(7)])

describe('stream guard', () => {
  it('passes frames up to the cap, split anywhere, in Uint8Array or Uint8ArrayList', () => {
    const w = new FrameWatcher({ maxMessageBytes: 300 })
    const bytes = Uint8Array.from([...frame(300), ...frame(0), ...frame(128), ...frame(1)])
    for (let i = 0; i < bytes.length; i += 7) {
      const piece = bytes.subarray(i, i + 7)
      assert.equal(w.push(i % 2 === 0 ? piece : new Uint8ArrayList(piece.subarray(0, 3), piece.subarray(3))), undefined)
    }
  })

  it('refuses a prefix longer than the cap needs, at its first extra byte', () => {
    const w = new FrameWatcher({ maxMessageBytes: 300 }) // two prefix bytes
    assert.equal(w.push(Uint8Array.from([0x80, 0x80])), undefined)
    assert.match(w.push(Uint8Array.from([0x80])) ?? '', /length prefix longer than 2 bytes/)
  })

  it('refuses a length over the cap as soon as the prefix ends', () => {
    const w = new FrameWatcher({ maxMessageBytes: DHT_MAX_MESSAGE_BYTES })
    assert.equal(w.push(Uint8Array.from([...frame(5), 0x80, 0x80, 0x80, 0x80])), undefined)
    assert.match(w.push(Uint8Array.from([0x80])) ?? '', /length prefix longer than 4 bytes/)
    const v = new FrameWatcher({ maxMessageBytes: IDENTIFY_MAX_MESSAGE_BYTES })
    assert.match(v.push(varint(IDENTIFY_MAX_MESSAGE_BYTES + 1)) ?? '', /a message of 8193 bytes, more than the 8192 accepted/)
  })

  it('counts an unframed stream against its total', () => {
    const ping = builtinProtocolLimits('umesh/x', '/umesh/x/kad/1.0.0').find(([p]) => p === '/umesh/x/ping/1.0.0')?.[1]
    assert.ok(ping != null)
    const w = new FrameWatcher(ping)
    for (let i = 0; i < 64; i++) assert.equal(w.push(new Uint8Array(32)), undefined)
    assert.match(w.push(new Uint8Array(1)) ?? '', /more than 2048 bytes on one stream/)
  })

  it('guards the streams of the protocols named, through the Metrics libp2p hands each stream to', async () => {
    const tracked: string[] = []
    const metrics = guardedMetrics({ trackProtocolStream: (s: any) => { tracked.push(s.protocol) } } as any, [['/guarded/1.0.0', { maxMessageBytes: 16 }]])
    const [a, b] = await streamPair()
    const [c, d] = await streamPair()
    b.protocol = '/guarded/1.0.0'
    d.protocol = '/other/1.0.0'
    metrics.trackProtocolStream(b)
    metrics.trackProtocolStream(d)
    assert.deepEqual(tracked, ['/guarded/1.0.0', '/other/1.0.0'], 'the inner metrics still see every stream')
    const readB = lpStream(b).read({ signal: AbortSignal.timeout(2_000) })
    const readD = lpStream(d).read({ signal: AbortSignal.timeout(2_000) })
    a.send(frame(17))
    c.send(frame(17))
    await assert.rejects(readB, /more than the 16 accepted/)
    assert.equal((await readD).byteLength, 17)
  })

  it('on a real stream: honest frames are read, the stream is aborted at the first broken limit and the reader gets nothing of it', async () => {
    const [a, b] = await streamPair()
    guardStream(b, { maxMessageBytes: 1024 })
    const reader = lpStream(b, { maxDataLength: 1 << 20 })
    a.send(frame(1024))
    assert.equal((await reader.read({ signal: AbortSignal.timeout(2_000) })).byteLength, 1024)
    a.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff]))
    await assert.rejects(reader.read({ signal: AbortSignal.timeout(2_000) }), (err: Error) => err.name === 'StreamLimitError' && /length prefix longer than 2 bytes/.test(err.message))
    assert.equal(b.status, 'aborted')
  })
})
