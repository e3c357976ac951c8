/**
 * What the metrics read, each on scrape: plain getters the daemon passes
 * (src/daemon/metrics-sources.ts). The daemon builds its parts phase by
 * phase, and a bootstrap node never builds some of them, so every getter
 * may be absent or return undefined: its metrics are then left out of the
 * scrape, not shown as zero.
 */
import type { ReportBook } from '../rollout/index.js'
import type { RolloutDocument } from '../rollout/types.js'

export interface NodeInfo {
  version: string
  role: string
  network: string
}

/** a start-up phase: its state (pending, running, done, failed, skipped) and how long it took */
export interface PhaseSample {
  name: string
  state: string
  durationMs: number
}

export interface ByteCounts {
  bytesIn: number
  bytesOut: number
}

export interface NetworkSample extends ByteCounts {
  /** peers with an open connection */
  peers: number
  /** each open connection: inbound or outbound, and its transport (tcp, quic, websockets, webrtc, webtransport, memory, relay; anything else counts as other) */
  connections: ReadonlyArray<{ direction: string, transport: string }>
  /** stream payload bytes per protocol id since start */
  byProtocol: ReadonlyMap<string, ByteCounts>
  /** the protocol ids labelled by name; bytes of any other protocol are summed as `other` */
  knownProtocols: readonly string[]
  /** NAT traversal (src/network/nat.ts): reachability, relay slots, relayed connections */
  nat?: NatSample
}

export interface NatSample {
  reachability: 'reachable' | 'unreachable' | 'unknown'
  /** relayed addresses this node advertises (slots held on relays) */
  relayAddrs: readonly string[]
  relayService: boolean
  /** relay service: nodes holding a slot here */
  relayReservations: number
  relayedOpened: number
  upgradedDirect: number
}

export interface SwarmSample {
  /** releases with a swarm on this node, and have sessions open in them */
  releases: number
  sessions: number
  /** pieces this node holds of those releases */
  piecesHeld: number
  /** pieces still missing in the releases being fetched */
  piecesFetching: number
  /** piece requests out to peers now */
  piecesRequested: number
  /** counters since start */
  piecesFetched: number
  verificationFailures: number
  protocolErrors: number
}

/** the chunk traffic caps (bytes a second, 0: none) and what went through them */
export interface BandwidthSample {
  uploadLimit: number
  downloadLimit: number
  uploadedBytes: number
  downloadedBytes: number
  /** bytes a second over the last seconds */
  uploadRate: number
  downloadRate: number
  /** chunk answers waiting for an upload slot */
  uploadQueue: number
  /** how long a chunk would wait for its cap now, in ms (0: not throttled) */
  uploadDelayMs: number
  downloadDelayMs: number
}

export interface InstallSample {
  package: string
  /** idle, fetching, staging, installing, health-check, healthy, failed, rolled-back */
  state: string
  /** the version installed, null: none */
  current: string | null
  /** a newer held release on the followed channel, null: none */
  available: string | null
}

/** finished installs, rollbacks and failures since start */
export interface InstallOutcomeSample {
  package: string
  /** upgrade, downgrade, rollback */
  kind: string
  /** installed, rolled-back, failed, refused */
  outcome: string
  count: number
}

export interface TrustSample {
  timestampVersion: number
  stale: boolean
  /** ms since the epoch of the last successful refresh; 0: none yet */
  lastRefreshMs: number
}

/** reports on the rollout reports topic since start: accepted (new, forwarded), stale (no newer than held: not forwarded), rejected */
export interface ReportCountsSample {
  accepted: number
  stale: number
  rejected: number
}

/** announcements judged since start */
export interface AnnouncementCounts {
  accepted: number
  ignored: number
  rejected: number
}

/**
 * Seconds from an announcement's arrival to its timestamp's metadata
 * verified: how many were measured since start and the newest of them, last
 * at the end. Each scrape observes those measured since the one before.
 */
export interface LatencyLog {
  count: number
  recent: readonly number[]
}

/** a coordinator: the nodes' reports and the rollout documents in the repository (one per package) */
export interface CoordinatorSample {
  book: ReportBook
  rollouts: readonly RolloutDocument[]
  /** the clock that tells unreachable nodes (default Date.now()) */
  now?: number
}

/** counts since start from a follower's HTTP mirror */
export interface MirrorSample {
  requests: number
  failures: number
  chunkBytes: number
  chunks: number
  metadataBytes: number
}

/**
 * Each getter is called at most once per scrape and its value may be read
 * by several metrics: return arrays and maps, not one-shot iterators.
 */
export interface MetricsSources {
  info?: () => NodeInfo | undefined
  phases?: () => readonly PhaseSample[] | undefined
  network?: () => NetworkSample | undefined
  swarm?: () => SwarmSample | undefined
  bandwidth?: () => BandwidthSample | undefined
  installs?: () => readonly InstallSample[] | undefined
  installOutcomes?: () => readonly InstallOutcomeSample[] | undefined
  trust?: () => TrustSample | undefined
  /** the releases held, being fetched or failed (state held | fetching | failed) */
  releases?: () => ReadonlyArray<{ state: string }> | undefined
  announcements?: () => AnnouncementCounts | undefined
  reports?: () => ReportCountsSample | undefined
  announceLatency?: () => LatencyLog | undefined
  /** what the static HTTP mirror served, when mirrors are configured */
  mirror?: () => MirrorSample | undefined
  coordinator?: () => CoordinatorSample | undefined
  /** a getter or a metric threw: that metric is left out of this scrape (and counted in umesh_metrics_collect_errors_total) */
  onError?: (metric: string, err: unknown) => void
}
