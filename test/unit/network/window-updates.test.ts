/**
 * Window updates at half the window: a real libp2p pair (TCP, Noise, Yamux)
 * moving 8 MiB each way between a node whose muxer is wrapped and a stock
 * node, with every window update frame each muxer sends counted.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { windowUpdatesAtHalf } from '../../../src/network/window-updates.js'
import { pseudoRandomBytes } from '../../../src/util/pseudo-random.js'
import { handleHash, sendForHash } from '../../helpers/hash-stream.js'
import type { Libp2p, StreamMuxerFactory } from '@libp2p/interface'

/** Yamux's frame type of a window update (frame.js: Data 0, WindowUpdate 1) */
const WINDOW_UPDATE = 1

/** yamux() whose muxers count the window update frames they send, flags or not */
function countingYamux (count: { updates: number, withFlags: number }): (components: any) => StreamMuxerFactory {
  return () => {
    const factory = yamux()()
    const create = factory.createStreamMuxer.bind(factory)
    factory.createStreamMuxer = (maConn) => {
      const muxer = create(maConn) as any
      const sendFrame = muxer.sendFrame
      // streams bind the muxer's sendFrame when they are made, so this sees every frame
      muxer.sendFrame = (header: { type: number, flag: number }, body?: unknown) => {
        if (header.type === WINDOW_UPDATE) {
          count.updates++
          if (header.flag !== 0) count.withFlags++
        }
        return sendFrame.call(muxer, header, body)
      }
      return muxer
    }
    return factory
  }
}

async function node (muxer: (components: any) => StreamMuxerFactory): Promise<Libp2p> {
  return await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [muxer] })
}

describe('windowUpdatesAtHalf', () => {
  it('a receiver sends a few window updates per MiB instead of one per frame, and every byte arrives both ways', async () => {
    const halfCount = { updates: 0, withFlags: 0 }
    const stockCount = { updates: 0, withFlags: 0 }
    const half = await node(windowUpdatesAtHalf(countingYamux(halfCount)))
    const stock = await node(countingYamux(stockCount))
    try {
      const data = pseudoRandomBytes(8 * 1024 * 1024, 7)
      const digest = createHash('sha256').update(data).digest('hex')
      for (const n of [half, stock]) await handleHash(n)
      // stock receives: one update per data frame it reads
      assert.equal(await sendForHash(half, stock, data), digest)
      // the wrapped node receives the same 8 MiB
      assert.equal(await sendForHash(stock, half, data), digest)
      // 8 MiB in frames of at most 256 KiB is at least 32 frames; the stock receiver answers each
      assert.ok(stockCount.updates >= 32, `stock receiver: ${stockCount.updates} window updates`)
      // at half the window: the window starts at 256 KiB and only grows, so at most one per 128 KiB
      // (64 for 8 MiB), and in practice far fewer than the stock receiver's
      assert.ok(halfCount.updates <= 64 + halfCount.withFlags, `wrapped receiver: ${halfCount.updates} window updates (${halfCount.withFlags} carrying flags)`)
      assert.ok(halfCount.updates * 2 < stockCount.updates, `wrapped ${halfCount.updates} against stock ${stockCount.updates}`)
    } finally {
      await half.stop()
      await stock.stop()
    }
  })

  it('refuses a muxer that is not the Yamux it fits, rather than run unchanged', () => {
    const notYamux = (): StreamMuxerFactory => ({ protocol: '/other/1', createStreamMuxer: () => ({}) as any })
    const factory = windowUpdatesAtHalf(notYamux)({})
    assert.throws(() => factory.createStreamMuxer({} as any), /no _newStream; windowUpdatesAtHalf fits @chainsafe\/libp2p-yamux 8 only/)
  })
})
