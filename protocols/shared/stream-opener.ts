/**
 * Whatever can open a stream to a peer: a libp2p node, or a throw-away
 * client node. Every protocol client takes one, so none needs the whole node.
 */
import type { AbortOptions, Stream } from '@libp2p/interface'

export interface StreamOpener {
  dialProtocol: (target: any, protocol: string, options?: AbortOptions) => Promise<Stream>
}
