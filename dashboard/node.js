/**
 * One node's page (#/node/<peerId>): what the coordinator knows of it
 * (GET /api/v1/fleet/{peerId}: its row, its reports per rollout newest
 * first, the events naming it) and its own status over libp2p
 * (GET /api/v1/fleet/{peerId}/status: phases, peers, releases held and
 * fetching, installs, resources); a 502 there shows "node not reachable"
 * and keeps the reports.
 */
import { html } from './vendor/htm-preact.mjs'
import { api } from './api.js'
import { useLiveRefresh, useResource } from './live.js'
import {
  fleetState, formatAgo, formatBytes, formatDuration, formatTime, newestFirst, nodeHash, shortPeer,
  waitReason, waveName
} from './format.js'

function rolloutLabel (rollouts, rolloutId) {
  const doc = (rollouts ?? []).map(r => r.doc).find(d => d?.id === rolloutId)
  return doc != null ? `${doc.package} ${doc.version} (${doc.state})` : rolloutId === '' ? '-' : `rollout ${rolloutId.slice(0, 8)}`
}

function Phases ({ phases }) {
  return html`
    <table class="compact" data-section="phases">
      <thead><tr><th scope="col">phase</th><th scope="col">state</th><th scope="col">took</th><th scope="col">detail</th></tr></thead>
      <tbody>${phases.map(p => html`
        <tr key=${p.name} data-phase=${p.name}>
          <td>${p.name}</td><td><span class=${`phase phase-${p.state}`}>${p.state}</span></td>
          <td class="num">${p.state === 'pending' ? '-' : formatDuration(p.durationMs)}</td><td class="long">${p.detail || ''}</td>
        </tr>`)}</tbody>
    </table>`
}

function Releases ({ releases }) {
  const held = releases.filter(r => r.state === 'held')
  const other = releases.filter(r => r.state !== 'held')
  return html`
    <div data-section="releases">
      <h4>Held</h4>
      ${held.length === 0 ? html`<p class="muted">None.</p>` : html`
        <ul class="plain">${held.map(r => html`<li key=${`${r.package} ${r.version}`} data-release=${`${r.package} ${r.version}`} data-state="held">
          ${r.package} <strong>${r.version}</strong> <span class="muted">${r.channel} · ${formatBytes(r.bytesTotal)}</span></li>`)}</ul>`}
      <h4>Fetching</h4>
      ${other.length === 0 ? html`<p class="muted">Nothing.</p>` : html`
        <ul class="plain">${other.map(r => html`<li key=${`${r.package} ${r.version}`} data-release=${`${r.package} ${r.version}`} data-state=${r.state}>
          ${r.package} <strong>${r.version}</strong>
          <progress max=${r.chunksTotal || 1} value=${r.chunksHeld}></progress>
          <span class="muted"> ${r.chunksHeld}/${r.chunksTotal} chunks</span>
          ${r.state === 'failed' ? html` <span class="error">failed${r.error ? `: ${r.error}` : ''}</span>` : null}
        </li>`)}</ul>`}
    </div>`
}

function Installs ({ installs }) {
  if (installs.length === 0) return html`<p class="muted">No package installed by this node.</p>`
  return html`
    <table class="compact" data-section="installs">
      <thead><tr><th scope="col">package</th><th scope="col">current</th><th scope="col">pending</th><th scope="col">state</th><th scope="col">rollout</th><th scope="col">error</th></tr></thead>
      <tbody>${installs.map(p => html`
        <tr key=${p.package} data-install=${p.package}>
          <td>${p.package}</td><td>${p.current || '-'}</td>
          <td>${p.pending || '-'}${p.state === 'staging' && p.progressTotal > 0 ? ` (${Math.floor(100 * p.progressDone / p.progressTotal)} %)` : ''}</td>
          <td>${p.state}</td><td class="long">${p.rollout || '-'}</td><td class=${p.error ? 'long error' : 'long'}>${p.error || ''}</td>
        </tr>`)}</tbody>
    </table>`
}

