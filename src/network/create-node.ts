/**
 * Assembles the libp2p node of a daemon: TCP, Noise, Yamux, identify, ping,
 * the network's own Kademlia DHT, gossipsub, mDNS, the bootstrap list, the
 * status protocol, a persistent LevelDB datastore (peer store and DHT
 * records survive restarts), the connection gater and a byte counter.
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
import { createLibp2p } from 'libp2p'
import { chunks } from '../../protocols/chunks/index.js'
import { have } from '../../protocols/have/index.js'
import { status } from '../../protocols/status/index.js'
import { sync } from '../../protocols/sync/index.js'
import { meshGater } from './gater.js'
import { TrafficMeter } from './traffic-meter.js'
import { gossipTopics, protocolPrefix, dhtProtocol, mdnsServiceTag } from './protocol-ids.js'
import type { ChunksInit, ChunksService } from '../../protocols/chunks/index.js'
import type { HaveInit, HaveService } from '../../protocols/have/index.js'
import type { StatusReport, StatusService } from '../../protocols/status/index.js'
import type { SyncService, SyncSummary } from '../../protocols/sync/index.js'
import type { ChunkStore } from '../content/index.js'
import type { NodeConfig } from '../config/index.js'
import type { MeshGater } from './gater.js'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Identify } from '@libp2p/identify'
import type { Libp2p, PeerDiscovery, PrivateKey } from '@libp2p/interface'
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
}

export type MeshNode = Libp2p<MeshServices>

export interface MeshNodeInit {
  config: NodeConfig
  role: Role
  privateKey: PrivateKey
  datastore: Datastore
  version: string
  report: () => StatusReport | Promise<StatusReport>
  /** what the sync and chunks protocols serve */
  content: {
    mirrorRoot: () => string | undefined
    summary: () => SyncSummary
    store: ChunkStore
    /** where chunk answers wait for a fair upload slot and the upload cap */
    upload?: ChunksInit['upload']
    /** answers the have exchange once the sync phase made it */
    swarm?: HaveInit['swarm']
  }
}

export interface MeshNodeParts {
  node: MeshNode
  gater: MeshGater
  traffic: TrafficMeter
}

/** gossip messages are signed TUF metadata and reports: small */
const MAX_GOSSIP_MESSAGE_BYTES = 1024 * 1024

export async function createMeshNode (init: MeshNodeInit): Promise<MeshNodeParts> {
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

  const node = await createLibp2p<MeshServices>({
    start: false,
    privateKey: init.privateKey,
    datastore: init.datastore,
    nodeInfo: { name: 'update-mesh', version: init.version, userAgent: `update-mesh/${init.version} (${role})` },
    addresses: { listen: config.listen, announce: config.announce },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: gater,
    connectionManager: {
      maxConnections: config.maxConnections,
      // the per-second inbound rate per IP follows the concurrent cap, so a
      // whole mesh on one host (loopback, a NAT) is not throttled to 5/s
      inboundConnectionThreshold: Math.max(5, config.maxInboundPerIp),
      maxIncomingPendingConnections: 32
    },
    metrics: () => traffic.metrics(),
    peerDiscovery,
    services: {
      identify: identify({ protocolPrefix: prefix }),
      ping: ping({ protocolPrefix: prefix }),
      dht: kadDHT({
        protocol: dhtProtocol(config.network),
        clientMode: config.dhtMode === 'client',
        peerInfoMapper: config.privateAddresses ? passthroughMapper : removePrivateAddressesMapper,
        logPrefix: `umesh:${config.network}:dht`,
        datastorePrefix: `/umesh/${config.network}/dht`
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
        // a publisher's re-announcement carries the same bytes, so the same
        // message id: gossipsub drops a publish whose id is still in its seen
        // cache, so the cache must forget before the next re-announcement
        seenTTL: Math.min(120_000, config.announceInterval * 500)
      }),
      status: status({ network: config.network, report: init.report }),
      sync: sync({ network: config.network, mirrorRoot: init.content.mirrorRoot, summary: init.content.summary }),
      chunks: chunks({ network: config.network, store: init.content.store, upload: init.content.upload }),
      have: have({ network: config.network, swarm: init.content.swarm ?? (() => undefined) })
    }
  })
  gater.countInbound = (ip) => node.getConnections().filter(c => c.direction === 'inbound' && c.remoteAddr.getComponents().some(p => p.value === ip)).length
  return { node, gater, traffic }
}
