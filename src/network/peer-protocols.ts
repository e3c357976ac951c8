/**
 * What each connected peer speaks, from identify: the follower asks only
 * peers that serve the sync protocol, the swarm only those that speak the
 * have exchange. Peers met before the component started are read from the
 * peer store. Each peer's list is emitted as `peer` when it is learnt, so a
 * part can react to a newly identified peer (the follower's catch-up).
 *
 * libp2p runs identify once per connection, with a 5 s limit, and drops the
 * error: a peer whose identify failed (a busy machine, a slow start) stays
 * connected but unknown, so nothing ever asks it for anything. A connection
 * still unknown after `reidentifyAfterMs` is identified again: a try that
 * times out is repeated up to `reidentifyAttempts` times; one the peer
 * refuses or breaks (seen on a loaded machine: the stream is answered with
 * something other than the protocol) is not, since a fresh connection is
 * what works. Either way a connection this node dialled is then closed, so
 * discovery dials the peer afresh: with the defaults, within about 15 s of
 * its opening. A connection the peer dialled that carries no mesh stream
 * (gossipsub, the DHT, chunks...) is left open and not tried again: a status
 * client (the CLI, a dashboard, anyone asking) speaks no mesh identify, and
 * hanging up on it broke its requests in flight. A mesh peer that dialled
 * keeps a gossipsub stream open, so its connection is closed as one this
 * node dialled: left open, this node would never open its own gossipsub
 * stream to it and would send it no gossip.
 */
import { EventEmitter } from 'node:events'
import { logger } from '@libp2p/logger'
import { PROTOCOL_NAME as STATUS_NAME, PROTOCOL_VERSION as STATUS_VERSION } from '../../protocols/status/constants.js'
import { linkOf, privateSubnets } from './links.js'
import type { Link, Subnet } from './links.js'
import type { Identify } from '@libp2p/identify'
import type { Connection, IdentifyResult, Libp2p, PeerId } from '@libp2p/interface'

export interface PeerProtocolsComponents {
  node: Pick<Libp2p, 'addEventListener' | 'removeEventListener' | 'getPeers' | 'getConnections' | 'peerStore'> & {
    /** the identify service, to identify a connection again; without it, nothing is retried */
    services?: { identify?: Pick<Identify, 'identify'> }
  }
}

export interface PeerProtocolsInit {
  /** a connection open this long with its peer still unknown is identified again, each try limited to as long (default 6 s) */
  reidentifyAfterMs?: number
  /** identifies that time out, tried again per peer before its connections are closed (default 2) */
  reidentifyAttempts?: number
  /** how often connections are checked (default 2 s) */
  checkEveryMs?: number
  /** chunk data may cross relayed connections (default false) */
  allowRelayedData?: boolean
}

export interface PeerProtocolsEvents {
  /** a peer's protocols, learnt from identify (or, for peers met before start, from the peer store) */
  peer: [PeerId, string[]]
}

/** the end of the status protocol's id on any network: /umesh/<network>/status/1.0.0 */
const STATUS_SUFFIX = `/${STATUS_NAME}/${STATUS_VERSION}`

/**
 * Whether a connection carries a stream only a mesh node opens (gossipsub,
 * the DHT, chunks...): anything but the status protocol, which any client
 * may speak, and a stream with no protocol chosen (a client's `ls`). A mesh
 * peer keeps a gossipsub stream open for as long as it is connected.
 */
function carriesMeshStreams (conn: Pick<Connection, 'streams'>): boolean {
  return (conn.streams ?? []).some(s => s.protocol != null && s.protocol !== '' && !s.protocol.endsWith(STATUS_SUFFIX))
}

/** the errors of an identify that ran out of time, which is worth trying again on the same connection */
const TIMEOUTS = new Set(['TimeoutError', 'AbortError'])

/** peers remembered at most; the least recently identified go first */
const MAX_PEERS = 4096

