/**
 * The metrics every daemon has (as far as its parts exist): what it is, its
 * start-up, its peers and traffic, the swarm and its caps, installs, trust
 * and announcements. Each is computed on scrape from the sources; the one
 * histogram (announcement to verified metadata) observes, on each scrape,
 * the latencies measured since the scrape before.
 */
import { Histogram } from 'prom-client'
import { bounded, stateLabel } from './collector.js'
import type { CollectedInit } from './collector.js'
import type { MetricsSources } from './sources.js'
import type { Registry } from 'prom-client'

export const DIRECTIONS = new Set(['inbound', 'outbound'])
export const TRANSPORTS = new Set(['tcp', 'quic', 'websockets', 'webrtc', 'webtransport', 'memory', 'relay'])
/** PackageState, as label values */
export const INSTALL_STATES = ['idle', 'fetching', 'staging', 'installing', 'health_check', 'healthy', 'failed', 'rolled_back']
export const RELEASE_STATES = new Set(['held', 'fetching', 'failed'])
export const INSTALL_KINDS = new Set(['upgrade', 'downgrade', 'rollback'])
export const INSTALL_OUTCOMES = new Set(['installed', 'rolled_back', 'failed', 'refused'])
/** seconds: a LAN refresh takes a fraction of a second, a missed snapshot is retried every 2 s */
export const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120]

const ms = (v: number): number => v / 1000

export function nodeMetrics (s: MetricsSources): CollectedInit[] {
  return [
    {
      name: 'umesh_build_info',
      help: 'Always 1: the umesh version, the role (node or bootstrap) and the network name',
      type: 'gauge',
      labelNames: ['version', 'role', 'network'],
      collect: emit => {
        const info = s.info?.()
        if (info != null) emit({ version: info.version, role: info.role, network: info.network }, 1)
      }
    },
    {
      name: 'umesh_startup_phase_duration_seconds',
      help: 'How long each start-up phase took (phases done, failed or skipped)',
      type: 'gauge',
      labelNames: ['phase'],
      collect: emit => {
        for (const p of s.phases?.() ?? []) {
          if (p.state === 'done' || p.state === 'failed' || p.state === 'skipped') emit({ phase: p.name }, ms(p.durationMs))
        }
      }
    },
    {
      name: 'umesh_peers',
      help: 'Peers with an open connection',
      type: 'gauge',
      collect: emit => {
        const n = s.network?.()
        if (n != null) emit({}, n.peers)
      }
    },
    {
      name: 'umesh_connections',
      help: 'Open connections by direction and transport (relay: a relayed connection)',
      type: 'gauge',
      labelNames: ['direction', 'transport'],
      collect: emit => {
        const n = s.network?.()
        if (n == null) return
        for (const d of DIRECTIONS) emit({ direction: d, transport: 'tcp' }, 0)
        for (const c of n.connections) emit({ direction: bounded(c.direction, DIRECTIONS), transport: bounded(c.transport, TRANSPORTS) }, 1)
      }
    },
    {
      name: 'umesh_network_bytes_total',
      help: 'Bytes received (in) and sent (out) on every connection, encryption and multiplexing included',
      type: 'counter',
      labelNames: ['direction'],
      collect: emit => {
        const n = s.network?.()
        if (n == null) return
        emit({ direction: 'in' }, n.bytesIn)
        emit({ direction: 'out' }, n.bytesOut)
      }
    },
    {
      name: 'umesh_reachable',
      help: 'Whether peers can dial this node: 1 reachable (AutoNAT confirmed a public address), 0 unreachable (behind NAT: peers see it at a public IP not its own), -1 unknown (not yet known, or a private network with no public address)',
      type: 'gauge',
      collect: emit => {
        const nat = s.network?.()?.nat
        if (nat != null) emit({}, nat.reachability === 'reachable' ? 1 : nat.reachability === 'unreachable' ? 0 : -1)
      }
    },
    {
      name: 'umesh_relay_slots',
      help: 'Relay slots this node holds (the relayed addresses it advertises)',
      type: 'gauge',
      collect: emit => {
        const nat = s.network?.()?.nat
        if (nat != null) emit({}, nat.relayAddrs.length)
      }
    },
    {
      name: 'umesh_relay_reservations',
      help: 'Relay service: nodes holding a slot on this node (absent when it does not relay)',
      type: 'gauge',
      collect: emit => {
        const nat = s.network?.()?.nat
        if (nat?.relayService === true) emit({}, nat.relayReservations)
      }
    },
    {
      name: 'umesh_relayed_connections_total',
      help: 'Relayed connections opened (opened), and of those the ones a direct connection to the same peer followed (upgraded: hole punching or its dial-back)',
      type: 'counter',
      labelNames: ['outcome'],
      collect: emit => {
        const nat = s.network?.()?.nat
        if (nat == null) return
        emit({ outcome: 'opened' }, nat.relayedOpened)
        emit({ outcome: 'upgraded' }, nat.upgradedDirect)
      }
    },
    {
      name: 'umesh_protocol_bytes_total',
      help: 'Stream payload bytes received (in) and sent (out) per protocol id; protocols this node does not know are summed as other',
      type: 'counter',
      labelNames: ['protocol', 'direction'],
      collect: emit => {
        const n = s.network?.()
        if (n == null) return
        const known = new Set(n.knownProtocols)
        for (const [protocol, bytes] of n.byProtocol) {
          const label = bounded(protocol, known)
          emit({ protocol: label, direction: 'in' }, bytes.bytesIn)
          emit({ protocol: label, direction: 'out' }, bytes.bytesOut)
        }
      }
    },
    ...swarmMetrics(s),
    ...installMetrics(s),
    ...followMetrics(s),
    ...mirrorMetrics(s)
  ]
}

