/**
 * The one config schema: every option's type, default, flag, environment
 * variable and documentation. Loading, `--help` and the README table all read
 * from here, so they cannot disagree.
 */
import { homedir } from 'node:os'
import { join } from 'node:path'
import { boolean, hostPort, integer, list, multiaddrText, oneOf, peerIdText, peerMultiaddrText, rate, size, text } from './parsers.js'
import { ConfigError } from '../errors.js'
import { parsePackages } from '../install/config.js'
import type { Parser } from './parsers.js'
import type { PackageEntry } from '../install/config.js'
import { parseMaintenance } from '../rollout/windows.js'
import type { MaintenanceConfig } from '../rollout/types.js'
import { parseLabels } from '../rollout/labels.js'
import type { Labels } from '../rollout/labels.js'

import { LOG_LEVELS } from '../util/log-level.js'
import type { LogLevel } from '../util/log-level.js'

export { LOG_LEVELS }
export type { LogLevel }

export interface NodeConfig {
  dataDir: string
  network: string
  listen: string[]
  announce: string[]
  quic: boolean
  readHoldMs: number
  bootstrapFile: string | null
  bootstrap: string[]
  mdns: boolean
  dhtMode: 'server' | 'client'
  privateAddresses: boolean
  autonat: boolean
  relayService: 'auto' | 'on' | 'off'
  relayMaxReservations: number
  relayReservationTtl: number
  relayMaxDuration: number
  relayMaxBytes: number
  autoRelay: boolean
  holePunching: boolean
  upnp: boolean
  allowRelayedData: boolean
  maxConnections: number
  maxInboundPerIp: number
  targetPeers: number
  denyPeers: string[]
  logLevel: LogLevel
  logFormat: 'text' | 'json'
  httpListen: string | null
  httpMetricsAuth: boolean
  httpMaxUpload: number
  repo: string | null
  trustedRoot: string | null
  follow: string[]
  announceInterval: number
  checkInterval: number
  mirrors: string[]
  mirrorAfterMs: number
  uploadLimit: number
  downloadLimit: number
  packages: Record<string, PackageEntry>
  tags: string[]
  labels: Labels
  maintenance: MaintenanceConfig
  coordinator: boolean
  webhooks: string[]
}

export type OptionKey = keyof NodeConfig

export interface OptionSpec<K extends OptionKey = OptionKey> {
  key: K
  parse: Parser<NodeConfig[K]>
  default: NodeConfig[K]
  /** long flag name without the dashes */
  flag: string
  /** shown in help as the flag's argument; absent for booleans */
  arg?: string
  env: string
  doc: string
  /** applied by SIGHUP without a restart */
  live: boolean
  /** may appear in the node config file (dataDir may not: it is where that file is found) */
  inFile: boolean
  /** may appear in bootstrap.json */
  inBootstrapFile?: boolean
  /** a flag that may be repeated although the value is not a list (labels: an object) */
  repeatable?: boolean
}

const NETWORK_NAME = /^[a-z0-9][a-z0-9._-]{0,31}$/
const FOLLOW = /^[a-z0-9][a-z0-9._-]{0,63}(@(alpha|beta|stable))?$/

function option<K extends OptionKey> (spec: Omit<OptionSpec<K>, 'env' | 'inFile'> & { env?: string, inFile?: boolean }): OptionSpec<K> {
  return {
    env: `UMESH_${spec.key.replace(/[A-Z]/g, c => `_${c}`).toUpperCase()}`,
    inFile: true,
    ...spec
  }
}

export const DEFAULT_PORT = 4090

/**
 * A listen address. QUIC ones are refused: with `quic` on, each TCP listen
 * address gets its QUIC twin (same IP, same port number on UDP), so one list
 * says where the node listens and a firewall opens one port number twice.
 */
const listenAddr: Parser<string> = (value, field) => {
  const s = multiaddrText(value, field)
  if (s.includes('/quic')) {
    throw new ConfigError(field, `expected a TCP listen address, found the QUIC address ${s}; QUIC listens beside each TCP address, on the same port over UDP, when quic is on (--quic)`)
  }
  return s
}

