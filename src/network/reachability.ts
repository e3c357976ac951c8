/**
 * Whether peers can dial this node, and what it does about it.
 *
 * - `reachable`: AutoNAT (@libp2p/autonat) confirmed one of its public
 *   addresses: a peer dialled it back there. libp2p advertises a public
 *   address only once confirmed (an announced one counts as confirmed).
 * - `unreachable`: no public address is confirmed, and a peer on a public
 *   address saw this node come from a public IP that is none of its own: it
 *   sits behind NAT. AutoNAT has nothing to test then (libp2p ignores
 *   observed TCP addresses: an outgoing TCP connection's port is not the
 *   listener's), so the observation decides.
 * - `unknown`: neither yet (no public peer met, a check pending), or a
 *   private network where no address is public.
 *
 * Once unreachable, its DHT turns to client mode (peers could reach it only
 * through the relay, a new relayed connection per query, which the DHT does
 * not even speak on), and with autoRelay it listens on `/p2p-circuit`: the
 * circuit relay transport reserves a slot on a relay it is connected to (a
 * bootstrap node running the relay service) and advertises the relayed
 * address. A node that becomes reachable later keeps its slot until it
 * expires (a restart drops it).
 *
 * It also counts relayed connections and how many were followed by a direct
 * connection to the same peer (DCUtR's hole punch or its dial-back), for
 * status and /metrics.
 */