function mirrorMetrics (s: MetricsSources): CollectedInit[] {
  const counter = (name: string, help: string, value: (m: NonNullable<ReturnType<NonNullable<MetricsSources['mirror']>>>) => number, labels?: (m: NonNullable<ReturnType<NonNullable<MetricsSources['mirror']>>>) => Array<[Record<string, string>, number]>): CollectedInit => ({
    name,
    help,
    type: 'counter',
    ...(labels == null ? {} : { labelNames: ['kind'] }),
    collect: emit => {
      const m = s.mirror?.()
      if (m == null) return
      if (labels == null) emit({}, value(m))
      else for (const [l, v] of labels(m)) emit(l, v)
    }
  })
  return [
    counter('umesh_mirror_bytes_total', 'Bytes taken from the static HTTP mirror: chunk data (each chunk verified against its CID) and metadata and target files (handed to tuf-js, which verifies them); apart from what peers sent (umesh_swarm_bytes_total)', () => 0, m => [[{ kind: 'chunks' }, m.chunkBytes], [{ kind: 'metadata' }, m.metadataBytes]]),
    counter('umesh_mirror_chunks_total', 'Chunks taken from the static HTTP mirror, each verified against its CID', m => m.chunks),
    counter('umesh_mirror_requests_total', 'Requests sent to the static HTTP mirror', m => m.requests),
    counter('umesh_mirror_failures_total', 'Mirror requests that failed: not found, too large, wrong hash, timeout, HTTP or connection errors (each logged with its URL)', m => m.failures)
  ]
}

