/**
 * The fleet table: one row per node as the coordinator heard it (node,
 * package, version it runs, state, rollout wave, tags, last report),
 * filtered by version, state and tag, sorted by clicking a header, the
 * counts per version above it. A row opens the node's page.
 */
import { html, useMemo, useState } from './vendor/htm-preact.mjs'
import {
  filterFleet, fleetChoices, fleetState, formatAgo, formatTime, nodeHash, shortPeer,
  sortFleet, versionCounts, waveName
} from './format.js'

const COLUMNS = [
  { col: 'node', label: 'node' },
  { col: 'package', label: 'package' },
  { col: 'version', label: 'version' },
  { col: 'state', label: 'state' },
  { col: 'wave', label: 'rollout wave' },
  { col: 'tags', label: 'tags' },
  { col: 'lastReport', label: 'last report' }
]

function Filter ({ id, label, value, options, onChange, all }) {
  return html`
    <label for=${id}>${label}
      <select id=${id} name=${id} value=${value} onChange=${e => { onChange(e.currentTarget.value) }}>
        <option value="">${all}</option>
        ${options.map(o => html`<option key=${o} value=${o}>${o}</option>`)}
      </select>
    </label>`
}

export function Fleet ({ res, rollouts }) {
  const [filter, setFilter] = useState({ version: '', state: '', tag: '' })
  const [sort, setSort] = useState({ col: 'node', dir: 'asc' })
  const rows = res.data ?? []
  const choices = useMemo(() => fleetChoices(rows), [rows])
  const counts = useMemo(() => versionCounts(rows), [rows])
  const shown = useMemo(() => sortFleet(filterFleet(rows, filter), sort.col, sort.dir), [rows, filter, sort])
  const now = Date.now()

  const setF = key => value => { setFilter(f => ({ ...f, [key]: value })) }
  const sortBy = col => { setSort(s => ({ col, dir: s.col === col && s.dir === 'asc' ? 'desc' : 'asc' })) }
  const open = (e, peerId) => {
    if (e.target.closest('a') != null) return
    location.hash = nodeHash(peerId)
  }
  const active = filter.version !== '' || filter.state !== '' || filter.tag !== ''

  return html`
    <section id="fleet-section" class="card" aria-labelledby="fleet-title">
      <h2 id="fleet-title">Fleet</h2>
      ${res.error != null ? html`<p class="error" role="alert">Fleet: ${res.error.message}</p>` : null}
      <ul class="version-counts" id="version-counts" aria-label="Nodes per version">
        ${counts.map(c => html`
          <li key=${`${c.package} ${c.version}`} data-package=${c.package} data-version=${c.version} data-count=${String(c.count)}>
            <span class="pkg">${c.package}</span> <strong>${c.version === '' ? 'not installed' : c.version}</strong>: ${c.count} ${c.count === 1 ? 'node' : 'nodes'}
          </li>`)}
      </ul>
      <div class="filters">
        <${Filter} id="filter-version" label="version" value=${filter.version} options=${choices.versions} onChange=${setF('version')} all="any version" />
        <${Filter} id="filter-state" label="state" value=${filter.state} options=${choices.states} onChange=${setF('state')} all="any state" />
        <${Filter} id="filter-tag" label="tag" value=${filter.tag} options=${choices.tags} onChange=${setF('tag')} all="any tag" />
        ${active ? html`<button type="button" id="filter-clear" onClick=${() => { setFilter({ version: '', state: '', tag: '' }) }}>Clear filters</button>` : null}
        <span class="muted" id="fleet-count">${shown.length} of ${rows.length} ${rows.length === 1 ? 'node' : 'nodes'}</span>
      </div>
      <div class="table-wrap">
        <table id="fleet">
          <thead>
            <tr>
              ${COLUMNS.map(c => html`
                <th key=${c.col} scope="col" data-col=${c.col} aria-sort=${sort.col === c.col ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
                  <button type="button" class="sort" data-sort=${c.col} onClick=${() => { sortBy(c.col) }}>
                    ${c.label}<span class="sort-mark" aria-hidden="true">${sort.col === c.col ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}</span>
                  </button>
                </th>`)}
            </tr>
          </thead>
          <tbody>
            ${shown.map(r => {
              const state = fleetState(r)
              return html`
                <tr key=${`${r.peerId} ${r.package}`} data-peer=${r.peerId} data-package=${r.package} class="clickable" onClick=${e => { open(e, r.peerId) }}>
                  <td data-col="node"><a href=${nodeHash(r.peerId)} title=${r.peerId} class="mono">${shortPeer(r.peerId)}</a></td>
                  <td data-col="package">${r.package}</td>
                  <td data-col="version">${r.current === '' ? '-' : r.current}</td>
                  <td data-col="state"><span class=${`outcome outcome-${state}`}>${state}</span></td>
                  <td data-col="wave">${r.rolloutId === '' ? '-' : waveName(rollouts, r.rolloutId, r.wave)}</td>
                  <td data-col="tags">${(r.tags ?? []).map(t => html`<span key=${t} class="tag">${t}</span>`)}</td>
                  <td data-col="lastReport" class="num"><time datetime=${r.lastReport} title=${formatTime(r.lastReport)}>${formatAgo(r.lastReport, now)}</time></td>
                </tr>`
            })}
          </tbody>
        </table>
      </div>
      ${res.data != null && rows.length === 0 ? html`<p class="muted">No node has reported to the coordinator yet.</p>` : null}
      ${rows.length > 0 && shown.length === 0 ? html`<p class="muted">No node matches the filters.</p>` : null}
    </section>`
}
