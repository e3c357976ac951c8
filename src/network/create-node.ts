/**
 * Assembles the libp2p node of a daemon: TCP, Noise, Yamux (and QUIC when the
 * config asks), identify, ping,
 * the network's own Kademlia DHT, gossipsub, mDNS, the bootstrap list, the
 * status protocol, a persistent LevelDB datastore (peer store and DHT
 * records survive restarts), the connection gater, a byte counter, what
 * each peer speaks, and the node's swarm (built as soon as the node exists).
 * NAT traversal (nat.ts): AutoNAT, circuit relay (dialling relayed addresses;
 * the relay service on bootstrap nodes), DCUtR, optional UPnP, and the
 * node's reachability (reachability.ts).
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { circuitRelayAddressesLast, loopbackAddressLast, publicAddressesFirst, reliableTransportsFirst } from '@libp2p/utils'
import { isPeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { chunks } from '../../protocols/chunks/index.js'
import { have } from '../../protocols/have/index.js'
import { status } from '../../protocols/status/index.js'
import { sync } from '../../protocols/sync/index.js'
import { meshGater } from './gater.js'
import { isRelayed } from './links.js'
import { natServices, natTransports } from './nat.js'
import { TrafficMeter } from './traffic-meter.js'
import { pacedReads } from './paced-reads.js'
import { windowUpdatesAtHalf } from './window-updates.js'
import { boundAddresses } from './bound-addresses.js'
import { IDENTIFY_MAX_MESSAGE_BYTES, builtinProtocolLimits, guardedMetrics } from './stream-guard.js'
import { PeerProtocols } from './peer-protocols.js'
import { gossipTopics, protocolPrefix, dhtProtocol, mdnsServiceTag } from './protocol-ids.js'
import type { ChunkReader, ChunksInit, ChunksService } from '../../protocols/chunks/index.js'
import type { HaveService, HaveSwarm } from '../../protocols/have/index.js'
import type { StatusReport, StatusService } from '../../protocols/status/index.js'
import type { SyncService, SyncSummary } from '../../protocols/sync/index.js'
import type { MeshGater } from './gater.js'
import type { BoundAddresses } from './bound-addresses.js'
import type { NatConfig } from './nat.js'
import type { Reachability } from './reachability.js'
import type { QuicComponents } from '@chainsafe/libp2p-quic'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Identify } from '@libp2p/identify'
import type { Address, ComponentLogger, Libp2p, PeerDiscovery, PrivateKey, Transport } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { Datastore } from 'interface-datastore'

export type Role = 'node' | 'bootstrap'

export type MeshServices = {
  identify: Identify
  ping: Ping
  dht: KadDHT
  pubsub: GossipSub
  status: StatusService
  sync: SyncService
  chunks: ChunksService
  have: HaveService
  /** whether peers can dial this node; reserves a relay slot once unreachable (reachability.ts) */
  reachability: Reachability
  /** the addresses the transports are bound to, advertised or not (bound-addresses.ts) */
  addresses: BoundAddresses
}

export type MeshNode = Libp2p<MeshServices>

/** the node config's network options (src/config's NodeConfig has them all) */
export interface MeshNodeConfig extends NatConfig {
  network: string
  listen: string[]
  announce: string[]
  /** QUIC beside TCP: a QUIC twin of each TCP listen address, QUIC preferred when a peer offers it */
  quic?: boolean
  /** within a flow of small TCP reads, stop reading this long so the kernel gathers packets (src/network/paced-reads.ts); 0 = off */
  readHoldMs?: number
  bootstrap: string[]
  mdns: boolean
  dhtMode: 'server' | 'client'
  privateAddresses: boolean
  maxConnections: number
  maxInboundPerIp: number
  denyPeers: string[]
  /** the publisher's re-announcement interval, in seconds: gossipsub's seen cache must forget sooner */
  announceInterval: number
  /** chunk data may cross relayed connections (default false: direct connections only) */
  allowRelayedData?: boolean
}