function swarmMetrics (s: MetricsSources): CollectedInit[] {
  const gauge = (name: string, help: string, value: (sw: NonNullable<ReturnType<NonNullable<MetricsSources['swarm']>>>) => number): CollectedInit => ({
    name,
    help,
    type: name.endsWith('_total') ? 'counter' : 'gauge',
    collect: emit => {
      const sw = s.swarm?.()
      if (sw != null) emit({}, value(sw))
    }
  })
  const perDirection = (name: string, help: string, up: (b: NonNullable<ReturnType<NonNullable<MetricsSources['bandwidth']>>>) => number, down: typeof up): CollectedInit => ({
    name,
    help,
    type: name.endsWith('_total') ? 'counter' : 'gauge',
    labelNames: ['direction'],
    collect: emit => {
      const b = s.bandwidth?.()
      if (b == null) return
      emit({ direction: 'upload' }, up(b))
      emit({ direction: 'download' }, down(b))
    }
  })
  return [
    gauge('umesh_swarm_releases', 'Releases with a swarm on this node (fetching or serving)', sw => sw.releases),
    gauge('umesh_swarm_sessions', 'Have sessions open with peers, over all releases', sw => sw.sessions),
    gauge('umesh_swarm_pieces_held', 'Pieces this node holds of the releases in its swarms', sw => sw.piecesHeld),
    gauge('umesh_swarm_pieces_fetching', 'Pieces still missing in the releases being fetched', sw => sw.piecesFetching),
    gauge('umesh_swarm_pieces_requested', 'Piece requests out to peers now (an end-game piece asked of two peers counts twice)', sw => sw.piecesRequested),
    gauge('umesh_swarm_pieces_fetched_total', 'Pieces fetched, verified and stored', sw => sw.piecesFetched),
    gauge('umesh_swarm_chunk_verification_failures_total', 'Chunks a peer sent that did not hash to the CID asked for (the peer is dropped for that release)', sw => sw.verificationFailures),
    gauge('umesh_swarm_chunk_protocol_errors_total', 'Chunk answers that broke the protocol: oversized, malformed, cut short (the peer is dropped for that release)', sw => sw.protocolErrors),
    perDirection('umesh_swarm_limit_bytes_per_second', 'The operator\'s cap on chunk data, per direction; 0: no cap', b => b.uploadLimit, b => b.downloadLimit),
    perDirection('umesh_swarm_rate_bytes_per_second', 'Chunk data per second over the last 5 seconds, per direction', b => b.uploadRate, b => b.downloadRate),
    perDirection('umesh_swarm_bytes_total', 'Chunk data sent to peers (upload) and fetched from them (download)', b => b.uploadedBytes, b => b.downloadedBytes),
    perDirection('umesh_swarm_throttle_delay_seconds', 'How long chunk data would wait for its cap now; 0: not throttled', b => ms(b.uploadDelayMs), b => ms(b.downloadDelayMs)),
    {
      name: 'umesh_swarm_upload_queue',
      help: 'Chunk answers waiting for an upload slot',
      type: 'gauge',
      collect: emit => {
        const b = s.bandwidth?.()
        if (b != null) emit({}, b.uploadQueue)
      }
    }
  ]
}

function installMetrics (s: MetricsSources): CollectedInit[] {
  return [
    {
      name: 'umesh_install_state',
      help: 'Per package with install settings: 1 for its install state now, 0 for the others',
      type: 'gauge',
      labelNames: ['package', 'state'],
      collect: emit => {
        for (const p of s.installs?.() ?? []) {
          const state = stateLabel(p.state)
          for (const st of INSTALL_STATES) emit({ package: p.package, state: st }, st === state ? 1 : 0)
        }
      }
    },
    {
      name: 'umesh_install_current_info',
      help: 'Always 1: the version installed of each package (none: nothing installed yet)',
      type: 'gauge',
      labelNames: ['package', 'version'],
      collect: emit => {
        for (const p of s.installs?.() ?? []) emit({ package: p.package, version: p.current ?? 'none' }, 1)
      }
    },
    {
      name: 'umesh_install_update_available',
      help: '1 when a newer release of the package is held on its channel and not installed',
      type: 'gauge',
      labelNames: ['package'],
      collect: emit => {
        for (const p of s.installs?.() ?? []) emit({ package: p.package }, p.available != null ? 1 : 0)
      }
    },
    {
      name: 'umesh_installs_total',
      help: 'Installs, rollbacks and failures this daemon ran, by package, kind (upgrade, downgrade, rollback) and outcome (installed, rolled_back, failed, refused)',
      type: 'counter',
      labelNames: ['package', 'kind', 'outcome'],
      collect: emit => {
        for (const o of s.installOutcomes?.() ?? []) {
          emit({ package: o.package, kind: bounded(o.kind, INSTALL_KINDS), outcome: bounded(stateLabel(o.outcome), INSTALL_OUTCOMES) }, o.count)
        }
      }
    }
  ]
}

