/**
 * Status for people and for scripts: the JSON object (`--json`) and the
 * plain summary, both from one StatusResponse, and the short texts they share.
 */
import type { StatusResponse } from '../../protocols/status/index.js'

export function statusJson (s: StatusResponse): Record<string, unknown> {
  return {
    peerId: s.peerId,
    role: s.role,
    network: s.network,
    version: s.version,
    uptimeMs: Number(s.uptimeMs),
    startedAtMs: Number(s.startedAtMs),
    phase: s.phase,
    phases: s.phases.map(p => ({ name: p.name, state: p.state, durationMs: p.durationMs, detail: p.detail })),
    connections: s.connections,
    peers: s.peers.map(p => ({ peerId: p.peerId, addr: p.addr, direction: p.direction, relayed: p.relayed })),
    listenAddrs: s.listenAddrs,
    resources: s.resources == null
      ? null
      : {
          rssBytes: Number(s.resources.rssBytes),
          heapUsedBytes: Number(s.resources.heapUsedBytes),
          heapTotalBytes: Number(s.resources.heapTotalBytes),
          externalBytes: Number(s.resources.externalBytes),
          arrayBuffersBytes: Number(s.resources.arrayBuffersBytes),
          cpuUserUs: Number(s.resources.cpuUserUs),
          cpuSystemUs: Number(s.resources.cpuSystemUs),
          dataDirBytes: Number(s.resources.dataDirBytes)
        },
    traffic: s.traffic == null ? null : { bytesIn: Number(s.traffic.bytesIn), bytesOut: Number(s.traffic.bytesOut) },
    releases: s.releases.map(r => ({ package: r.package, version: r.version, channel: r.channel, state: r.state, chunksHeld: r.chunksHeld, chunksTotal: r.chunksTotal, bytesTotal: Number(r.bytesTotal), error: r.error })),
    trust: s.trust == null ? null : { mode: s.trust.mode, timestampVersion: s.trust.timestampVersion, stale: s.trust.stale, error: s.trust.error, lastRefreshMs: Number(s.trust.lastRefreshMs) },
    labels: Object.fromEntries(s.labels.map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])),
    installs: s.installs.map(p => ({ package: p.package, current: p.current, pending: p.pending, state: p.state, progressDone: Number(p.progressDone), progressTotal: Number(p.progressTotal), error: p.error, available: p.available, rollout: p.rollout })),
    bandwidth: s.bandwidth == null
      ? null
      : {
          uploadLimit: Number(s.bandwidth.uploadLimit),
          downloadLimit: Number(s.bandwidth.downloadLimit),
          uploadedBytes: Number(s.bandwidth.uploadedBytes),
          downloadedBytes: Number(s.bandwidth.downloadedBytes),
          uploadRate: Number(s.bandwidth.uploadRate),
          downloadRate: Number(s.bandwidth.downloadRate),
          swarmSessions: s.bandwidth.swarmSessions,
          uploadQueue: s.bandwidth.uploadQueue,
          sources: s.bandwidth.sources.map(c => ({ peerId: c.peerId, bytes: Number(c.bytes), link: c.link }))
        },
    nat: s.nat == null
      ? null
      : {
          reachability: s.nat.reachability,
          publicAddrs: s.nat.publicAddrs,
          relayAddrs: s.nat.relayAddrs,
          relayService: s.nat.relayService,
          relayReservations: s.nat.relayReservations,
          relayedOpened: s.nat.relayedOpened,
          upgradedDirect: s.nat.upgradedDirect
        }
  }
}

/** one installed package in a few characters: its version and state, or the install under way */
export function installText (p: StatusResponse['installs'][number]): string {
  const progress = p.state === 'staging' && p.progressTotal > 0n ? ` ${Math.floor(100 * Number(p.progressDone) / Number(p.progressTotal))}%` : ''
  return `${p.package} ${p.current === '' ? '-' : p.current} ${p.state}${p.pending !== '' ? ` -> ${p.pending}${progress}` : ''}`
}

/** one release in a few characters: held, or fetching with its progress */
export function releaseText (r: StatusResponse['releases'][number]): string {
  if (r.state === 'held') return `${r.package} ${r.version}`
  const pct = r.chunksTotal > 0 ? Math.floor(100 * r.chunksHeld / r.chunksTotal) : 0
  return `${r.package} ${r.version} ${r.state === 'failed' ? 'failed' : `${pct}%`}`
}

