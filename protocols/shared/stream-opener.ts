/**
 * Whatever can open a stream to a peer: a libp2p node, or a throw-away
 * client node. Every protocol client takes one, so none needs the whole node.
 */
import type { AbortOptions, Stream } from '@libp2p/interface'

export interface OpenOptions extends AbortOptions {
  /** open the stream on a limited (relayed) connection too; the protocol's handler must allow it on the other side */
  runOnLimitedConnection?: boolean
}

export interface StreamOpener {
  dialProtocol: (target: any, protocol: string, options?: OpenOptions) => Promise<Stream>
}