function followMetrics (s: MetricsSources): CollectedInit[] {
  return [
    {
      name: 'umesh_trust_timestamp_version',
      help: 'The version of the TUF timestamp this node trusts',
      type: 'gauge',
      collect: emit => {
        const t = s.trust?.()
        if (t != null) emit({}, t.timestampVersion)
      }
    },
    {
      name: 'umesh_trust_stale',
      help: '1 while the trusted metadata is expired or frozen and no refresh has succeeded since',
      type: 'gauge',
      collect: emit => {
        const t = s.trust?.()
        if (t != null) emit({}, t.stale ? 1 : 0)
      }
    },
    {
      name: 'umesh_trust_last_refresh_timestamp_seconds',
      help: 'When the metadata was last refreshed successfully (Unix time)',
      type: 'gauge',
      collect: emit => {
        const t = s.trust?.()
        if (t != null && t.lastRefreshMs > 0) emit({}, ms(t.lastRefreshMs))
      }
    },
    {
      name: 'umesh_releases',
      help: 'Releases by state: held (on a publisher, every published one), fetching, failed (the last fetch of it failed)',
      type: 'gauge',
      labelNames: ['state'],
      collect: emit => {
        const releases = s.releases?.()
        if (releases == null) return
        for (const st of RELEASE_STATES) emit({ state: st }, 0)
        for (const r of releases) emit({ state: bounded(r.state, RELEASE_STATES) }, 1)
      }
    },
    byVerdict('umesh_announcements_total', 'Messages on the announce topic by verdict: accepted (verified and newer), ignored, rejected (a bad signature)', () => s.announcements?.()),
    byVerdict('umesh_reports_total', 'Messages on the rollout reports topic by verdict: accepted (verified and new: forwarded), stale (no newer than the report held from that node: not forwarded), rejected (malformed or a bad signature)', () => s.reports?.())
  ]
}

/**
 * The histogram of seconds from an announcement's arrival to its
 * timestamp's metadata verified. The follower keeps the newest latencies and
 * their count; each scrape observes those measured since the scrape before
 * (a follower that is new, or restarted its count, is read from the start).
 */
export function latencyHistogram (s: MetricsSources, registry: Registry, onError: (metric: string, err: unknown) => void): Histogram {
  let seen = 0
  const name = 'umesh_announcement_to_verified_seconds'
  return new Histogram({
    name,
    help: 'Seconds from an accepted announcement reaching this node to the follower having verified the announced timestamp\'s metadata',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
    collect () {
      try {
        const log = s.announceLatency?.()
        if (log == null) return
        if (log.count < seen) seen = 0
        const fresh = Math.min(log.count - seen, log.recent.length)
        for (const v of log.recent.slice(log.recent.length - fresh)) if (Number.isFinite(v) && v >= 0) this.observe(v)
        seen = log.count
      } catch (err) {
        onError(name, err)
      }
    }
  })
}

/** a counter of messages on a topic, one sample per verdict the source counts */
function byVerdict (name: string, help: string, counts: () => object | undefined): CollectedInit {
  return {
    name,
    help,
    type: 'counter',
    labelNames: ['verdict'],
    collect: emit => {
      for (const [verdict, n] of Object.entries(counts() ?? {})) emit({ verdict }, n as number)
    }
  }
}
