/**
 * Keeps the node connected to `targetPeers` peers of its network. libp2p 3
 * no longer dials what it discovers, so this does: peers announced by the
 * DHT, mDNS or the bootstrap list, and peers remembered in the persistent
 * peer store (so a restarted node finds its mesh without the bootstrap
 * node). While below target it also runs a DHT random walk to learn more.
 *
 * A mesh smaller than the target never reaches it: every node stays below
 * target for good. A walk whose answers name no peer to dial (all connected
 * already, or waiting out a dial backoff) says the mesh has nobody else to
 * offer, so the next walk waits, 30 s, then twice as long each time up to
 * 10 min; a walk that names a new peer, or a peer that disconnects, brings
 * walks back at once. Without this, 10 idle daemons on one machine (target
 * 12) walked the DHT without pause: 52 % of a core together over the last 2
 * of 4 minutes and 190 % in the first 30 s, against 21 % and 62 % with walks
 * that back off (bench:idle).
 */
import { randomBytes } from 'node:crypto'
import { Backoff } from './backoff.js'
import type { AbortOptions, Connection, Libp2p, Logger, PeerId, PeerInfo } from '@libp2p/interface'
import type { KadDHT, SingleKadDHT } from '@libp2p/kad-dht'

/** how often a node below its target logs what discovery did */
const SUMMARY_EVERY_MS = 15_000
/** how often it logs when it neither dialled nor walked since the last line */
const QUIET_SUMMARY_EVERY_MS = 10 * 60_000
/**
 * A random walk's whole time. It was 10 s: on a loaded machine (50 daemons
 * on 2 cores, load 20-60) a new node's DHT first waits for its routing table
 * (kad-dht pings a contact before adding it: 4 s seen) and for its initial
 * self query, and the bootstrap node then took over 10 s to answer: every
 * walk ended before its one answer, and nodes that knew only the bootstrap
 * node stayed at 1-2 connections for minutes. A late answer names peers all
 * the same, and fewer walks given up means fewer asked again of a busy node.
 */
export const DEFAULT_WALK_TIMEOUT_MS = 30_000
/** the wait after the first walk that named no peer to dial; it doubles with each such walk */
export const WALK_BACKOFF_BASE_MS = 30_000
/** the longest wait between walks that name no peer to dial */
export const WALK_BACKOFF_MAX_MS = 10 * 60_000
/** dials started per minute at most, so a node below target never storms (12 peers a few times over) */
export const DEFAULT_MAX_DIALS_PER_MINUTE = 60
/**
 * A dial's whole time (connection, Noise, Yamux). It was 5 s: with 50
 * daemons on 2 cores (load 40) 177 of the 233 dials of the nodes started
 * last ran out of it (95 TimeoutError, 82 EncryptionFailedError: the Noise
 * handshake cut off), so peers a walk had named were never met. QUIC's own
 * 3 s idle timeout still leaves TCP its turn (create-node.ts).
 */
export const DEFAULT_DIAL_TIMEOUT_MS = 15_000

/**
 * How often, at most, a node whose DHT routing table is empty offers it the
 * DHT peers it is connected to. kad-dht adds a peer that connects only after
 * pinging it, once: on a loaded machine (50 daemons on 2 cores) those pings
 * ran out of time and a node sat for minutes with 3 connections and an empty
 * table, and its walks, which start from the table, asked nobody.
 */
export const REFILL_EVERY_MS = 60_000

export interface PeerKeeperInit {
  node: Libp2p<{ dht: KadDHT }>
  targetPeers: number
  log: Logger
  /** whether a connected peer speaks the DHT (from identify): those are offered to an empty routing table */
  speaksDht?: (peer: PeerId) => boolean
  /** may we dial this peer (deny-list, other network)? */
  allowed: (peer: PeerId) => boolean
  tickMs?: number
  maxParallelDials?: number
  /** a dial's whole time (default 15 s) */
  dialTimeoutMs?: number
  /** a random walk's whole time (default 30 s) */
  walkTimeoutMs?: number
  /** dials started in any minute, at most (default 60) */
  maxDialsPerMinute?: number
}

export class PeerKeeper {
  private targetPeers: number
  private readonly backoff = new Backoff({ baseMs: 2_000, maxMs: 5 * 60_000 })
  private readonly dialing = new Set<string>()
  private timer?: NodeJS.Timeout
  private walking = false
  private running = false
  /** what dials and walks did since the last summary, for the log line that explains a node short of peers */
  private readonly outcomes = new Map<string, number>()
  /** the last message of each kind of failed dial since the last summary, so the line says why dials fail */
  private readonly lastMessages = new Map<string, string>()
  private walks = { run: 0, found: 0 }
  /** the wait after the last walk that named no peer to dial (0: walk at every tick), and when the next walk may start */
  private walkWait = 0
  private nextWalkAt = 0
  private lastSummary = 0
  /** when the dials of the last minute started */
  private dialStarts: number[] = []
  /** when connected peers were last offered to an empty routing table */
  private lastRefill = -Infinity
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

