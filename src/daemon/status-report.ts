/**
 * The daemon's answer on the status protocol, assembled from its parts:
 * identity and phases, connections, resources and traffic, the releases it
 * holds or fetches and its trust, each installed package with its place in
 * the rollout, and the swarm's bandwidth. Lists are capped so one answer
 * stays within the protocol's response limit.
 */
import { VERSION } from '../version.js'
import { isRelayed, natReport } from '../network/index.js'
import type { DaemonParts, ReleaseMode } from './daemon.js'
import type { PhaseRecord } from './phases.js'
import type { ResourceUsage } from './resources.js'
import type { StatusReport } from '../../protocols/status/index.js'

export interface StatusInputs {
  peerId: string
  role: string
  network: string
  mode: ReleaseMode
  startedAt: number
  phase: string
  phases: PhaseRecord[]
  resources: ResourceUsage
  parts: DaemonParts
}

const MAX_PEERS = 256
const MAX_INSTALLS = 64
const MAX_ROLLOUT_TEXT = 1024
const MAX_CHUNK_SOURCES = 64
const MAX_NAT_ADDRS = 16

function nat (parts: DaemonParts): StatusReport['nat'] {
  const services = parts.mesh?.node.services
  if (services == null) return undefined
  const r = natReport(services)
  return {
    reachability: r.reachability,
    publicAddrs: r.publicAddrs.slice(0, MAX_NAT_ADDRS),
    relayAddrs: r.relayAddrs.slice(0, MAX_NAT_ADDRS),
    relayReservations: r.relayReservations,
    relayedOpened: r.relayedOpened,
    upgradedDirect: r.upgradedDirect,
    relayService: r.relayService
  }
}

/** the peers chunks came from, most bytes first */
function chunkSources (parts: DaemonParts): NonNullable<StatusReport['bandwidth']>['sources'] {
  const sources = parts.mesh?.swarm?.sources
  if (sources == null) return []
  return [...sources.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, MAX_CHUNK_SOURCES)
    .map(([peerId, s]) => ({ peerId, bytes: BigInt(s.bytes), link: s.link }))
}

function releasesAndTrust (mode: ReleaseMode, parts: DaemonParts): Pick<StatusReport, 'releases' | 'trust'> {
  if (parts.follower != null) return parts.follower.report()
  if (parts.releases != null) return parts.releases.report()
  return { releases: [], trust: { mode, timestampVersion: 0, stale: false, error: '', lastRefreshMs: 0n } }
}

function rolloutText (parts: DaemonParts, pkg: string): string {
  const v = parts.rollouts?.view(pkg)
  if (v == null || v.rolloutId === 'none') return ''
  return `rollout ${v.rolloutId} of ${v.version}: wave ${v.wave}, ${v.outcome}${v.reason !== '' ? ` (${v.reason})` : ''}`.slice(0, MAX_ROLLOUT_TEXT)
}

function installs (parts: DaemonParts, releases: StatusReport['releases']): StatusReport['installs'] {
  const fetching = new Set(releases.filter(r => r.state === 'fetching').map(r => r.package))
  return (parts.installs?.status() ?? []).slice(0, MAX_INSTALLS).map(p => ({
    package: p.package,
    current: p.current ?? '',
    pending: p.pending,
    state: p.state === 'idle' && fetching.has(p.package) ? 'fetching' : p.state,
    progressDone: BigInt(p.progress.done),
    progressTotal: BigInt(p.progress.total),
    error: p.lastError,
    available: p.available ?? '',
    rollout: rolloutText(parts, p.package)
  }))
}

export function statusReport (inputs: StatusInputs): StatusReport {
  const { parts } = inputs
  const mesh = parts.mesh
  const connections = mesh?.node.getConnections() ?? []
  const { releases, trust } = releasesAndTrust(inputs.mode, parts)
  return {
    peerId: inputs.peerId,
    role: inputs.role,
    network: inputs.network,
    version: VERSION,
    uptimeMs: BigInt(Date.now() - inputs.startedAt),
    startedAtMs: BigInt(inputs.startedAt),
    phase: inputs.phase,
    phases: inputs.phases.map(r => ({ name: r.name, state: r.state, durationMs: r.durationMs, detail: r.detail })),
    connections: connections.length,
    peers: connections.slice(0, MAX_PEERS).map(c => ({ peerId: c.remotePeer.toString(), addr: c.remoteAddr.toString(), direction: c.direction, relayed: isRelayed(c) })),
    listenAddrs: mesh?.node.getMultiaddrs().map(a => a.toString()) ?? [],
    resources: inputs.resources,
    traffic: {
      bytesIn: BigInt(mesh?.traffic.totals.bytesIn ?? 0),
      bytesOut: BigInt(mesh?.traffic.totals.bytesOut ?? 0)
    },
    releases,
    trust,
    installs: installs(parts, releases),
    // a node's labels matter to its rollouts: they are known where it installs packages
    labels: Object.entries(parts.rollouts?.labels?.() ?? {}).map(([k, v]) => `${k}=${v}`),
    bandwidth: parts.bandwidth == null ? undefined : { ...parts.bandwidth.report(), swarmSessions: mesh?.swarm?.stats().sessions ?? 0, sources: chunkSources(parts) },
    nat: nat(parts)
  }
}
