/**
 * Keeps the node connected to `targetPeers` peers of its network. libp2p 3
 * no longer dials what it discovers, so this does: peers announced by the
 * DHT, mDNS or the bootstrap list, and peers remembered in the persistent
 * peer store (so a restarted node finds its mesh without the bootstrap
 * node). While below target it also runs a DHT random walk to learn more.
 */
import { randomBytes } from 'node:crypto'
import { Backoff } from './backoff.js'
import type { Connection, Libp2p, Logger, PeerId, PeerInfo } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'

export interface PeerKeeperInit {
  node: Libp2p<{ dht: KadDHT }>
  targetPeers: number
  log: Logger
  /** may we dial this peer (deny-list, other network)? */
  allowed: (peer: PeerId) => boolean
  tickMs?: number
  maxParallelDials?: number
  dialTimeoutMs?: number
}

export class PeerKeeper {
  private targetPeers: number
  private readonly backoff = new Backoff({ baseMs: 2_000, maxMs: 5 * 60_000 })
  private readonly dialing = new Set<string>()
  private timer?: NodeJS.Timeout
  private walking = false
  private running = false
  private readonly onDiscovery = (evt: CustomEvent<PeerInfo>): void => {
    if (this.wantMore()) void this.dial(evt.detail.id)
  }

  /** a peer it was backing off from connected (either way): the network changed, so the others are worth a try now too */
  private lastReset = 0
  private readonly onConnect = (evt: CustomEvent<Connection>): void => {
    const key = evt.detail.remotePeer.toString()
    if (!this.backoff.failing(key) || Date.now() - this.lastReset < 5_000) return
    this.lastReset = Date.now()
    this.backoff.clear()
    void this.tick()
  }

  constructor (private readonly init: PeerKeeperInit) {
    this.targetPeers = init.targetPeers
  }

  setTarget (n: number): void {
    this.targetPeers = n
  }

  start (): void {
    this.running = true
    this.init.node.addEventListener('peer:discovery', this.onDiscovery)
    this.init.node.addEventListener('connection:open', this.onConnect)
    this.timer = setInterval(() => { void this.tick() }, this.init.tickMs ?? 3_000)
    this.timer.unref()
    void this.tick()
  }

  stop (): void {
    this.running = false
    this.init.node.removeEventListener('peer:discovery', this.onDiscovery)
    this.init.node.removeEventListener('connection:open', this.onConnect)
    clearInterval(this.timer)
  }

  private connectedCount (): number {
    return this.init.node.getPeers().length
  }

  private wantMore (): boolean {
    return this.running && this.connectedCount() + this.dialing.size < this.targetPeers
  }

  /** dial remembered peers while below target; walk the DHT for more */
  async tick (): Promise<void> {
    if (!this.wantMore()) return
    this.backoff.prune()
    const connected = new Set(this.init.node.getPeers().map(p => p.toString()))
    const self = this.init.node.peerId.toString()
    const known = await this.init.node.peerStore.all({
      filters: [p => p.addresses.length > 0 && !connected.has(p.id.toString()) && p.id.toString() !== self]
    })
    const budget = Math.min(this.init.maxParallelDials ?? 8, this.targetPeers - this.connectedCount() - this.dialing.size)
    for (const peer of known.filter(p => this.backoff.ready(p.id.toString())).slice(0, Math.max(0, budget))) {
      void this.dial(peer.id)
    }
    if (this.wantMore()) void this.randomWalk()
  }

  private async dial (peer: PeerId): Promise<void> {
    const key = peer.toString()
    if (this.dialing.has(key) || !this.backoff.ready(key) || !this.init.allowed(peer) ||
      peer.equals(this.init.node.peerId) || this.init.node.getConnections(peer).length > 0) return
    this.dialing.add(key)
    try {
      await this.init.node.dial(peer, { signal: AbortSignal.timeout(this.init.dialTimeoutMs ?? 5_000) })
      this.backoff.succeed(key)
    } catch (err) {
      this.backoff.fail(key)
      this.init.log.trace('could not dial %p - %e', peer, err)
    } finally {
      this.dialing.delete(key)
    }
  }

  private async randomWalk (): Promise<void> {
    if (this.walking || this.connectedCount() === 0) return
    this.walking = true
    try {
      // each peer met on the way is announced as peer:discovery and dialled above
      for await (const _ of this.init.node.services.dht.getClosestPeers(randomBytes(32), { signal: AbortSignal.timeout(10_000) })) {
        if (!this.wantMore()) break
      }
    } catch (err) {
      this.init.log.trace('random walk ended - %e', err)
    } finally {
      this.walking = false
    }
  }
}