export class PeerProtocols extends EventEmitter<PeerProtocolsEvents> {
  private readonly protocols = new Map<string, string[]>()
  /** identifies tried again, per peer still unknown */
  private readonly retries = new Map<string, number>()
  private readonly identifying = new Set<string>()
  /** inbound connections given up on: left open, not identified again */
  private readonly leftAlone = new WeakSet<object>()
  private readonly log = logger('umesh:peers')
  private readonly reidentifyAfterMs: number
  private readonly reidentifyAttempts: number
  private timer?: NodeJS.Timeout
  /** this machine's private subnets, read at start: a peer in one is on the same site */
  private subnets: Subnet[] = []
  readonly allowRelayedData: boolean
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    this.learn(evt.detail.peerId, evt.detail.protocols)
  }

  constructor (private readonly components: PeerProtocolsComponents, private readonly init: PeerProtocolsInit = {}) {
    super()
    this.reidentifyAfterMs = init.reidentifyAfterMs ?? 6_000
    this.reidentifyAttempts = init.reidentifyAttempts ?? 2
    this.allowRelayedData = init.allowRelayedData === true
  }

  start (): void {
    const { node } = this.components
    this.subnets = privateSubnets()
    node.addEventListener('peer:identify', this.onIdentify)
    for (const peer of node.getPeers()) {
      node.peerStore.get(peer).then(p => { if (!this.protocols.has(peer.toString())) this.learn(peer, p.protocols) }, () => {})
    }
    if (node.services?.identify != null) {
      this.timer = setInterval(() => { this.checkUnknown() }, this.init.checkEveryMs ?? 2_000)
      this.timer.unref()
    }
  }

  stop (): void {
    this.components.node.removeEventListener('peer:identify', this.onIdentify)
    clearInterval(this.timer)
    this.timer = undefined
    this.removeAllListeners()
  }

  /** peers connected for a while whose protocols are still unknown: identify them again, or hang up */
  checkUnknown (): void {
    const { node } = this.components
    const identify = node.services?.identify
    if (identify == null) return
    const now = Date.now()
    const connected = new Set<string>()
    for (const conn of node.getConnections()) {
      const key = conn.remotePeer.toString()
      connected.add(key)
      if (this.protocols.has(key) || this.identifying.has(key) || this.leftAlone.has(conn) || conn.status !== 'open' || now - conn.timeline.open < this.reidentifyAfterMs) continue
      const tries = this.retries.get(key) ?? 0
      this.identifying.add(key)
      void this.identifyAgain(identify, conn, tries).finally(() => this.identifying.delete(key))
    }
    for (const key of this.retries.keys()) {
      if (!connected.has(key)) this.retries.delete(key)
    }
  }

  private async identifyAgain (identify: Pick<Identify, 'identify'>, conn: Connection, tries: number): Promise<void> {
    const key = conn.remotePeer.toString()
    if (tries >= this.reidentifyAttempts) {
      this.retries.delete(key)
      await this.hangUp(conn, `still not identified after ${tries} more tries`)
      return
    }
    this.retries.set(key, tries + 1)
    try {
      // on success identify emits peer:identify, which is learnt above
      await identify.identify(conn, { signal: AbortSignal.timeout(this.reidentifyAfterMs) })
      this.log('identified %p at the %d. try again', conn.remotePeer, tries + 1)
    } catch (err) {
      this.log('identify of %p failed again - %e', conn.remotePeer, err)
      // the peer refused or broke identify on this connection (UnsupportedProtocolError, a
      // reset): trying again on it is no use, a fresh connection is. Only a timeout is tried again.
      if (!TIMEOUTS.has((err as Error)?.name)) {
        this.retries.delete(key)
        await this.hangUp(conn, `identify failed on it - ${(err as Error)?.name}`)
      }
    }
  }

  /**
   * closes the connection, so the peer is dialled afresh; one the peer
   * dialled that carries no mesh stream (a status client's) is left alone
   */
  private async hangUp (conn: Connection, why: string): Promise<void> {
    if (conn.direction === 'inbound' && !carriesMeshStreams(conn)) {
      this.log('leaving the connection from %p open, unidentified: %s', conn.remotePeer, why)
      this.leftAlone.add(conn)
      return
    }
    this.log('closing the connection to %p: %s', conn.remotePeer, why)
    await conn.close().catch(err => { conn.abort(err) })
  }

  connectedCount (): number {
    return this.components.node.getPeers().length
  }

  /** connected peers whose protocols are not known (yet) */
  unknownCount (): number {
    return this.components.node.getPeers().filter(p => !this.protocols.has(p.toString())).length
  }

  speaks (peer: PeerId, protocol: string): boolean {
    return this.protocols.get(peer.toString())?.includes(protocol) === true
  }

  /** connected peers that speak `protocol` */
  connectedSpeaking (protocol: string): PeerId[] {
    const { node } = this.components
    return node.getPeers().filter(p => node.getConnections(p).length > 0 && this.speaks(p, protocol))
  }

  /** how this node is linked to `peer` now: local (same private subnet), direct, relayed or none (links.ts) */
  link (peer: PeerId): Link {
    return linkOf(this.components.node.getConnections(peer), this.subnets)
  }

  /** true when chunks may be asked of `peer` now: a direct link, or a relayed one with allowRelayedData */
  chunksAllowed (peer: PeerId): boolean {
    const link = this.link(peer)
    return link === 'local' || link === 'direct' || (link === 'relayed' && this.allowRelayedData)
  }

  private learn (peer: PeerId, protocols: string[]): void {
    const key = peer.toString()
    this.retries.delete(key)
    this.protocols.delete(key)
    this.protocols.set(key, protocols)
    if (this.protocols.size > MAX_PEERS) this.protocols.delete(this.protocols.keys().next().value!)
    this.emit('peer', peer, protocols)
  }
}