function StatusPart ({ res }) {
  if (res.error?.status === 502) {
    return html`<p class="warn" id="node-unreachable" role="status">Node not reachable: ${res.error.message}</p>`
  }
  if (res.error != null) return html`<p class="error" role="alert">Status: ${res.error.message}</p>`
  const s = res.data
  if (s == null) return html`<p class="muted">Asking the node over libp2p…</p>`
  const r = s.resources
  return html`
    <div id="node-status" data-phase=${s.phase}>
      <dl class="facts">
        <div><dt>role</dt><dd>${s.role}</dd></div>
        <div><dt>version</dt><dd>${s.version}</dd></div>
        <div><dt>phase</dt><dd>${s.phase}</dd></div>
        <div><dt>up</dt><dd>${formatDuration(s.uptimeMs)}</dd></div>
        <div><dt>connections</dt><dd>${s.connections}</dd></div>
        ${s.trust != null ? html`<div><dt>trust</dt><dd>${s.trust.mode}, timestamp v${s.trust.timestampVersion}${s.trust.stale ? ', stale' : ''}${s.trust.error ? `: ${s.trust.error}` : ''}</dd></div>` : null}
      </dl>
      <h3>Start-up phases</h3>
      <${Phases} phases=${s.phases ?? []} />
      <h3>Releases</h3>
      <${Releases} releases=${s.releases ?? []} />
      <h3>Installed</h3>
      <${Installs} installs=${s.installs ?? []} />
      <h3>Peers (${(s.peers ?? []).length})</h3>
      ${(s.peers ?? []).length === 0 ? html`<p class="muted">No peer connected.</p>` : html`
        <ul class="plain peers" data-section="peers">${s.peers.map(p => html`
          <li key=${`${p.peerId} ${p.addr}`}><a class="mono" href=${nodeHash(p.peerId)} title=${p.peerId}>${shortPeer(p.peerId)}</a>
            <span class="muted"> ${p.direction} · ${p.addr.replace(/\/p2p\/[^/]+$/, '')}</span></li>`)}</ul>`}
      ${r != null ? html`
        <h3>Resources</h3>
        <dl class="facts" data-section="resources">
          <div><dt>memory (RSS)</dt><dd>${formatBytes(r.rssBytes)}</dd></div>
          <div><dt>heap used</dt><dd>${formatBytes(r.heapUsedBytes)}</dd></div>
          <div><dt>CPU user / system</dt><dd>${formatDuration(r.cpuUserUs / 1000)} / ${formatDuration(r.cpuSystemUs / 1000)}</dd></div>
          <div><dt>data dir</dt><dd>${formatBytes(r.dataDirBytes)}</dd></div>
          ${s.traffic != null ? html`<div><dt>traffic in / out</dt><dd>${formatBytes(s.traffic.bytesIn)} / ${formatBytes(s.traffic.bytesOut)}</dd></div>` : null}
        </dl>` : null}
    </div>`
}

function lastError (reports, status) {
  const fromStatus = (status?.installs ?? []).find(p => p.error)
  if (fromStatus != null) return `${fromStatus.package}: ${fromStatus.error}`
  const failed = reports.find(r => r.outcome === 'failed')
  return failed != null ? `${failed.package} ${failed.version}: ${failed.reason || 'failed'}` : ''
}

