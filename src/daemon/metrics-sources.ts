/**
 * What src/metrics reads from a daemon: one getter per source, each reading
 * the part as it is at scrape time (a part the phases have not built yet,
 * or that this kind of node never builds, gives undefined). The daemon
 * builds its metrics with `createMetrics(metricsSources(this))`.
 *
 * Nothing here waits or walks the disk on a scrape except a coordinator's
 * rollout documents, read from the repository at most every ROLLOUTS_TTL_MS.
 */
import { FollowedReleases } from '../follow/index.js'
import { natReport } from '../network/nat.js'
import { knownProtocols } from '../network/protocol-ids.js'
import { PublishedReleases } from '../publish/index.js'
import { listRollouts } from '../rollout/index.js'
import { Repository } from '../trust/repository.js'
import { VERSION } from '../version.js'
import type { Daemon } from './daemon.js'
import type { InstallSample, MetricsSources, NetworkSample } from '../metrics/index.js'
import type { RolloutDocument } from '../rollout/types.js'
import type { Connection } from '@libp2p/interface'

/** rollout documents change when a wave opens or an operator steers: read again after this long */
export const ROLLOUTS_TTL_MS = 5_000
/** a metric that cannot be computed is logged at most this often */
const ERROR_LOG_MS = 10 * 60_000

/** the transport label of a connection: relayed ones are `relay`, then by the remote address's protocols */
export function transportOf (connection: Pick<Connection, 'remoteAddr' | 'direct'>): string {
  const names = new Set(connection.remoteAddr.getComponents().map(c => c.name))
  if (connection.direct === false || names.has('p2p-circuit')) return 'relay'
  if (names.has('webtransport')) return 'webtransport'
  if (names.has('webrtc') || names.has('webrtc-direct')) return 'webrtc'
  if (names.has('ws') || names.has('wss')) return 'websockets'
  if (names.has('quic') || names.has('quic-v1')) return 'quic'
  if (names.has('memory')) return 'memory'
  if (names.has('tcp')) return 'tcp'
  return 'other'
}

export function metricsSources (daemon: Daemon): MetricsSources {
  const { parts } = daemon
  const known = new Map<string, string[]>()
  const protocolsOf = (network: string): string[] => {
    let list = known.get(network)
    if (list == null) known.set(network, list = knownProtocols(network))
    return list
  }
  let rollouts: { at: number, repoDir: string, docs: RolloutDocument[] } | undefined
  const rolloutDocs = (repoDir: string): RolloutDocument[] => {
    const now = Date.now()
    if (rollouts == null || rollouts.repoDir !== repoDir || now - rollouts.at >= ROLLOUTS_TTL_MS) {
      rollouts = { at: now, repoDir, docs: listRollouts(Repository.open(repoDir)) }
    }
    return rollouts.docs
  }
  const logged = new Map<string, number>()
  const follower = (): { releases: FollowedReleases, follower: NonNullable<typeof parts.follower> } | undefined => {
    const releases = parts.releases
    return releases instanceof FollowedReleases && parts.follower != null ? { releases, follower: parts.follower } : undefined
  }

  return {
    info: () => daemon.loaded == null ? undefined : { version: VERSION, role: daemon.role, network: daemon.loaded.config.network },
    phases: () => daemon.phases.records,
    network: (): NetworkSample | undefined => {
      const mesh = parts.mesh
      const network = daemon.loaded?.config.network
      if (mesh == null || network == null) return undefined
      const { node, traffic } = mesh
      return {
        peers: node.getPeers().length,
        connections: node.getConnections().map(c => ({ direction: c.direction, transport: transportOf(c) })),
        bytesIn: traffic.totals.bytesIn,
        bytesOut: traffic.totals.bytesOut,
        byProtocol: traffic.totals.byProtocol,
        knownProtocols: protocolsOf(network),
        nat: natReport(node.services)
      }
    },
    swarm: () => {
      const swarm = parts.mesh?.swarm
      if (swarm == null) return undefined
      const { releases, sessions } = swarm.stats()
      const pieces = swarm.pieces()
      return {
        releases,
        sessions,
        piecesHeld: pieces.held,
        piecesFetching: pieces.fetching,
        piecesRequested: pieces.requested,
        ...swarm.counters
      }
    },
    bandwidth: () => {
      const b = parts.bandwidth
      if (b == null) return undefined
      const r = b.report()
      return {
        uploadLimit: Number(r.uploadLimit),
        downloadLimit: Number(r.downloadLimit),
        uploadedBytes: Number(r.uploadedBytes),
        downloadedBytes: Number(r.downloadedBytes),
        uploadRate: Number(r.uploadRate),
        downloadRate: Number(r.downloadRate),
        uploadQueue: r.uploadQueue,
        uploadDelayMs: b.upload.delayMs(),
        downloadDelayMs: b.download.delayMs()
      }
    },
    installs: (): InstallSample[] | undefined => {
      const installs = parts.installs
      if (installs == null) return undefined
      // as status says it: an idle package whose release the follower is fetching is fetching
      const fetching = new Set<string>()
      for (const r of parts.follower?.progress.releases.values() ?? []) if (r.state === 'fetching') fetching.add(r.package)
      return installs.status().map(p => ({
        package: p.package,
        state: p.state === 'idle' && fetching.has(p.package) ? 'fetching' : p.state,
        current: p.current,
        available: p.available
      }))
    },
    installOutcomes: () => parts.installs == null ? undefined : [...parts.installs.outcomes.values()],
    trust: () => {
      const f = follower()
      if (f != null) {
        const { stale, lastRefresh } = f.follower.progress
        return { timestampVersion: f.releases.trust.timestampVersion(), stale, lastRefreshMs: lastRefresh }
      }
      if (parts.releases instanceof PublishedReleases) return { timestampVersion: parts.releases.timestampVersion(), stale: false, lastRefreshMs: 0 }
      return undefined
    },
    releases: () => {
      const f = follower()
      if (f != null) {
        const out: Array<{ state: string }> = f.releases.held.list().map(() => ({ state: 'held' }))
        // held ones are in the held list already
        for (const r of f.follower.progress.releases.values()) if (r.state !== 'held') out.push({ state: r.state })
        return out
      }
      if (parts.releases instanceof PublishedReleases) return parts.releases.summary().releases.map(() => ({ state: 'held' }))
      return undefined
    },
    announcements: () => parts.announcements?.counts,
    reports: () => parts.rollouts?.reportCounts ?? parts.coordinator?.reportCounts,
    announceLatency: () => parts.follower?.announceLatency,
    mirror: () => parts.follower?.mirror?.counters,
    coordinator: () => {
      const coordinator = parts.coordinator
      const repoDir = daemon.loaded?.config.repo
      if (coordinator == null || repoDir == null) return undefined
      return { book: coordinator.book, rollouts: rolloutDocs(repoDir) }
    },
    onError: (metric, err) => {
      // once per metric every ERROR_LOG_MS: a scrape every few seconds must not flood the log
      const now = Date.now()
      if (now - (logged.get(metric) ?? -Infinity) < ERROR_LOG_MS) return
      logged.set(metric, now)
      daemon.emit('log', 'warn', `metric ${metric} could not be computed: ${(err as Error)?.message ?? String(err)}`)
    }
  }
}