export function bytes (n: number | bigint): string {
  let v = Number(n)
  for (const unit of ['B', 'KiB', 'MiB', 'GiB']) {
    if (v < 1024 || unit === 'GiB') return unit === 'B' ? `${v} B` : `${v.toFixed(1)} ${unit}`
    v /= 1024
  }
  return `${v} B`
}

function rateText (n: bigint): string {
  return `${bytes(n)}/s`
}

function capText (n: bigint): string {
  return n === 0n ? 'none' : rateText(n)
}

export function duration (ms: number | bigint): string {
  let s = Math.floor(Number(ms) / 1000)
  const d = Math.floor(s / 86400); s -= d * 86400
  const h = Math.floor(s / 3600); s -= h * 3600
  const m = Math.floor(s / 60); s -= m * 60
  return [d > 0 ? `${d}d` : '', h > 0 ? `${h}h` : '', m > 0 ? `${m}m` : '', `${s}s`].filter(x => x !== '').slice(0, 2).join(' ')
}

export function statusText (s: StatusResponse): string {
  const r = s.resources
  const lines = [
    `peer id      ${s.peerId}`,
    `role         ${s.role}    network ${s.network}    version ${s.version}`,
    `uptime       ${duration(s.uptimeMs)}    phase ${s.phase}`,
    'phases       ' + s.phases.map(p => `${p.name} ${p.state}${p.state === 'done' || p.state === 'failed' ? ` ${p.durationMs}ms` : ''}`).join(' · '),
    ...s.phases.filter(p => p.state === 'failed' || p.state === 'skipped').map(p => `  ${p.name}: ${p.detail}`),
    `connections  ${s.connections}`,
    ...s.peers.map(p => `  ${p.peerId}  ${p.direction.padEnd(8)} ${p.relayed === true ? 'relayed ' : ''}${p.addr}`),
    `listening    ${s.listenAddrs.join('\n             ')}`,
    s.nat == null ? '' : `reachable    ${s.nat.reachability}${s.nat.relayAddrs.length > 0 ? `, through ${s.nat.relayAddrs.length} relay slot(s)` : ''}${s.nat.relayService ? `; relays for others: ${s.nat.relayReservations} slot(s) held here` : ''}; relayed connections ${s.nat.relayedOpened} opened, ${s.nat.upgradedDirect} followed by a direct one`,
    r == null ? '' : `resources    rss ${bytes(r.rssBytes)}, heap ${bytes(r.heapUsedBytes)} of ${bytes(r.heapTotalBytes)}, external ${bytes(r.externalBytes)} (array buffers ${bytes(r.arrayBuffersBytes)}), cpu ${(Number(r.cpuUserUs) / 1e6).toFixed(1)}s user ${(Number(r.cpuSystemUs) / 1e6).toFixed(1)}s sys, data dir ${bytes(r.dataDirBytes)}`,
    s.traffic == null ? '' : `traffic      in ${bytes(s.traffic.bytesIn)}, out ${bytes(s.traffic.bytesOut)}`,
    s.bandwidth == null ? '' : `chunks       up ${bytes(s.bandwidth.uploadedBytes)} (${rateText(s.bandwidth.uploadRate)}, cap ${capText(s.bandwidth.uploadLimit)}), down ${bytes(s.bandwidth.downloadedBytes)} (${rateText(s.bandwidth.downloadRate)}, cap ${capText(s.bandwidth.downloadLimit)}), ${s.bandwidth.swarmSessions} swarm sessions`,
    s.trust == null || s.trust.mode === '' ? '' : `trust        ${s.trust.mode}, timestamp v${s.trust.timestampVersion}${s.trust.stale ? ', STALE: the trusted metadata expired and no newer could be had' : ''}${s.trust.error !== '' ? ` (last refresh: ${s.trust.error})` : ''}`,
    ...s.releases.map(r => `release      ${releaseText(r)} (${r.channel}, ${r.state}, ${bytes(r.bytesTotal)})${r.error !== '' ? `: ${r.error}` : ''}`),
    s.labels.length === 0 ? '' : `labels       ${s.labels.join(', ')}`,
    ...s.installs.map(p => `installed    ${installText(p)}${p.available !== '' ? `, update available ${p.available}` : ''}${p.error !== '' ? `; last error: ${p.error}` : ''}${p.rollout !== '' ? `\n             ${p.rollout}` : ''}`)
  ]
  return lines.filter(l => l !== '').join('\n')
}
