/**
 * Yamux window updates when half the window is used, not after every frame.
 *
 * `@chainsafe/libp2p-yamux` 8 answers every data frame a stream receives with
 * a window update frame: each gossip message, each DHT answer, each part of a
 * chunk costs the receiver a second frame to encrypt and write, and the
 * sender a read to decrypt and dispatch. Yamux leaves the timing of window
 * updates to the receiver (as HTTP/2 does); go-yamux and rust-yamux send one
 * once at least half of the stream's receive window has been used. This does
 * the same for the streams of the muxers it wraps: a stream that has
 * consumed less than half its window sends nothing; its sender still has more
 * than half the window to write into, so it never waits on a withheld update.
 *
 * Untouched: the frames and their format (a peer with stock Yamux sees only
 * fewer, larger updates), the SYN/ACK an update may carry (a stream that
 * still owes its peer a flag sends it as before), a paused stream (libp2p's
 * backpressure; its resume sends as before once half is owed), and Yamux's
 * window growth (it doubles a window used within four round trips of the
 * last update; the last update is now half a window ago, as in go-yamux).
 */
import { StreamState } from '@chainsafe/libp2p-yamux/stream'
import type { YamuxStream } from '@chainsafe/libp2p-yamux/stream'
import type { StreamMuxer, StreamMuxerFactory } from '@libp2p/interface'

/** the parts of YamuxStream this reads: private in its type, plain fields at run time */
interface StreamWindow {
  state: StreamState
  recvWindow: number
  recvWindowCapacity: number
  sendWindowUpdate: () => void
}

/** makes one Yamux stream send window updates only once half its window is owed; false when it is not one */
function updateWindowAtHalf (stream: YamuxStream): boolean {
  const s = stream as unknown as StreamWindow
  if (typeof s.sendWindowUpdate !== 'function' || typeof s.recvWindow !== 'number' || typeof s.recvWindowCapacity !== 'number') return false
  const send = s.sendWindowUpdate.bind(stream)
  s.sendWindowUpdate = () => {
    // Init and SYNReceived owe a flag, Paused records its epoch: those go on as before
    if (s.state === StreamState.Established && s.recvWindow - s.recvWindowCapacity < s.recvWindow / 2) return
    send()
  }
  return true
}

/** the muxer's stream constructor: YamuxMuxer._newStream, called for outbound and inbound streams alike */
interface NewStream {
  _newStream?: (...args: unknown[]) => YamuxStream
}

/**
 * wraps a Yamux muxer factory (`yamux()`) so every stream of its muxers sends
 * window updates at half the window; throws when the muxer is not the Yamux
 * it was written against, rather than run unchanged without saying so
 */
export function windowUpdatesAtHalf<C> (factory: (components: C) => StreamMuxerFactory): (components: C) => StreamMuxerFactory {
  return (components: C) => {
    const inner = factory(components)
    const wrapper: StreamMuxerFactory = Object.create(inner)
    wrapper.createStreamMuxer = (maConn) => {
      const muxer: StreamMuxer & NewStream = inner.createStreamMuxer(maConn)
      const newStream = muxer._newStream
      if (typeof newStream !== 'function') throw new Error(`${inner.protocol}: the muxer has no _newStream; windowUpdatesAtHalf fits @chainsafe/libp2p-yamux 8 only`)
      muxer._newStream = (...args: unknown[]) => {
        const stream = newStream.apply(muxer, args)
        if (!updateWindowAtHalf(stream)) throw new Error(`${inner.protocol}: a stream has no receive window fields; windowUpdatesAtHalf fits @chainsafe/libp2p-yamux 8 only`)
        return stream
      }
      return muxer
    }
    return wrapper
  }
}
