/**
 * What each connected peer speaks, from identify: the follower asks only
 * peers that serve the sync protocol, the swarm only those that speak the
 * have exchange. Peers met before the component started are read from the
 * peer store. Each peer's list is emitted as `peer` when it is learnt, so a
 * part can react to a newly identified peer (the follower's catch-up).
 */
import { EventEmitter } from 'node:events'
import type { IdentifyResult, Libp2p, PeerId } from '@libp2p/interface'

export interface PeerProtocolsComponents {
  node: Pick<Libp2p, 'addEventListener' | 'removeEventListener' | 'getPeers' | 'getConnections' | 'peerStore'>
}

export interface PeerProtocolsEvents {
  /** a peer's protocols, learnt from identify (or, for peers met before start, from the peer store) */
  peer: [PeerId, string[]]
}

/** peers remembered at most; the least recently identified go first */
const MAX_PEERS = 4096

export class PeerProtocols extends EventEmitter<PeerProtocolsEvents> {
  private readonly protocols = new Map<string, string[]>()
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    this.learn(evt.detail.peerId, evt.detail.protocols)
  }

  constructor (private readonly components: PeerProtocolsComponents) {
    super()
  }

  start (): void {
    const { node } = this.components
    node.addEventListener('peer:identify', this.onIdentify)
    for (const peer of node.getPeers()) {
      node.peerStore.get(peer).then(p => { if (!this.protocols.has(peer.toString())) this.learn(peer, p.protocols) }, () => {})
    }
  }

  stop (): void {
    this.components.node.removeEventListener('peer:identify', this.onIdentify)
    this.removeAllListeners()
  }

  speaks (peer: PeerId, protocol: string): boolean {
    return this.protocols.get(peer.toString())?.includes(protocol) === true
  }

  /** connected peers that speak `protocol` */
  connectedSpeaking (protocol: string): PeerId[] {
    const { node } = this.components
    return node.getPeers().filter(p => node.getConnections(p).length > 0 && this.speaks(p, protocol))
  }

  private learn (peer: PeerId, protocols: string[]): void {
    const key = peer.toString()
    this.protocols.delete(key)
    this.protocols.set(key, protocols)
    if (this.protocols.size > MAX_PEERS) this.protocols.delete(this.protocols.keys().next().value!)
    this.emit('peer', peer, protocols)
  }
}