export interface MeshNodeInit<S extends HaveSwarm> {
  config: MeshNodeConfig
  role: Role
  privateKey: PrivateKey
  datastore: Datastore
  version: string
  report: () => StatusReport | Promise<StatusReport>
  /** what the sync and chunks protocols serve */
  serve: {
    mirrorRoot: () => string | undefined
    summary: () => SyncSummary
    store: ChunkReader
    /** where chunk answers wait for a fair upload slot and the upload cap */
    upload?: ChunksInit['upload']
  }
  /**
   * The node's swarm, made as soon as the node exists (before it starts):
   * it answers the have exchange and needs the node to dial. The one place
   * where a service and the part it serves are made in two steps.
   */
  swarm?: (node: MeshNode, peers: PeerProtocols) => S
  /** how often the connection monitor pings each connection (default CONNECTION_PING_INTERVAL_MS; tests shorten it) */
  connectionPingIntervalMs?: number
}

export interface MeshNodeParts<S> {
  node: MeshNode
  gater: MeshGater
  traffic: TrafficMeter
  /** what each peer speaks, from identify */
  peers: PeerProtocols
  swarm: S
}

/** gossip messages are signed TUF metadata and reports: small */
const MAX_GOSSIP_MESSAGE_BYTES = 1024 * 1024
/** one address's dial, connection and upgrade (libp2p's default is 6 s); the whole dial is the caller's (the peer keeper gives 15 s) */
export const ADDRESS_DIAL_TIMEOUT_MS = 10_000
/**
 * libp2p's connection monitor opens a ping stream on every connection, from
 * both ends, every interval (default 10 s), and closes a connection whose ping
 * fails. A stream costs a multistream negotiation and a handful of frames,
 * each encrypted, written and answered with a window update: at rest that was
 * most of what an idle daemon did. A dead connection is still found within
 * two intervals, and sooner by any request on it (each has its own timeout).
 */
export const CONNECTION_PING_INTERVAL_MS = 60_000

/**
 * QUIC's idle timeout is also its handshake timeout (the library ignores its
 * own handshakeTimeout), and its dial does not heed libp2p's abort signal: a
 * peer that offers QUIC but whose UDP is blocked holds the dial that long.
 * The peer keeper and the bootstrap dialer give a dial 5 s: at the library's
 * 10 s (or at 5 s) the TCP address never got its turn; at 3 s it connects
 * over TCP about 3 s after the dial. A keep-alive every second keeps quiet
 * connections open; a peer that vanishes is noticed within 3 s.
 */
const QUIC_IDLE_TIMEOUT_MS = 3_000
const QUIC_KEEP_ALIVE_MS = 1_000

/** each TCP listen address's QUIC twin: same IP, the same port number over UDP */
export function quicListenAddrs (listen: string[]): string[] {
  return listen.flatMap(text => {
    const [ip, tcpPort, ...rest] = multiaddr(text).getComponents()
    if (rest.length > 0 || (ip?.name !== 'ip4' && ip?.name !== 'ip6') || tcpPort?.name !== 'tcp') return []
    return [`/${ip.name}/${ip.value}/udp/${tcpPort.value}/quic-v1`]
  })
}

const isQuic = (a: Address): boolean => a.multiaddr.getComponents().some(c => c.name === 'quic-v1')

/** libp2p's own order (loopback last, public first, relays last, certified first), then QUIC before TCP: libp2p puts TCP first */
function quicFirst (a: Address, b: Address): -1 | 0 | 1 {
  return loopbackAddressLast(a.multiaddr, b.multiaddr) ||
    publicAddressesFirst(a.multiaddr, b.multiaddr) ||
    circuitRelayAddressesLast(a.multiaddr, b.multiaddr) ||
    (a.isCertified === b.isCertified ? 0 : a.isCertified ? -1 : 1) ||
    (isQuic(a) === isQuic(b) ? 0 : isQuic(a) ? -1 : 1) ||
    reliableTransportsFirst(a.multiaddr, b.multiaddr)
}

