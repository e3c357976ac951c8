/**
 * Differential sync: when a peer that serves the sync protocol is
 * identified, ask it for its summary; a peer that trusts a newer timestamp
 * than this node (or any peer, while this node's last refresh failed)
 * starts a round from that peer. So a node that was away catches up within
 * seconds of rejoining, publisher or not.
 */
import { fetchSummary, syncProtocol } from '../../protocols/sync/index.js'
import { withTimeout } from '../../protocols/shared/timeout-signal.js'
import type { StreamOpener } from '../../protocols/shared/index.js'
import type { PeerProtocols } from '../network/peer-protocols.js'
import type { Logger, PeerId } from '@libp2p/interface'

export interface CatchUpComponents {
  opener: StreamOpener
  peers: PeerProtocols
  /** the timestamp version this node trusts now */
  timestampVersion: () => number
  /** whether the last refresh failed */
  refreshFailed: () => boolean
  /** starts a round, preferring this peer */
  trigger: (peer: PeerId) => void
  log: Logger
}

const SUMMARY_TIMEOUT_MS = 10_000

export class CatchUp {
  private readonly protocol: string
  private readonly network: string
  private readonly onPeer = (peer: PeerId, protocols: string[]): void => {
    if (protocols.includes(this.protocol)) void this.ask(peer)
  }

  constructor (private readonly components: CatchUpComponents, network: string, private readonly signal: AbortSignal) {
    this.network = network
    this.protocol = syncProtocol(network)
  }

  /** listens for identified peers, and asks those already connected */
  start (): void {
    this.components.peers.on('peer', this.onPeer)
    for (const peer of this.components.peers.connectedSpeaking(this.protocol)) void this.ask(peer)
  }

  stop (): void {
    this.components.peers.off('peer', this.onPeer)
  }

  private async ask (peer: PeerId): Promise<void> {
    const { opener, log } = this.components
    try {
      const summary = await fetchSummary(opener, peer, this.network, { signal: withTimeout(SUMMARY_TIMEOUT_MS, this.signal) })
      // a newer timestamp, or a node whose last refresh failed (at start, before it knew who speaks sync): a round now
      if (summary.timestampVersion > this.components.timestampVersion() || this.components.refreshFailed()) this.components.trigger(peer)
    } catch (err) {
      log('no summary from %p - %e', peer, err)
    }
  }
}