/** a mirror's base URL: http(s), no credentials (they would show in logs and status), no query or fragment */
const mirrorUrl: Parser<string> = (value, field) => {
  const s = text(/^https?:\/\/[^\s?#]+$/, 'an http:// or https:// URL of the repository folder, without query or fragment')(value, field)
  let url: URL
  try {
    url = new URL(s)
  } catch {
    throw new ConfigError(field, `expected an http:// or https:// URL, found "${s}", which does not parse`)
  }
  if (url.username !== '' || url.password !== '') throw new ConfigError(field, 'a mirror URL carries no user name or password (they would show in logs); serve the repository without them')
  return s
}

export const SCHEMA: OptionSpec[] = [
  option({
    key: 'dataDir', parse: text(), default: join(homedir(), '.umesh'), flag: 'data-dir', arg: 'DIR', live: false, inFile: false,
    doc: 'where the node keeps its key, peer store, DHT records and lock; <dataDir>/config.json is read when --config is not given'
  }),
  option({
    key: 'network', parse: text(NETWORK_NAME, 'a lowercase name of 1-32 letters, digits, dot, dash or underscore'), default: 'umesh', flag: 'network', arg: 'NAME', live: false, inBootstrapFile: true,
    doc: 'mesh name; part of every protocol id, the DHT protocol and gossip topics, so two networks never mix'
  }),
  option({
    key: 'listen', parse: list(listenAddr), default: [`/ip4/0.0.0.0/tcp/${DEFAULT_PORT}`], flag: 'listen', arg: 'MA', live: false,
    doc: 'TCP multiaddrs to listen on (repeat the flag, or comma-separate); with quic on, each also over QUIC on the same port'
  }),
  option({
    key: 'announce', parse: list(multiaddrText), default: [], flag: 'announce', arg: 'MA', live: false,
    doc: 'multiaddrs to tell peers instead of the listen addresses (for NAT or a load balancer)'
  }),
  option({
    key: 'quic', parse: boolean, default: false, flag: 'quic', live: false,
    doc: 'also listen and dial over QUIC (UDP, on the port of each TCP listen address), preferred with peers that offer it; TCP stays on for every peer. Off by default: slower and costlier than TCP as measured (see Limits). An announce list is used as written: add the QUIC address to it yourself'
  }),
  option({
    key: 'readHoldMs', parse: integer(0, 100), default: 5, flag: 'read-hold-ms', arg: 'MS', live: false,
    doc: 'while a TCP connection receives a flow of small reads (a slow or shaped link), stop reading for this long so the kernel gathers packets into one read: fewer passes through the stream stack (at 20 Mbit/s about a quarter less CPU per MiB at the receiving end); lone messages and the trickle of acknowledgements a sender gets are never held. 0 turns it off'
  }),
  option({
    key: 'bootstrapFile', parse: text(), default: null, flag: 'bootstrap', arg: 'FILE', live: true,
    doc: 'bootstrap.json to read ({"network", "bootstrap": [multiaddr/p2p/id]}); default <dataDir>/bootstrap.json when present'
  }),
  option({
    key: 'bootstrap', parse: list(peerMultiaddrText), default: [], flag: 'bootstrap-peer', arg: 'MA', live: true, inBootstrapFile: true,
    doc: 'bootstrap peers, each a multiaddr ending in /p2p/<peer id>; re-dialled with backoff until connected'
  }),
  option({
    key: 'mdns', parse: boolean, default: true, flag: 'mdns', live: false,
    doc: 'find peers on the local network by multicast DNS (--no-mdns to turn off)'
  }),
  option({
    key: 'dhtMode', parse: oneOf(['server', 'client'] as const), default: 'server', flag: 'dht-mode', arg: 'MODE', live: false,
    doc: 'server answers DHT queries for others; client only asks (for nodes others cannot dial); a server that AutoNAT finds unreachable turns to client by itself'
  }),
  option({
    key: 'privateAddresses', parse: boolean, default: true, flag: 'private-addresses', live: false,
    doc: 'keep loopback and LAN addresses in DHT records (fleets mostly live on private networks; --no-private-addresses for public meshes)'
  }),
  option({
    key: 'autonat', parse: boolean, default: true, flag: 'autonat', live: false,
    doc: 'AutoNAT: peers dial this node back to confirm its public addresses, and it does the same for them; status and /metrics say whether the node is reachable (reachable: a public address confirmed; unreachable: it sits behind NAT, peers see it at a public address that is not its own)'
  }),
  option({
    key: 'relayService', parse: oneOf(['auto', 'on', 'off'] as const), default: 'auto', flag: 'relay-service', arg: 'MODE', live: false,
    doc: 'serve circuit relay v2, so nodes behind NAT can be reached through this one: auto = on for bootstrap nodes, off for others. Only small traffic (announcements, metadata, status) crosses a relay unless allowRelayedData'
  }),
  option({
    key: 'relayMaxReservations', parse: integer(1, 10_000), default: 64, flag: 'relay-max-reservations', arg: 'N', live: false,
    doc: 'relay service: nodes holding a slot (a reservation) at once; more are refused'
  }),
  option({
    key: 'relayReservationTtl', parse: integer(60, 86_400), default: 3600, flag: 'relay-reservation-ttl', arg: 'SECONDS', live: false,
    doc: 'relay service: how long a reservation lasts; holders renew it 5 minutes before it ends'
  }),
  option({
    key: 'relayMaxDuration', parse: integer(0, 86_400), default: 120, flag: 'relay-max-duration', arg: 'SECONDS', live: false,
    doc: 'relay service: a relayed connection is cut after this long (its peers dial again, or have moved to a direct connection by hole punching); 0 with relayMaxBytes 0: no limit'
  }),
  option({
    key: 'relayMaxBytes', parse: integer(0, 2 ** 40), default: 4 * 1024 * 1024, flag: 'relay-max-bytes', arg: 'BYTES', live: false,
    doc: 'relay service: bytes relayed per connection (both ways) before it is cut; 0 with relayMaxDuration 0: no limit'
  }),
  option({
    key: 'autoRelay', parse: boolean, default: true, flag: 'auto-relay', live: false,
    doc: 'once AutoNAT finds this node unreachable, reserve a slot on a relay (a bootstrap node, mostly) and advertise the relayed address, so peers elsewhere can reach it'
  }),
  option({
    key: 'holePunching', parse: boolean, default: true, flag: 'hole-punching', live: false,
    doc: 'DCUtR: upgrade a relayed connection to a direct one (the unreachable side dials back, or both dial at once) where the NATs allow'
  }),
  option({
    key: 'upnp', parse: boolean, default: false, flag: 'upnp', live: false,
    doc: 'ask the LAN\'s router for a port mapping by UPnP (SSDP multicast on the LAN) and advertise the mapped address once AutoNAT confirms it; off by default'
  }),
  option({
    key: 'allowRelayedData', parse: boolean, default: false, flag: 'allow-relayed-data', live: false,
    doc: 'let chunk data flow over relayed connections (served and fetched); off: chunks travel only over direct connections, the relay carries announcements, metadata, reports and status'
  }),
  option({
    key: 'maxConnections', parse: integer(1, 10_000), default: 100, flag: 'max-connections', arg: 'N', live: true,
    doc: 'connections kept open before the least valuable are pruned'
  }),
  option({
    key: 'maxInboundPerIp', parse: integer(1, 10_000), default: 16, flag: 'max-inbound-per-ip', arg: 'N', live: true,
    doc: 'inbound connections accepted at once from one IP address'
  }),
  option({
    key: 'targetPeers', parse: integer(0, 10_000), default: 12, flag: 'target-peers', arg: 'N', live: true,
    doc: 'peers discovery keeps connected: below this, known and discovered peers are dialled'
  }),
  option({
    key: 'denyPeers', parse: list(peerIdText), default: [], flag: 'deny-peer', arg: 'PEER_ID', live: true,
    doc: 'peer ids never connected to, in or out; applying a new list closes their connections'
  }),
  option({
    key: 'repo', parse: text(), default: null, flag: 'repo', arg: 'DIR', live: false,
    doc: 'run as the publisher of this release repository (umesh repo init): serve its metadata and chunks, announce new timestamps'
  }),
  option({
    key: 'trustedRoot', parse: text(), default: null, flag: 'trusted-root', arg: 'FILE', live: false,
    doc: 'the release repository\'s root.json this node trusts; copied into the data dir on first start, then followed through signed rotations'
  }),
  option({
    key: 'follow', parse: list(text(FOLLOW, 'a package name, optionally @alpha, @beta or @stable (e.g. my-app@beta)')), default: [], flag: 'follow', arg: 'PKG[@CHANNEL]', live: false,
    doc: 'packages this node fetches and holds, each on a channel (default stable)'
  }),
  option({
    key: 'announceInterval', parse: integer(5, 3600), default: 30, flag: 'announce-interval', arg: 'SECONDS', live: false,
    doc: 'a publisher re-announces its current timestamp this often, for nodes that missed it (gossipsub forgets a message id after half this time, so the same bytes go out again)'
  }),
  option({
    key: 'checkInterval', parse: integer(5, 86_400), default: 60, flag: 'check-interval', arg: 'SECONDS', live: false,
    doc: 'a follower refreshes its metadata through its peers this often, announcement or not'
  }),
  option({
    key: 'mirrors', parse: list(mirrorUrl), default: [], flag: 'mirror', arg: 'URL', live: false,
    doc: 'static HTTP mirrors of the release repository (a web server or CDN serving its metadata/, targets/ and chunks/ folders as they are), tried in order: a follower takes from them the metadata and pieces no peer serves, so the publisher can leave. Everything is verified as from peers'
  }),
  option({
    key: 'mirrorAfterMs', parse: integer(0, 600_000), default: 3000, flag: 'mirror-after-ms', arg: 'MS', live: false,
    doc: 'with mirrors: how long a piece goes unoffered by any peer, or the peers send nothing, before a mirror is asked for it; the same wait for a metadata file no peer has served yet'
  }),
  option({
    key: 'uploadLimit', parse: rate, default: 0, flag: 'upload-limit', arg: 'RATE', live: true,
    doc: 'cap on the chunk data this node sends to peers, in bytes per second or with a unit (20Mbit, 2.5MB, 512KiB); 0: no cap. Keeps updates from saturating a production link'
  }),
  option({
    key: 'downloadLimit', parse: rate, default: 0, flag: 'download-limit', arg: 'RATE', live: true,
    doc: 'cap on the chunk data this node fetches from peers, same units; 0: no cap'
  }),
  option({
    key: 'packages', parse: parsePackages, default: {}, flag: 'packages', arg: 'JSON', live: false,
    doc: 'install settings per followed package: installRoot, keepVersions, autoUpdate, health, hooks, statePaths, encryptBackups, dependencies, minFreeMemory (see "Installing"); a followed package without an entry is held, not installed'
  }),
  option({
    key: 'tags', parse: list(text(/^[a-z0-9][a-z0-9._-]{0,31}$/, 'a lowercase tag of 1-32 letters, digits, . _ -')), default: [], flag: 'tag', arg: 'TAG', live: false,
    doc: 'tags of this node for rollouts: canary pins it to the first wave, last to the last; all are shown in reports and `umesh fleet`'
  }),
  option({
    key: 'labels', parse: parseLabels, default: {}, flag: 'label', arg: 'KEY=VALUE', live: true, repeatable: true,
    doc: 'labels of this node, for rollout selectors (`umesh rollout start --select "region=eu-west,hw in (revB,revC)"`): repeat the flag, or comma-separate; in the config file an object {"region": "eu-west"}. Keys [prefix/]name, names and values 1-63 of A-Z a-z 0-9 . _ - (a value may be empty), at most 16 labels. Carried in the node\'s signed reports and shown in status; a change applies to rollouts that reach the node after it'
  }),
  option({
    key: 'maintenance', parse: parseMaintenance, default: { windows: [], blackouts: [] }, flag: 'maintenance', arg: 'JSON', live: false,
    doc: 'when rollouts may install here: {"windows": [{"days": ["sat","sun"], "start": "02:00", "end": "05:00", "timeZone": "Europe/Berlin"}], "blackouts": [{"from": ISO, "to": ISO}]}; no windows: any time outside blackouts; a critical release bypasses windows, not blackouts'
  }),
  option({
    key: 'coordinator', parse: boolean, default: false, flag: 'coordinator', live: false,
    doc: 'with --repo: coordinate the repository\'s rollouts (take the nodes\' reports, open waves, halt and ask for rollback)'
  }),
  option({
    key: 'webhooks', parse: list(text(/^https?:\/\/\S+$/, 'an http:// or https:// URL')), default: [], flag: 'webhook', arg: 'URL', live: false,
    doc: 'the coordinator posts rollout events here as JSON (with a Slack-compatible text field), with retries, never blocking the rollout'
  }),
  option({
    key: 'logLevel', parse: oneOf(LOG_LEVELS), default: 'info', flag: 'log-level', arg: 'LEVEL', live: true,
    doc: `${LOG_LEVELS.join(' | ')}; debug and trace also enable the libp2p component logs`
  }),
  option({
    key: 'logFormat', parse: oneOf(['text', 'json'] as const), default: 'text', flag: 'log-format', arg: 'FORMAT', live: false,
    doc: 'text (one readable line per message) or json (one object per line: time, level, component, message and fields such as peer, package, version) for Loki, Elasticsearch or journald'
  }),
  option({
    key: 'httpListen', parse: hostPort, default: null, flag: 'http-listen', arg: 'HOST:PORT', live: false,
    doc: 'open the HTTP listener: /healthz, /readyz, /metrics, /api/v1 (the management API on a coordinator) and the dashboard at /; off by default. Beyond loopback only once an API token exists (umesh api token create)'
  }),
  option({
    key: 'httpMetricsAuth', parse: boolean, default: false, flag: 'http-metrics-auth', live: false,
    doc: '/metrics asks for an API token (read or operate) like /api/v1; by default it is open, as Prometheus scrapers expect'
  }),
  option({
    key: 'httpMaxUpload', parse: size, default: 1024 ** 3, flag: 'http-max-upload', arg: 'SIZE', live: false,
    doc: 'largest release archive POST /api/v1/releases accepts (bytes or with a unit: 512MiB, 2GB); a bigger one is refused with 413 and nothing written'
  })
]

export function defaults (): NodeConfig {
  return Object.fromEntries(SCHEMA.map(s => [s.key, structuredClone(s.default)])) as unknown as NodeConfig
}

export function specFor (key: string): OptionSpec | undefined {
  return SCHEMA.find(s => s.key === key)
}