/**
 * A stream that may run on a limited (relayed) connection goes on the one
 * already open to the peer: libp2p's dial skips limited connections and
 * dials the relay again, so every have, sync or status stream to a node
 * behind NAT opened a relayed connection of its own (60 in a minute between
 * two sites of two nodes).
 */
function reuseLimitedConnections (node: Libp2p): void {
  const dialProtocol = node.dialProtocol.bind(node)
  node.dialProtocol = async (peer, protocols, options) => {
    if (options?.runOnLimitedConnection === true && isPeerId(peer)) {
      const open = node.getConnections(peer).filter(c => c.status === 'open')
      if (open.length > 0 && open.every(c => c.limits != null)) return await open[0].newStream(protocols, options)
    }
    return await dialProtocol(peer, protocols, options)
  }
}

/** loaded only when asked for: its native binary stays out of every node without QUIC */
async function quicTransport (): Promise<(components: QuicComponents) => Transport> {
  const { quic } = await import('@chainsafe/libp2p-quic')
  return quic({ maxIdleTimeout: QUIC_IDLE_TIMEOUT_MS, keepAliveInterval: QUIC_KEEP_ALIVE_MS })
}

export async function createMeshNode<S extends HaveSwarm> (init: MeshNodeInit<S>): Promise<MeshNodeParts<S>> {
  const { config, role } = init
  const gater = meshGater({ denyPeers: new Set(config.denyPeers), maxInboundPerIp: config.maxInboundPerIp })
  const traffic = new TrafficMeter()
  const prefix = protocolPrefix(config.network)

  const peerDiscovery: Array<(components: any) => PeerDiscovery> = []
  if (config.bootstrap.length > 0) {
    peerDiscovery.push(bootstrap({ list: config.bootstrap, timeout: 0 }))
  }
  if (config.mdns) {
    peerDiscovery.push(mdns({ serviceTag: mdnsServiceTag(config.network), interval: 5_000 }))
  }

  const quic = config.quic === true
  let swarm: S | undefined
  let made: MeshNode | undefined
  // a node behind NAT serves no DHT queries: it turns to client mode once it finds itself unreachable
  const dhtClientWhenUnreachable = (): void => {
    const dht = made?.services.dht
    if (dht?.getMode() === 'server') dht.setMode('client').catch(() => {})
  }
  const node = await createLibp2p<MeshServices>({
    start: false,
    privateKey: init.privateKey,
    datastore: init.datastore,
    nodeInfo: { name: 'update-mesh', version: init.version, userAgent: `update-mesh/${init.version} (${role})` },
    addresses: { listen: quic ? [...config.listen, ...quicListenAddrs(config.listen)] : config.listen, announce: config.announce },
    transports: [pacedReads(tcp(), { holdMs: config.readHoldMs ?? 0 }), ...(quic ? [await quicTransport()] : []), ...natTransports()],
    connectionEncrypters: [noise()],
    // window updates once half a stream's window is used, as go-yamux and rust-yamux send them (window-updates.ts)
    streamMuxers: [windowUpdatesAtHalf(yamux())],
    connectionGater: gater,
    // the monitor pings with the mesh's own ping protocol (its default, /ipfs/ping, is not served here)
    connectionMonitor: { pingInterval: init.connectionPingIntervalMs ?? CONNECTION_PING_INTERVAL_MS, protocolPrefix: prefix },
    connectionManager: {
      maxConnections: config.maxConnections,
      // the per-second inbound rate per IP follows the concurrent cap, so a
      // whole mesh on one host (loopback, a NAT) is not throttled to 5/s
      inboundConnectionThreshold: Math.max(5, config.maxInboundPerIp),
      maxIncomingPendingConnections: 32,
      // one address's dial (TCP, Noise, Yamux) may take as long as the listener
      // gives the upgrade (its inboundUpgradeTimeout, 10 s). libp2p's 6 s cut
      // off the handshakes of a loaded machine: with 50 daemons on 2 cores
      // (load 60) 360 of 833 dials in the first 2 minutes after ready ended
      // "aborted due to timeout" (EncryptionFailedError), leaving nodes on 1-3
      // connections for minutes
      addressDialTimeout: ADDRESS_DIAL_TIMEOUT_MS,
      ...(quic ? { addressSorter: quicFirst } : {})
    },
    // the byte counter, and the stream guard of identify, ping and the DHT (stream-guard.ts)
    metrics: (components: { logger: ComponentLogger }) => guardedMetrics(traffic.metrics(), builtinProtocolLimits(prefix, dhtProtocol(config.network)), components.logger.forComponent('umesh:stream-guard')),
    peerDiscovery,
    services: {
      // identify, ping and the DHT read with no length decoder of ours: the
      // stream guard below caps their prefixes and messages (stream-guard.ts)
      identify: identify({ protocolPrefix: prefix, timeout: 5_000, maxMessageSize: IDENTIFY_MAX_MESSAGE_BYTES, maxInboundStreams: 1, maxOutboundStreams: 1 }),
      ping: ping({ protocolPrefix: prefix, timeout: 5_000 }),
      dht: kadDHT({
        protocol: dhtProtocol(config.network),
        clientMode: config.dhtMode === 'client',
        peerInfoMapper: config.privateAddresses ? passthroughMapper : removePrivateAddressesMapper,
        logPrefix: `umesh:${config.network}:dht`,
        datastorePrefix: `/umesh/${config.network}/dht`,
        // a peer that connects and speaks the DHT is pinged before it enters
        // the routing table; on a loaded host (a bootstrap node answering 50
        // start-ups) the default 10 s for the whole add and 5 s for the ping
        // left tables empty, so walks learnt no one. Only adding waits longer:
        // queries' dials keep their own timeouts
        onPeerConnectTimeout: 30_000,
        pingNewContactTimeout: { minTimeout: 10_000, maxTimeout: 30_000 }
      }),
      pubsub: gossipsub({
        globalSignaturePolicy: 'StrictNoSign',
        allowedTopics: gossipTopics(config.network),
        maxInboundDataLength: MAX_GOSSIP_MESSAGE_BYTES,
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        doPX: role === 'bootstrap',
        // many nodes behind one address (a NAT, a test host) would score each
        // other below the publish threshold; every message is a TUF-verified
        // timestamp, so colocation is no sign of a Sybil attack worth that
        scoreParams: { IPColocationFactorWeight: 0 },
        emitSelf: false,
        // announcements and reports reach a node behind NAT over its relay too
        runOnLimitedConnection: true,
        // a publisher's re-announcement carries the same bytes, so the same
        // message id: gossipsub drops a publish whose id is still in its seen
        // cache, so the cache must forget before the next re-announcement
        seenTTL: Math.min(120_000, config.announceInterval * 500)
      }),
      status: status({ network: config.network, report: init.report }),
      sync: sync({ network: config.network, mirrorRoot: init.serve.mirrorRoot, summary: init.serve.summary }),
      chunks: chunks({ network: config.network, store: init.serve.store, upload: init.serve.upload, allowRelayed: config.allowRelayedData === true }),
      have: have({ network: config.network, swarm: () => swarm }),
      addresses: boundAddresses(),
      ...natServices(config, role, prefix, dhtClientWhenUnreachable) as { reachability: (components: any) => Reachability }
    }
  })
  // relayed connections carry the relay's IP: the relay caps them, not this count
  gater.countInbound = (ip) => node.getConnections().filter(c => c.direction === 'inbound' && !isRelayed(c) && c.remoteAddr.getComponents().some(p => p.value === ip)).length
  made = node
  reuseLimitedConnections(node)
  const peers = new PeerProtocols({ node }, { allowRelayedData: config.allowRelayedData === true })
  swarm = init.swarm?.(node, peers)
  return { node, gater, traffic, peers, swarm: swarm as S }
}
