/**
 * NAT traversal from libp2p's own parts, as the config asks:
 *
 * - AutoNAT (@libp2p/autonat): peers dial a node back at its public
 *   addresses; libp2p advertises a public address only once confirmed.
 *   Its server answers a dial-back request with the connection it already
 *   has when the asker is connected (always: the request came over one),
 *   and that connection's address is the asker's outgoing port, never the
 *   listener asked about, so it said E_DIAL_ERROR to every peer it had not
 *   dialled itself. Its dial-backs here are forced onto a new connection.
 * - circuit relay v2: every node can dial relayed addresses and, once
 *   unreachable (reachability.ts), reserve a slot; the relay service runs on
 *   bootstrap nodes (relayService auto) with capped reservations, their
 *   lifetime and the bytes and time each relayed connection may use.
 * - DCUtR (@libp2p/dcutr): turns a relayed connection into a direct one
 *   where the NATs allow.
 * - UPnP (@libp2p/upnp-nat): asks the LAN's router for a port mapping; off
 *   by default (it multicasts SSDP on the LAN).
 */
import { autoNAT } from '@libp2p/autonat'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import { uPnPNAT } from '@libp2p/upnp-nat'
import { isMultiaddr } from '@multiformats/multiaddr'
import { reachability } from './reachability.js'
import type { Role } from './create-node.js'
import type { ReachabilitySample } from './reachability.js'
import type { AutoNATComponents } from '@libp2p/autonat'
import type { Connection } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'

export interface NatConfig {
  autonat?: boolean
  relayService?: 'auto' | 'on' | 'off'
  relayMaxReservations?: number
  relayReservationTtl?: number
  relayMaxDuration?: number
  relayMaxBytes?: number
  autoRelay?: boolean
  holePunching?: boolean
  upnp?: boolean
}

/** a limit of 0 means none; the library takes either both limits or neither */
const NO_DURATION_LIMIT_MS = 2 ** 31 - 1
const NO_DATA_LIMIT = 2n ** 62n

export function relayServiceOn (config: NatConfig, role: Role): boolean {
  const mode = config.relayService ?? 'auto'
  return mode === 'on' || (mode === 'auto' && role === 'bootstrap')
}

/** the one AutoNAT method reachability.ts calls */
interface AutoNATVerifier {
  verifyExternalAddresses: (connection: Connection) => Promise<void>
}

/** AutoNAT whose dial-backs open a new connection (see the header); `made` receives the service */
function autoNATForcingDialBack (protocolPrefix: string, made: (service: AutoNATVerifier) => void): (components: AutoNATComponents) => unknown {
  const make = autoNAT({ protocolPrefix, startupDelay: 1_000, refreshInterval: 10 * 60_000 })
  return (components) => {
    const manager = components.connectionManager
    const forcing = new Proxy(manager, {
      get (target, prop, receiver) {
        if (prop === 'openConnection') {
          // the server dials one multiaddr; the client's random walk dials lists of them
          return async (peer: Parameters<ConnectionManager['openConnection']>[0], options: Parameters<ConnectionManager['openConnection']>[1] = {}) =>
            await target.openConnection(peer, isMultiaddr(peer) ? { ...options, force: true } : options)
        }
        const value = Reflect.get(target, prop, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      }
    })
    const wrapped = new Proxy(components, {
      get: (target, prop, receiver) => prop === 'connectionManager' ? forcing : Reflect.get(target, prop, receiver)
    })
    const service = make(wrapped) as AutoNATVerifier
    made(service)
    return service
  }
}

/** the transports NAT traversal adds: dialling (and, once unreachable, listening on) relayed addresses */
export function natTransports (): Array<ReturnType<typeof circuitRelayTransport>> {
  return [circuitRelayTransport({ reservationCompletionTimeout: 10_000 })]
}

/** the services NAT traversal adds, by name */
export function natServices (config: NatConfig, role: Role, protocolPrefix: string, onUnreachable?: () => void): Record<string, (components: any) => unknown> {
  let verifier: AutoNATVerifier | undefined
  const services: Record<string, (components: any) => unknown> = {
    reachability: reachability({
      autoRelay: config.autoRelay !== false,
      autonatProtocol: `/${protocolPrefix}/autonat/1.0.0`,
      verify: async (connection) => { await verifier?.verifyExternalAddresses(connection) },
      onUnreachable
    })
  }
  if (config.autonat !== false) services.autoNAT = autoNATForcingDialBack(protocolPrefix, (s) => { verifier = s })
  if (config.holePunching !== false) services.dcutr = dcutr()
  if (config.upnp === true) services.upnp = uPnPNAT()
  if (relayServiceOn(config, role)) {
    const durationS = config.relayMaxDuration ?? 120
    const bytes = config.relayMaxBytes ?? 4 * 1024 * 1024
    const unlimited = durationS === 0 && bytes === 0
    services.relay = circuitRelayServer({
      reservations: {
        maxReservations: config.relayMaxReservations ?? 64,
        reservationTtl: (config.relayReservationTtl ?? 3600) * 1000,
        applyDefaultLimit: !unlimited,
        defaultDurationLimit: durationS === 0 ? NO_DURATION_LIMIT_MS : durationS * 1000,
        defaultDataLimit: bytes === 0 ? NO_DATA_LIMIT : BigInt(bytes)
      }
    })
  }
  return services
}

/** what status and /metrics show of NAT traversal */
export interface NatReport {
  reachability: 'reachable' | 'unreachable' | 'unknown'
  publicAddrs: string[]
  relayAddrs: string[]
  /** relay service: nodes holding a slot here now (0 when the service is off) */
  relayReservations: number
  relayService: boolean
  relayedOpened: number
  upgradedDirect: number
}

/** the node's NAT traversal state, from its reachability service and its relay service when it runs one */
export function natReport (services: { reachability?: { sample: () => ReachabilitySample }, relay?: unknown }): NatReport {
  const sample = services.reachability?.sample()
  const relay = services.relay as { reservations?: { size: number } } | undefined
  return {
    reachability: sample?.state ?? 'unknown',
    publicAddrs: sample?.publicAddrs ?? [],
    relayAddrs: sample?.relayAddrs ?? [],
    relayReservations: relay?.reservations?.size ?? 0,
    relayService: relay != null,
    relayedOpened: sample?.relayedOpened ?? 0,
    upgradedDirect: sample?.upgradedDirect ?? 0
  }
}
