/**
 * Fewer, larger socket reads while data flows: a TCP transport whose
 * connections, after a small read while at least `flowBytes` arrived within
 * `holdMs * 2`, stop reading for `holdMs`, so the kernel gathers what
 * arrives meanwhile into one read.
 *
 * Over a slow or shaped link every packet (1.4-3 KB) is a read of its own,
 * and each read travels the whole stream stack (an event per layer, Noise's
 * and Yamux's decoders), which costs more CPU than the bytes themselves.
 * Only a connection receiving a flow is held: a lone request or answer, and
 * the trickle of window updates and requests a sender gets back, are not
 * delayed (holding those stalls the sender); within a flow, data waits at
 * most `holdMs` more.
 *
 * Nothing about the bytes changes: the same socket, the same order, the same
 * end and errors; encryption and multiplexing above are untouched. libp2p's
 * own pause (backpressure) is kept: a hold never resumes a socket libp2p
 * paused, and libp2p's resume waits for a hold to end.
 */
import type { Transport, Upgrader } from '@libp2p/interface'
import type { Socket } from 'node:net'

export interface PacedReadsInit {
  /** how long a held socket stops reading; 0 turns pacing off */
  holdMs: number
  /** reads of at least this many bytes are not followed by a hold (default 16 KiB) */
  smallBytes?: number
  /** a flow: at least this many bytes within `holdMs * 2` (default 8 KiB) */
  flowBytes?: number
}

/** the part of @libp2p/tcp's connection this reads and wraps */
interface SocketConnection {
  socket?: Socket
  sendPause: () => void
  sendResume: () => void
}

/** makes one connection's socket pace its reads; returns false when it has no socket to pace */
export function paceReads (conn: SocketConnection, init: PacedReadsInit): boolean {
  const socket = conn.socket
  if (socket == null || init.holdMs <= 0) return false
  const { holdMs } = init
  const smallBytes = init.smallBytes ?? 16 * 1024
  const flowBytes = init.flowBytes ?? 8 * 1024
  let held = false
  let pausedByLibp2p = false
  let windowStart = -Infinity
  let windowBytes = 0
  let timer: NodeJS.Timeout | undefined
  const pause = conn.sendPause.bind(conn)
  const resume = conn.sendResume.bind(conn)
  conn.sendPause = () => {
    pausedByLibp2p = true
    pause()
  }
  conn.sendResume = () => {
    pausedByLibp2p = false
    if (!held) resume()
  }
  // registered after the connection's own listener: the read is delivered first
  socket.on('data', (buf: Buffer) => {
    const now = performance.now()
    if (now - windowStart > holdMs * 2) {
      windowStart = now
      windowBytes = 0
    }
    windowBytes += buf.byteLength
    if (held || windowBytes < flowBytes || buf.byteLength >= smallBytes) return
    held = true
    socket.pause()
    timer = setTimeout(() => {
      held = false
      timer = undefined
      if (!pausedByLibp2p && !socket.destroyed) socket.resume()
    }, holdMs)
  })
  socket.once('close', () => { clearTimeout(timer) })
  return true
}

function pacingUpgrader (upgrader: Upgrader, init: PacedReadsInit): Upgrader {
  return new Proxy(upgrader, {
    get (target, property, receiver) {
      if (property === 'upgradeInbound' || property === 'upgradeOutbound') {
        return async (maConn: any, options: any) => {
          paceReads(maConn, init)
          return await target[property](maConn, options)
        }
      }
      const value = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}

/** wraps a TCP transport factory (`tcp()`) so its connections pace their reads; holdMs 0 returns it unchanged */
export function pacedReads<C> (factory: (components: C) => Transport, init: PacedReadsInit): (components: C) => Transport {
  if (init.holdMs <= 0) return factory
  return (components: C) => {
    const inner = factory(components)
    // the wrapper inherits everything else (filters, symbols, tag) from the transport
    const wrapper: Transport = Object.create(inner)
    wrapper.dial = async (ma, options) => await inner.dial(ma, { ...options, upgrader: pacingUpgrader(options.upgrader, init) })
    wrapper.createListener = (options) => inner.createListener({ ...options, upgrader: pacingUpgrader(options.upgrader, init) })
    return wrapper
  }
}