export function NodePage ({ peerId, rollouts }) {
  const info = useResource(signal => api.node(peerId, signal), [peerId])
  const status = useResource(signal => api.nodeStatus(peerId, signal), [peerId])
  const mine = ev => ev.data?.peerId == null || ev.data.peerId === peerId
  useLiveRefresh('node', info.reload, { intervalMs: 10_000, match: mine })
  useLiveRefresh('node', status.reload, { intervalMs: 10_000, match: mine })

  const node = info.data?.node
  const reports = info.data?.reports ?? []
  const events = newestFirst(info.data?.events ?? [])
  const latest = reports[0]
  const waits = waitReason(latest)
  const err = lastError(reports, status.data)
  const state = node != null ? fleetState(node) : ''

  return html`
    <main id="node" data-peer=${peerId}>
      <p><a href="#/">← back to the fleet</a></p>
      <h2 class="mono wrap">${peerId}</h2>
      ${info.error?.status === 404 ? html`<p class="error" role="alert">The coordinator has no report from this node: ${info.error.message}</p>`
        : info.error != null ? html`<p class="error" role="alert">${info.error.message}</p>` : null}
      ${node != null ? html`
        <dl class="facts card" id="node-summary">
          <div><dt>package</dt><dd data-col="package">${node.package}</dd></div>
          <div><dt>version</dt><dd data-col="version">${node.current || '-'}</dd></div>
          <div><dt>state</dt><dd data-col="state"><span class=${`outcome outcome-${state}`}>${state}</span></dd></div>
          <div><dt>rollout</dt><dd>${rolloutLabel(rollouts, node.rolloutId)}</dd></div>
          <div><dt>rollout wave</dt><dd data-col="wave">${node.rolloutId === '' ? '-' : waveName(rollouts, node.rolloutId, node.wave)}</dd></div>
          <div><dt>tags</dt><dd data-col="tags">${(node.tags ?? []).map(t => html`<span key=${t} class="tag">${t}</span>`)}</dd></div>
          <div><dt>last report</dt><dd data-col="lastReport" title=${formatTime(node.lastReport)}>${formatAgo(node.lastReport)}</dd></div>
        </dl>` : info.loading ? html`<p class="muted">Loading…</p>` : null}
      ${waits !== '' ? html`<p class="notice" id="wait-reason" data-outcome=${latest.outcome}><strong>Why it ${latest.outcome === 'refused' ? 'refuses' : 'waits'}:</strong> ${waits}</p>` : null}
      ${err !== '' ? html`<p class="error" id="last-error"><strong>Last error:</strong> ${err}</p>` : null}
      <div class="columns">
        <section class="card" aria-labelledby="history-h">
          <h3 id="history-h">Install history</h3>
          ${reports.length === 0 ? html`<p class="muted">No report yet.</p>` : html`
            <div class="table-wrap"><table class="compact" id="reports" data-section="reports">
              <thead><tr><th scope="col">time</th><th scope="col">rollout</th><th scope="col">version</th><th scope="col">outcome</th><th scope="col">running</th><th scope="col">reason</th></tr></thead>
              <tbody>${reports.map(r => html`
                <tr key=${`${r.rolloutId} ${r.seq}`} data-rollout=${r.rolloutId} data-outcome=${r.outcome}>
                  <td><time datetime=${new Date(r.at).toISOString()}>${formatTime(r.at)}</time></td>
                  <td class="long" title=${`rollout ${r.rolloutId}`}>${rolloutLabel(rollouts, r.rolloutId)} · ${waveName(rollouts, r.rolloutId, r.wave)}</td>
                  <td>${r.version}</td>
                  <td><span class=${`outcome outcome-${r.outcome}`}>${r.outcome}</span></td>
                  <td>${r.current || '-'}</td>
                  <td class="long">${r.reason}</td>
                </tr>`)}</tbody>
            </table></div>`}
          <h3>Events naming it</h3>
          ${events.length === 0 ? html`<p class="muted">None.</p>` : html`
            <ol class="events" data-section="events">${events.map((e, i) => html`
              <li key=${`${e.at}-${i}`} data-event=${e.event}>
                <time datetime=${e.at}>${formatTime(e.at)}</time>
                <span class=${`event-name ev-${e.event}`}>${e.event}</span>
                <span class="event-detail">${e.detail}</span>
              </li>`)}</ol>`}
        </section>
        <section class="card" aria-labelledby="status-h">
          <h3 id="status-h">Its own status</h3>
          <${StatusPart} res=${status} />
        </section>
      </div>
    </main>`
}
