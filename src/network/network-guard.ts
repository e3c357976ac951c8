/**
 * Hangs up on peers of another network (or another program) once identify
 * tells what they speak: a peer that does not serve this network's status
 * protocol is not a member, and should not hold one of our connection slots.
 * Such peers are remembered so discovery does not dial them again.
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

  constructor (private readonly node: Libp2p, network: string, private readonly log: Logger) {
    this.protocol = statusProtocol(network)
  }

  isForeign (peer: PeerId): boolean {
    return this.foreign.has(peer.toString())
  }

  start (): void {
    this.node.addEventListener('peer:identify', this.onIdentify)
  }

  stop (): void {
    this.node.removeEventListener('peer:identify', this.onIdentify)
  }
}
