/**
 * Keeps dialling the bootstrap peers, with backoff, until each is connected,
 * and again whenever one drops. libp2p's bootstrap module dials once and
 * never retries, which leaves a node alone forever if it starts before its
 * bootstrap node.
 *
 * The backoff stops at 15 s, and a connection that opens to a peer it was
 * backing off from (either way) means the network changed (a partition
 * healed, a link came back): every bootstrap peer not connected is tried
 * again at once. With 60 s and no such reset, the nodes of a healed
 * partition waited up to a minute for a timer before they met again
 * (partition-netns test: about 25 s of the 34 s from heal to converged).
 */
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { Backoff } from './backoff.js'
import type { Connection, Libp2p, Logger, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** the longest wait between two dials of an unreachable bootstrap peer */
export const DEFAULT_MAX_BACKOFF_MS = 15_000
/** a burst of connections (a healed partition) resets the backoff once */
const RESET_MIN_INTERVAL_MS = 5_000

interface BootstrapPeer {
  id: PeerId
  addr: Multiaddr
}

export interface BootstrapDialerInit {
  node: Libp2p
  list: string[]
  log: Logger
  baseMs?: number
  maxMs?: number
  dialTimeoutMs?: number
}

export class BootstrapDialer {
  private peers: BootstrapPeer[] = []
  private readonly backoff: Backoff
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private readonly dialing = new Set<string>()
  private running = false
  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peer = this.peers.find(p => p.id.equals(evt.detail))
    if (peer != null) this.schedule(peer, this.backoff.waitFor(peer.id.toString()))
  }

  private lastReset = 0
  private readonly onConnect = (evt: CustomEvent<Connection>): void => {
    const key = evt.detail.remotePeer.toString()
    if (!this.backoff.failing(key) || Date.now() - this.lastReset < RESET_MIN_INTERVAL_MS) return
    this.lastReset = Date.now()
    this.backoff.clear()
    this.init.log('%p is reachable again: trying every bootstrap peer now', evt.detail.remotePeer)
    for (const peer of this.peers) {
      const timer = this.timers.get(peer.id.toString())
      if (timer == null) continue
      clearTimeout(timer)
      this.timers.delete(peer.id.toString())
      this.schedule(peer, 0)
    }
  }

  constructor (private readonly init: BootstrapDialerInit) {
    this.backoff = new Backoff({ baseMs: init.baseMs ?? 1_000, maxMs: init.maxMs ?? DEFAULT_MAX_BACKOFF_MS })
    this.setList(init.list)
  }

  static parse (list: string[]): BootstrapPeer[] {
    return list.map(s => {
      const addr = multiaddr(s)
      const p2p = addr.getComponents().filter(c => c.name === 'p2p').pop()
      return { id: peerIdFromString(p2p?.value ?? ''), addr }
    })
  }

  setList (list: string[]): void {
    const self = this.init.node.peerId
    this.peers = BootstrapDialer.parse(list).filter(p => !p.id.equals(self))
    for (const [key, timer] of this.timers) {
      if (!this.peers.some(p => p.id.toString() === key)) {
        clearTimeout(timer)
        this.timers.delete(key)
      }
    }
    if (this.running) this.peers.forEach(p => { this.schedule(p, 0) })
  }

  get size (): number {
    return this.peers.length
  }

  connected (): number {
    return this.peers.filter(p => this.init.node.getConnections(p.id).length > 0).length
  }

  start (): void {
    this.running = true
    this.init.node.addEventListener('peer:disconnect', this.onDisconnect)
    this.init.node.addEventListener('connection:open', this.onConnect)
    this.peers.forEach(p => { this.schedule(p, 0) })
  }

  stop (): void {
    this.running = false
    this.init.node.removeEventListener('peer:disconnect', this.onDisconnect)
    this.init.node.removeEventListener('connection:open', this.onConnect)
    this.timers.forEach(t => { clearTimeout(t) })
    this.timers.clear()
  }

  /** resolves when at least one bootstrap peer is connected, or after `ms` */
  async waitForOne (ms: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + ms
    while (Date.now() < deadline && signal?.aborted !== true) {
      if (this.connected() > 0) return true
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    return this.connected() > 0
  }

  private schedule (peer: BootstrapPeer, delay: number): void {
    const key = peer.id.toString()
    if (!this.running || this.timers.has(key) || this.dialing.has(key)) return
    const timer = setTimeout(() => {
      this.timers.delete(key)
      void this.dial(peer)
    }, delay)
    timer.unref()
    this.timers.set(key, timer)
  }

  private async dial (peer: BootstrapPeer): Promise<void> {
    const key = peer.id.toString()
    if (!this.running || this.init.node.getConnections(peer.id).length > 0) return
    this.dialing.add(key)
    try {
      await this.init.node.peerStore.merge(peer.id, { multiaddrs: [peer.addr.decapsulateCode(421)] })
      await this.init.node.dial(peer.addr, { signal: AbortSignal.timeout(this.init.dialTimeoutMs ?? 5_000) })
      this.backoff.succeed(key)
      this.init.log('connected to bootstrap peer %p', peer.id)
    } catch (err) {
      const wait = this.backoff.fail(key)
      this.init.log('bootstrap peer %p not reachable, next try in %d ms - %e', peer.id, wait, err)
      this.dialing.delete(key)
      this.schedule(peer, wait)
      return
    }
    this.dialing.delete(key)
  }
}