  /** a peer left: the mesh changed, so walk again at the next tick */
  private readonly onDisconnect = (): void => {
    this.walkWait = 0
    this.nextWalkAt = 0
  }

  constructor (private readonly init: PeerKeeperInit) {
    this.targetPeers = init.targetPeers
  }

  setTarget (n: number): void {
    if (n > this.targetPeers) this.onDisconnect()
    this.targetPeers = n
  }

  /** ms until the next random walk may start (0: at the next tick while below target) */
  get walkDelay (): number {
    return Math.max(0, this.nextWalkAt - Date.now())
  }

  start (): void {
    this.running = true
    this.init.node.addEventListener('peer:discovery', this.onDiscovery)
    this.init.node.addEventListener('connection:open', this.onConnect)
    this.init.node.addEventListener('peer:disconnect', this.onDisconnect)
    this.timer = setInterval(() => { void this.tick() }, this.init.tickMs ?? 3_000)
    this.timer.unref()
    void this.tick()
  }

  stop (): void {
    this.running = false
    this.init.node.removeEventListener('peer:discovery', this.onDiscovery)
    this.init.node.removeEventListener('connection:open', this.onConnect)
    this.init.node.removeEventListener('peer:disconnect', this.onDisconnect)
    clearInterval(this.timer)
  }

  private connectedCount (): number {
    return this.init.node.getPeers().length
  }

  private wantMore (): boolean {
    return this.running && this.connectedCount() + this.dialing.size < this.targetPeers
  }

  /** dial remembered peers while below target; walk the DHT for more. Never throws: the peer store may close under it at stop */
  async tick (): Promise<void> {
    try {
      await this.dialKnown()
    } catch (err) {
      if (this.running) this.init.log.error('could not read the peer store to dial known peers - %e', err)
    }
  }

  private async dialKnown (): Promise<void> {
    if (!this.wantMore()) return
    this.backoff.prune()
    // a node that did nothing since (a mesh smaller than the target, its walks waiting) says so every 10 min, not every 15 s
    const quiet = this.outcomes.size === 0 && this.walks.run === 0
    if (Date.now() - this.lastSummary >= (quiet ? QUIET_SUMMARY_EVERY_MS : SUMMARY_EVERY_MS)) this.summarize()
    const connected = new Set(this.init.node.getPeers().map(p => p.toString()))
    const self = this.init.node.peerId.toString()
    const known = await this.init.node.peerStore.all({
      filters: [p => p.addresses.length > 0 && !connected.has(p.id.toString()) && p.id.toString() !== self]
    })
    const budget = Math.min(this.init.maxParallelDials ?? 8, this.targetPeers - this.connectedCount() - this.dialing.size)
    for (const peer of known.filter(p => this.backoff.ready(p.id.toString())).slice(0, Math.max(0, budget))) {
      void this.dial(peer.id)
    }
    if (this.wantMore() && Date.now() >= this.nextWalkAt) void this.randomWalk()
  }

  private async dial (peer: PeerId): Promise<void> {
    const key = peer.toString()
    if (this.dialing.has(key) || !this.backoff.ready(key) || !this.init.allowed(peer) ||
      peer.equals(this.init.node.peerId) || this.init.node.getConnections(peer).length > 0) return
    const now = Date.now()
    this.dialStarts = this.dialStarts.filter(t => now - t < 60_000)
    if (this.dialStarts.length >= (this.init.maxDialsPerMinute ?? DEFAULT_MAX_DIALS_PER_MINUTE)) {
      this.count('held back (dials per minute)')
      return
    }
    this.dialStarts.push(now)
    this.dialing.add(key)
    try {
      await this.init.node.dial(peer, { signal: AbortSignal.timeout(this.init.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS) })
      this.backoff.succeed(key)
      this.count('ok')
    } catch (err) {
      this.backoff.fail(key)
      const name = (err as Error).name ?? 'Error'
      this.count(name)
      this.lastMessages.set(name, String((err as Error).message ?? '').slice(0, 200))
      this.init.log.trace('could not dial %p - %e', peer, err)
    } finally {
      this.dialing.delete(key)
    }
  }