import { networkInterfaces } from 'node:os'
import { isNetworkAddress, isPrivate } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { isRelayed, isRelayedAddr } from './links.js'
import type { ComponentLogger, Connection, IdentifyResult, Libp2pEvents, Logger, Startable, TypedEventTarget } from '@libp2p/interface'
import type { AddressManager, ConnectionManager, TransportManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

export type ReachabilityState = 'reachable' | 'unreachable' | 'unknown'

export interface ReachabilityInit {
  /** reserve a relay slot once unreachable (default true) */
  autoRelay?: boolean
  /** how often the state is worked out again (default 2 s) */
  checkEveryMs?: number
  /** AutoNAT's protocol id: a public peer that speaks it is asked to dial this node back */
  autonatProtocol?: string
  /** asks AutoNAT to have this peer verify our public addresses (the library does so on its own only when it first meets the peer) */
  verify?: (connection: Connection) => Promise<void>
  /** called once when the node first finds itself unreachable (the node turns its DHT to client mode) */
  onUnreachable?: () => void
}

export interface ReachabilityComponents {
  addressManager: AddressManager
  transportManager: TransportManager
  connectionManager: ConnectionManager
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

export interface ReachabilitySample {
  state: ReachabilityState
  /** public addresses AutoNAT confirmed (or announced) */
  publicAddrs: string[]
  /** relayed addresses this node advertises: slots held on relays */
  relayAddrs: string[]
  /** public peers that saw this node at a public IP not its own */
  natSeenBy: number
  /** relayed connections opened since start */
  relayedOpened: number
  /** of those, how many a direct connection to the same peer followed while the relayed one was open */
  upgradedDirect: number
}

/** peers remembered as NAT witnesses at most */
const MAX_WITNESSES = 64

export class Reachability implements Startable {
  private readonly log: Logger
  private readonly natSeenBy = new Set<string>()
  private timer?: NodeJS.Timeout
  private started = false
  private relayListening = false
  private last: ReachabilityState = 'unknown'
  private relayedOpened = 0
  private upgradedDirect = 0
  private readonly ownIps: Set<string>

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { observedAddr, connection, peerId, protocols } = evt.detail
    if (isRelayed(connection) || !isPublicIp(connection.remoteAddr)) return
    if (this.init.verify != null && this.init.autonatProtocol != null && protocols.includes(this.init.autonatProtocol) && this.publicAddrs().length === 0) {
      // a moment later, so the library's own first attempt on this connection is not doubled
      setTimeout(() => {
        if (this.started && connection.status === 'open') this.init.verify!(connection).catch(err => { this.log('AutoNAT via %p failed - %e', peerId, err) })
      }, 1_000).unref()
    }
    if (observedAddr == null) return
    const seen = ipOf(observedAddr)
    if (seen == null || !isPublicIp(observedAddr) || this.ownIps.has(seen)) return
    if (this.natSeenBy.size >= MAX_WITNESSES) return
    if (!this.natSeenBy.has(peerId.toString())) this.log('%p sees this node at %s, not one of its own addresses: behind NAT', peerId, seen)
    this.natSeenBy.add(peerId.toString())
    this.check()
  }

  private readonly onConnectionOpen = (evt: CustomEvent<Connection>): void => {
    const conn = evt.detail
    if (isRelayed(conn)) {
      this.relayedOpened++
      return
    }
    const relayed = this.components.connectionManager.getConnections(conn.remotePeer).some(c => c.id !== conn.id && c.status === 'open' && isRelayed(c))
    if (relayed) {
      this.upgradedDirect++
      this.log('a direct connection to %p followed its relayed one', conn.remotePeer)
    }
  }

  constructor (private readonly components: ReachabilityComponents, private readonly init: ReachabilityInit = {}) {
    this.log = components.logger.forComponent('umesh:reachability')
    this.ownIps = localIps()
  }

  readonly [Symbol.toStringTag] = 'umesh/reachability'

  isStarted (): boolean {
    return this.started
  }

  start (): void {
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.components.events.addEventListener('connection:open', this.onConnectionOpen)
    this.timer = setInterval(() => { this.check() }, this.init.checkEveryMs ?? 2_000)
    this.timer.unref()
    this.started = true
  }

  stop (): void {
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    this.components.events.removeEventListener('connection:open', this.onConnectionOpen)
    clearInterval(this.timer)
    this.started = false
  }

  /** public addresses confirmed by AutoNAT's dial-back, or announced by the operator */
  publicAddrs (): Multiaddr[] {
    return this.components.addressManager.getAddressesWithMetadata()
      .filter(a => a.verified && !isRelayedAddr(a.multiaddr) && isNetworkAddress(a.multiaddr) && !isPrivate(a.multiaddr))
      .map(a => a.multiaddr)
  }

  state (): ReachabilityState {
    if (this.publicAddrs().length > 0) return 'reachable'
    if (this.natSeenBy.size > 0) return 'unreachable'
    return 'unknown'
  }

  sample (): ReachabilitySample {
    return {
      state: this.state(),
      publicAddrs: this.publicAddrs().map(a => a.toString()),
      relayAddrs: this.components.addressManager.getAddresses().filter(isRelayedAddr).map(a => a.toString()),
      natSeenBy: this.natSeenBy.size,
      relayedOpened: this.relayedOpened,
      upgradedDirect: this.upgradedDirect
    }
  }

  private check (): void {
    if (!this.started) return
    const state = this.state()
    if (state !== this.last) this.log('reachability: %s (was %s)', state, this.last)
    this.last = state
    if (state === 'unreachable' && !this.relayListening) {
      this.relayListening = true
      this.init.onUnreachable?.()
      if (this.init.autoRelay === false) return
      this.log('unreachable: reserving a slot on a relay')
      this.components.transportManager.listen([multiaddr('/p2p-circuit')]).catch(err => {
        this.relayListening = false
        this.log('could not listen on a relay - %e', err)
      })
    }
  }
}

function ipOf (ma: Multiaddr): string | undefined {
  return ma.getComponents().find(c => c.name === 'ip4' || c.name === 'ip6')?.value
}

function isPublicIp (ma: Multiaddr): boolean {
  try {
    return isNetworkAddress(ma) && !isPrivate(ma)
  } catch {
    return false
  }
}

function localIps (): Set<string> {
  const ips = new Set<string>()
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) ips.add(a.address)
  return ips
}

export function reachability (init: ReachabilityInit = {}): (components: ReachabilityComponents) => Reachability {
  return (components) => new Reachability(components, init)
}
