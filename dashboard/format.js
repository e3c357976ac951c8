/**
 * Pure helpers of the dashboard: texts, filters, sorting, the stacked
 * history series, what an action does and whether the rollout's state
 * allows it. No DOM and no imports, so the unit tests run them in node
 * (test/unit/http/dashboard.test.ts).
 */

/** a peer id in a few characters, as the CLI's tables shorten it */
export function shortPeer (id) {
  const s = String(id ?? '')
  return s.length > 16 ? `${s.slice(0, 8)}…${s.slice(-6)}` : s
}

/** milliseconds as people read them: 850 ms, 12.5 s, 3 min 5 s, 2 h 3 min, 4 d 2 h */
export function formatDuration (ms) {
  const n = Number(ms)
  if (!Number.isFinite(n) || n < 0) return '-'
  if (n < 1000) return `${Math.round(n)} ms`
  if (n < 10_000) return n % 1000 === 0 ? `${n / 1000} s` : `${(Math.floor(n / 100) / 10).toFixed(1)} s`
  const s = Math.floor(n / 1000)
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`
  const h = Math.floor(m / 60)
  if (h < 24) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`
  const d = Math.floor(h / 24)
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`
}

function toMs (at) {
  if (typeof at === 'number') return at
  const t = Date.parse(String(at ?? ''))
  return Number.isNaN(t) ? undefined : t
}

/** how long ago a time (ISO text or ms since the epoch) was: "just now", "12 s ago", "3 min ago" */
export function formatAgo (at, now = Date.now()) {
  const t = toMs(at)
  if (t == null) return '-'
  const d = now - t
  if (d < 1000) return 'just now'
  return `${formatDuration(d).replace(/ \d+ (s|min|h)$/, '')} ago`
}

const pad = n => String(n).padStart(2, '0')

/** a time (ISO text or ms) as local YYYY-MM-DD HH:MM:SS */
export function formatTime (at) {
  const t = toMs(at)
  if (t == null) return '-'
  const d = new Date(t)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** a time as local HH:MM (the chart's axis) */
export function formatClock (at) {
  const t = toMs(at)
  if (t == null) return '-'
  const d = new Date(t)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`
}

