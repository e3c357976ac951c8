/**
 * Hangs up on peers of another network (or another program) once identify
 * tells what they speak: a peer that does not serve this network's status
 * protocol is not a member, and should not hold one of our connection slots.
 * Such peers are remembered so discovery does not dial them again.
 *
 * When a connection to a peer with no known address ends, the peer is dropped from the
 * persistent peer store: every `umesh status` call comes from a fresh
 * throw-away identity, and a monitor polling every few seconds would
 * otherwise grow the store without end.
 */
import { statusProtocol } from '../../protocols/status/index.js'
import type { IdentifyResult, Libp2p, Logger, PeerId } from '@libp2p/interface'

export class NetworkGuard {
  private readonly foreign = new Set<string>()
  private readonly protocol: string
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols } = evt.detail
    if (protocols.includes(this.protocol)) return
    this.foreign.add(peerId.toString())
    this.log('hanging up on %p: it does not speak %s', peerId, this.protocol)
    this.node.hangUp(peerId).catch(err => { this.log('hang up on %p failed - %e', peerId, err) })
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    void this.forgetIfStranger(evt.detail)
  }

  constructor (private readonly node: Libp2p, network: string, private readonly log: Logger) {
    this.protocol = statusProtocol(network)
  }

  isForeign (peer: PeerId): boolean {
    return this.foreign.has(peer.toString())
  }

  private async forgetIfStranger (peer: PeerId): Promise<void> {
    try {
      const known = await this.node.peerStore.get(peer)
      // a member told us its listen addresses through identify; a throw-away
      // client has none (its protocol list is no guide: libp2p records the
      // protocols a peer opened streams for)
      if (known.addresses.length > 0 || known.tags.size > 0) return
      await this.node.peerStore.delete(peer)
      this.log.trace('forgot %p: not a member of this network', peer)
    } catch {
      // not in the peer store: nothing to forget
    }
  }

  start (): void {
    this.node.addEventListener('peer:identify', this.onIdentify)
    this.node.addEventListener('peer:disconnect', this.onDisconnect)
  }

  stop (): void {
    this.node.removeEventListener('peer:identify', this.onIdentify)
    this.node.removeEventListener('peer:disconnect', this.onDisconnect)
  }
}