  private count (outcome: string): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1)
  }

  /** one line while below target: how many peers it knows, how many wait out a backoff and for how long, how its dials ended */
  private summarize (): void {
    this.lastSummary = Date.now()
    const dials = [...this.outcomes].map(([k, v]) => {
      const message = this.lastMessages.get(k)
      return message != null && message !== '' ? `${v} ${k} (last: ${message})` : `${v} ${k}`
    }).join(', ')
    this.init.log('below target: %d of %d connected, %d dialling, %d in the DHT routing table, %d peers backing off (longest wait %d s); dials %s; walks %d, peers named in their answers %d; next walk in %d s',
      this.connectedCount(), this.targetPeers, this.dialing.size, (this.init.node.services.dht as Partial<SingleKadDHT>).routingTable?.size ?? 0, this.backoff.size, Math.round(this.backoff.longestWait() / 1000),
      dials === '' ? 'none' : dials, this.walks.run, this.walks.found, Math.round(this.walkDelay / 1000))
    this.outcomes.clear()
    this.lastMessages.clear()
    this.walks = { run: 0, found: 0 }
  }

  /**
   * An empty routing table while connected: offers it the connected peers that
   * speak the DHT (kad-dht pings each before adding it), at most every
   * REFILL_EVERY_MS, so the next walk has someone to ask.
   */
  private async refillRoutingTable (): Promise<void> {
    // kad-dht's routing table has add() (what it calls itself for a peer that connects), though its
    // published type lists only size: without it (another kad-dht) nothing is offered
    const table = (this.init.node.services.dht as Partial<SingleKadDHT>).routingTable as { size: number, add?: (peer: PeerId, options?: AbortOptions) => Promise<void> } | undefined
    const speaksDht = this.init.speaksDht
    if (table?.add == null || speaksDht == null || table.size > 0 || Date.now() - this.lastRefill < REFILL_EVERY_MS) return
    this.lastRefill = Date.now()
    const peers = this.init.node.getPeers()
    const speaking = peers.filter(speaksDht)
    if (speaking.length === 0) return
    const add = table.add.bind(table)
    const added = await Promise.allSettled(speaking.map(async peer => { await add(peer, { signal: AbortSignal.timeout(this.init.walkTimeoutMs ?? DEFAULT_WALK_TIMEOUT_MS) }) }))
    this.init.log('the DHT routing table was empty with %d peers connected: offered it the %d that speak the DHT, %d now in it', peers.length, speaking.length, table.size)
    for (const r of added) if (r.status === 'rejected') this.init.log.trace('could not add a peer to the routing table - %e', r.reason)
  }

  private async randomWalk (): Promise<void> {
    if (this.walking || this.connectedCount() === 0) return
    this.walking = true
    try {
      await this.refillRoutingTable()
    } catch (err) {
      this.init.log.trace('could not offer peers to the routing table - %e', err)
    }
    // a timer, not AbortSignal.timeout, so the bound is the same under a test's mock clock
    const walk = new AbortController()
    const timer = setTimeout(() => { walk.abort(new Error('the random walk took its whole time')) }, this.init.walkTimeoutMs ?? DEFAULT_WALK_TIMEOUT_MS)
    /** whether any peer answered, and whether an answer named a peer this node could dial now */
    let answered = false
    let useful = false
    try {
      // each peer met on the way is announced as peer:discovery and dialled above
      this.walks.run++
      for await (const evt of this.init.node.services.dht.getClosestPeers(randomBytes(32), { signal: walk.signal })) {
        if (evt.name !== 'PEER_RESPONSE') continue
        answered = true
        this.walks.found += evt.closer.length
        useful ||= evt.closer.some(p => this.dialable(p.id))
        if (!this.wantMore()) break
      }
    } catch (err) {
      this.init.log.trace('random walk ended - %e', err)
    } finally {
      clearTimeout(timer)
      this.walking = false
    }
    // a walk nobody answered (a busy machine, a walk cut off) says nothing of the mesh: the next tick walks again
    if (useful || !answered) {
      this.walkWait = 0
      this.nextWalkAt = 0
    } else {
      this.walkWait = Math.min(this.walkWait === 0 ? WALK_BACKOFF_BASE_MS : this.walkWait * 2, WALK_BACKOFF_MAX_MS)
      this.nextWalkAt = Date.now() + this.walkWait
    }
  }

  /** a peer this node is not connected to and may dial now (or is dialling: the walk's answer may have started that dial) */
  private dialable (peer: PeerId): boolean {
    const key = peer.toString()
    return !peer.equals(this.init.node.peerId) && this.init.node.getConnections(peer).length === 0 &&
      (this.dialing.has(key) || this.backoff.ready(key)) && this.init.allowed(peer)
  }
}