export function formatBytes (bytes) {
  const n = Number(bytes)
  if (!Number.isFinite(n) || n < 0) return '-'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return i === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`
}

/** a share 0..1 as a percentage: 0.95 → "95 %", 0.125 → "12.5 %" */
export function formatShare (share) {
  const p = Math.round(Number(share) * 1000) / 10
  return `${p} %`
}

export function gateText (gate) {
  if (gate == null) return '-'
  return `success ≥ ${formatShare(gate.success)}, soak ${formatDuration(gate.soakMs)}`
}

export function abortText (abort) {
  return abort == null ? '-' : `halts at failures ≥ ${formatShare(abort)}`
}

/** a wave of the document: a count of nodes or a cumulative share of the fleet */
export function waveSpecText (spec) {
  if (spec == null) return ''
  if (spec.count != null) return spec.count === 1 ? '1 node' : `${spec.count} nodes`
  const share = spec.fraction ?? spec.share
  return share != null ? `up to ${formatShare(share)} of the fleet` : ''
}

/** a wave's counts in the order the bars draw them; `attr` is the data- attribute's name */
export const WAVE_SEGMENTS = [
  { key: 'healthy', label: 'healthy', attr: 'healthy' },
  { key: 'installing', label: 'installing', attr: 'installing' },
  { key: 'pending', label: 'pending', attr: 'pending' },
  { key: 'deferred', label: 'deferred (maintenance window)', attr: 'deferred' },
  { key: 'failed', label: 'failed', attr: 'failed' },
  { key: 'rolledBack', label: 'rolled back', attr: 'rolled-back' }
]

/** the segments of a wave's bar: count and share of the wave's nodes for each kind */
export function waveSegments (wave) {
  const counts = WAVE_SEGMENTS.map(s => Math.max(0, Number(wave?.[s.key] ?? 0)))
  const sum = counts.reduce((a, b) => a + b, 0)
  const total = Math.max(sum, Number(wave?.nodes ?? 0))
  return WAVE_SEGMENTS.map((s, i) => ({ ...s, count: counts[i], share: total > 0 ? counts[i] / total : 0 }))
}

/** the counts of a wave as text: "3 healthy, 1 failed of 4" */
export function waveCountsText (wave) {
  const parts = waveSegments(wave).filter(s => s.count > 0).map(s => `${s.count} ${s.label}`)
  const nodes = Number(wave?.nodes ?? 0)
  return parts.length === 0 ? `no nodes yet` : `${parts.join(', ')} of ${nodes}`
}

/** a fleet row's state: its outcome, or unreachable when the coordinator has not heard from it */
export function fleetState (row) {
  return row.unreachable === true ? 'unreachable' : row.outcome
}

/** rows matching every filter set ('' or undefined: any) */
export function filterFleet (rows, filter = {}) {
  return rows.filter(r =>
    (filter.package == null || filter.package === '' || r.package === filter.package) &&
    (filter.version == null || filter.version === '' || r.current === filter.version) &&
    (filter.state == null || filter.state === '' || fleetState(r) === filter.state) &&
    (filter.tag == null || filter.tag === '' || (r.tags ?? []).includes(filter.tag)))
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' })

/** the value a fleet column sorts by */
export function fleetSortValue (row, col) {
  switch (col) {
    case 'node': return row.peerId
    case 'package': return row.package
    case 'version': return row.current
    case 'state': return fleetState(row)
    case 'wave': return row.wave
    case 'tags': return (row.tags ?? []).join(',')
    case 'lastReport': return toMs(row.lastReport) ?? 0
    default: return ''
  }
}

/** a sorted copy: by the column, then by peer id so equal rows keep one order */
export function sortFleet (rows, col, dir = 'asc') {
  const sign = dir === 'desc' ? -1 : 1
  return [...rows].sort((a, b) => {
    const x = fleetSortValue(a, col)
    const y = fleetSortValue(b, col)
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : collator.compare(String(x), String(y))
    return c !== 0 ? sign * c : collator.compare(a.peerId, b.peerId)
  })
}

/** how many nodes run each package version, by package then most nodes first */
export function versionCounts (rows) {
  const m = new Map()
  for (const r of rows) {
    const key = `${r.package}\u0000${r.current}`
    m.set(key, (m.get(key) ?? 0) + 1)
  }
  return [...m].map(([k, count]) => {
    const [pkg, version] = k.split('\u0000')
    return { package: pkg, version, count }
  }).sort((a, b) => collator.compare(a.package, b.package) || b.count - a.count || collator.compare(a.version, b.version))
}

/** distinct values of the rows for the filter selects */
export function fleetChoices (rows) {
  const uniq = xs => [...new Set(xs)].filter(x => x !== '').sort(collator.compare)
  return {
    versions: uniq(rows.map(r => r.current)),
    states: uniq(rows.map(fleetState)),
    tags: uniq(rows.flatMap(r => r.tags ?? []))
  }
}

/**
 * The history samples stacked: the series keys ("pkg version", in version
 * order) and per sample the bottom and top of each key's layer.
 */
export function stackHistory (samples) {
  const keys = [...new Set((samples ?? []).flatMap(s => Object.keys(s.versions ?? {})))].sort(collator.compare)
  let max = 0
  const stacks = (samples ?? []).map(s => {
    let y = 0
    const layers = keys.map(key => {
      const n = Number(s.versions?.[key] ?? 0)
      const layer = { key, y0: y, y1: y + n }
      y += n
      return layer
    })
    max = Math.max(max, y)
    return { at: s.at, t: toMs(s.at) ?? 0, total: y, layers }
  })
  return { keys, stacks, max }
}

/**
 * SVG paths of a stacked area chart in a width × height box: one closed
 * path per key (top edge left to right, bottom edge back). One sample
 * draws a full-width band.
 */
export function areaPaths (stacked, width, height) {
  const { keys, stacks, max } = stacked
  if (stacks.length === 0 || max === 0) return keys.map(key => ({ key, d: '' }))
  const t0 = stacks[0].t
  const t1 = stacks[stacks.length - 1].t
  const xs = stacks.length === 1 ? [0] : stacks.map((s, i) => t1 > t0 ? (s.t - t0) / (t1 - t0) * width : i / (stacks.length - 1) * width)
  const y = v => Math.round((height - v / max * height) * 100) / 100
  const x = v => Math.round(v * 100) / 100
  return keys.map((key, k) => {
    const pts = stacks.length === 1
      ? [[0, stacks[0].layers[k]], [width, stacks[0].layers[k]]]
      : stacks.map((s, i) => [xs[i], s.layers[k]])
    const top = pts.map(([px, l]) => `${x(px)},${y(l.y1)}`)
    const bottom = pts.slice().reverse().map(([px, l]) => `${x(px)},${y(l.y0)}`)
    return { key, d: `M${top.join('L')}L${bottom.join('L')}Z` }
  })
}

/** colour-blind safe (Okabe–Ito) colours for the history series, by index */
export const SERIES_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000', '#999999', '#7F3C8D']

export function seriesColour (i) {
  return SERIES_COLOURS[i % SERIES_COLOURS.length]
}

export const ACTIONS = ['promote', 'pause', 'resume', 'halt']

/** whether the rollout's state allows an action (the coordinator answers 409 otherwise), and why not */
export function actionAllowed (doc, action) {
  const state = doc?.state
  switch (action) {
    case 'promote':
      if (state !== 'running') return { ok: false, why: `the rollout is ${state}${state === 'paused' ? '; resume it first' : ''}` }
      if (doc.open >= doc.waves.length - 1) return { ok: false, why: 'the last wave is open already' }
      return { ok: true, why: '' }
    case 'pause':
      return state === 'running' ? { ok: true, why: '' } : { ok: false, why: `the rollout is ${state}` }
    case 'resume':
      return state === 'paused' ? { ok: true, why: '' } : { ok: false, why: `the rollout is ${state}` }
    case 'halt':
      return state === 'halted' && doc.rollback === true ? { ok: false, why: 'the rollout is halted and its rollback requested already' } : { ok: true, why: '' }
    default:
      return { ok: false, why: `unknown action ${action}` }
  }
}

/** what the confirmation dialog asks before an action */
export function confirmText (doc, action) {
  const what = `${doc.package} ${doc.version}`
  switch (action) {
    case 'promote': {
      const next = doc.waves[doc.open + 1]
      return `Open the next wave${next != null ? ` (${next.name}${waveSpecText(next) !== '' ? `, ${waveSpecText(next)}` : ''})` : ''} of the rollout of ${what} now, without waiting for its gate?`
    }
    case 'pause': return `Pause the rollout of ${what}? Nodes that have not started installing wait until it is resumed.`
    case 'resume': return `Resume the rollout of ${what}?`
    case 'halt': return `Halt the rollout of ${what} and roll back every node that installed it?`
    default: return `${action} the rollout of ${what}?`
  }
}

/** the request body of POST /api/v1/rollouts from the form's texts: empty fields are left to the server's defaults */
export function startBody (values) {
  const body = { package: String(values.package ?? '').trim(), version: String(values.version ?? '').trim() }
  for (const k of ['waves', 'gate', 'abort']) {
    const v = String(values[k] ?? '').trim()
    if (v !== '') body[k] = v
  }
  const mp = String(values.maxParallel ?? '').trim()
  if (mp !== '') body.maxParallel = Number(mp)
  for (const k of ['manual', 'allowDowngrade', 'critical']) if (values[k] === true) body[k] = true
  return body
}

/** the form input an API error's field names: "body.version" → "version" */
export function fieldName (field) {
  if (typeof field !== 'string' || field === '') return undefined
  const parts = field.split('.')
  return parts[parts.length - 1]
}

/**
 * The form input an API error is about: its `field`, or for the rollout
 * spec's own errors (worded for the CLI: "--waves ...") the flag it names.
 */
export function errorField (field, message) {
  const named = fieldName(field)
  if (named != null) return named
  const flag = /^--(waves|gate|abort|max-parallel)\b/.exec(String(message ?? ''))
  if (flag == null) return undefined
  return flag[1] === 'max-parallel' ? 'maxParallel' : flag[1]
}

/** why a node waits: its report's reason when the outcome is waiting, deferred or refused */
export function waitReason (report) {
  if (report == null) return ''
  return ['waiting', 'deferred', 'refused'].includes(report.outcome) ? String(report.reason ?? '') : ''
}

/** events newest first (by their time field, `at` unless named, then the later in the list first) */
export function newestFirst (events, field = 'at') {
  return (events ?? []).map((e, i) => [e, i]).sort(([a, i], [b, j]) => (toMs(b[field]) ?? 0) - (toMs(a[field]) ?? 0) || j - i).map(([e]) => e)
}

/** an audit entry in a few words: its arguments and result as key=value, short values only */
export function auditSummary (entry) {
  const parts = []
  for (const [k, v] of [...Object.entries(entry?.args ?? {}), ...Object.entries(entry?.result ?? {})]) {
    if (v == null || typeof v === 'object') continue
    const text = String(v)
    parts.push(`${k}=${text.length > 40 ? `${text.slice(0, 39)}…` : text}`)
  }
  return [...new Set(parts)].join(' ')
}

/** the page a location hash names: the overview, or one node */
export function parseRoute (hash) {
  const h = String(hash ?? '').replace(/^#/, '')
  const m = /^\/node\/(.+)$/.exec(h)
  if (m != null) {
    try { return { page: 'node', peerId: decodeURIComponent(m[1]) } } catch { return { page: 'main' } }
  }
  return { page: 'main' }
}

export function nodeHash (peerId) {
  return `#/node/${encodeURIComponent(peerId)}`
}

/** the wait before reconnecting the event stream: 1 s, 2 s, 4 s ... at most 30 s */
export function backoffMs (attempt) {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, Math.min(attempt, 15)))
}

/** the views an event from the stream changes */
export function affectedViews (event) {
  switch (event?.event) {
    case 'rollout': return ['rollouts', 'fleet', 'history', 'node', 'releases']
    case 'report': return ['rollouts', 'fleet', 'history', 'node']
    case 'changed': return ['rollouts', 'fleet', 'releases']
    case 'reconnected': return ['rollouts', 'fleet', 'history', 'node', 'releases']
    default: return []
  }
}

/** the name of a node's wave in a rollout, when the rollout is known, else its number */
export function waveName (rollouts, rolloutId, wave) {
  if (wave == null || wave < 0) return '-'
  const doc = (rollouts ?? []).map(r => r.doc).find(d => d?.id === rolloutId)
  const name = doc?.waves?.[wave]?.name
  return name != null ? name : `wave ${Number(wave) + 1}`
}
