/**
 * A throw-away libp2p node for asking other nodes things (the CLI's status,
 * the demo's table): TCP, Noise and Yamux only, a fresh identity each time,
 * no listener, no discovery; with `relay`, it also dials relayed addresses
 * (`.../p2p-circuit/p2p/<id>`: a node behind NAT, through its relay), which
 * takes the circuit relay transport and identify.
 *
 * `listProtocols` asks a peer which protocols it handles without knowing
 * its network. Identify cannot: a mesh node speaks identify under its
 * network's prefix (`/umesh/<network>/id/1.0.0`), the very name to be found.
 * Multistream-select's `ls`, answered by libp2p's protocol negotiation
 * before any protocol is chosen, lists the same protocols identify would
 * announce.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { createLibp2p } from 'libp2p'
import type { AbortOptions, Connection, Libp2p, PeerId, StreamMuxer } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export async function createClientNode (options: { relay?: boolean } = {}): Promise<Libp2p> {
  if (options.relay === true) {
    return await createLibp2p({
      addresses: { listen: [] },
      transports: [tcp(), circuitRelayTransport()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify() }
    })
  }
  return await createLibp2p({
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
}

const MULTISTREAM = '/multistream/1.0.0'
/** an `ls` answer larger than this is not a list of protocol ids */
const MAX_LIST_BYTES = 64 * 1024

export class ProtocolListError extends Error {
  override readonly name = 'ProtocolListError'
}

/**
 * The protocols the peer at `target` handles, from multistream-select's
 * `ls` on a new stream of the (new or existing) connection to it. Every
 * wait ends with `options.signal`.
 */
export async function listProtocols (node: Libp2p, target: Multiaddr | PeerId, options: AbortOptions = {}): Promise<{ peer: PeerId, protocols: string[] }> {
  const connection = await node.dial(target, options)
  // libp2p's connection has its stream muxer; its public interface offers only streams with a protocol already chosen
  const muxer = (connection as Connection & { muxer?: StreamMuxer }).muxer
  if (typeof muxer?.createStream !== 'function') throw new ProtocolListError('this libp2p connection has no stream muxer to ask on')
  const stream = await muxer.createStream(options)
  try {
    const lp = lpStream(stream, { maxDataLength: MAX_LIST_BYTES })
    const utf8 = new TextEncoder()
    await lp.writeV([utf8.encode(`${MULTISTREAM}\n`), utf8.encode('ls\n')], options)
    const header = new TextDecoder().decode((await lp.read(options)).subarray())
    if (header !== `${MULTISTREAM}\n`) throw new ProtocolListError(`the peer does not speak multistream-select ${MULTISTREAM} (it answered ${JSON.stringify(header.slice(0, 64))})`)
    return { peer: connection.remotePeer, protocols: parseProtocolList((await lp.read(options)).subarray()) }
  } finally {
    // the peer waits for a protocol to be chosen: none will be
    stream.abort(new ProtocolListError('protocol list read'))
  }
}

/**
 * An `ls` answer: each protocol id as a varint length and the id with a
 * newline, the list ended by a newline. `na` (a peer that does not answer
 * `ls`) and anything malformed throw.
 */
export function parseProtocolList (bytes: Uint8Array): string[] {
  const text = new TextDecoder()
  if (text.decode(bytes) === 'na\n') throw new ProtocolListError('the peer does not list its protocols (multistream-select ls)')
  const protocols: string[] = []
  let at = 0
  while (at < bytes.length) {
    if (at === bytes.length - 1 && bytes[at] === 0x0a) return protocols
    let length = 0
    let shift = 0
    let byte: number
    do {
      if (at >= bytes.length || shift > 21) throw new ProtocolListError('malformed protocol list: bad length')
      byte = bytes[at++]
      length += (byte & 0x7f) * 2 ** shift
      shift += 7
    } while ((byte & 0x80) !== 0)
    if (length < 2 || at + length > bytes.length || bytes[at + length - 1] !== 0x0a) throw new ProtocolListError('malformed protocol list: bad entry')
    protocols.push(text.decode(bytes.subarray(at, at + length - 1)))
    at += length
  }
  throw new ProtocolListError('malformed protocol list: no end')
}
