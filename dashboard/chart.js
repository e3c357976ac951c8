/**
 * The version breakdown of the fleet over time (GET /api/v1/fleet/history):
 * a stacked area chart drawn as SVG paths (no chart library), one layer per
 * "package version", with a legend giving each one's latest count.
 */
import { html, useMemo } from './vendor/htm-preact.mjs'
import { areaPaths, formatClock, formatDuration, formatTime, seriesColour, stackHistory } from './format.js'

const W = 640
const H = 180
const PAD = { left: 36, right: 8, top: 8, bottom: 22 }

export function History ({ res }) {
  const samples = res.data?.samples ?? []
  const stacked = useMemo(() => stackHistory(samples), [samples])
  const iw = W - PAD.left - PAD.right
  const ih = H - PAD.top - PAD.bottom
  const paths = useMemo(() => areaPaths(stacked, iw, ih), [stacked])
  const last = stacked.stacks[stacked.stacks.length - 1]
  const first = stacked.stacks[0]
  const ticks = stacked.max > 0 ? [...new Set([0, Math.round(stacked.max / 2), stacked.max])] : []

  return html`
    <section id="history" class="card" aria-labelledby="history-title" data-samples=${String(samples.length)}>
      <h2 id="history-title">Versions over time</h2>
      ${res.error != null ? html`<p class="error" role="alert">History: ${res.error.message}</p>` : null}
      ${samples.length === 0
        ? html`<p class="muted">${res.data == null && res.error == null ? 'Loading…' : 'No samples yet.'}</p>`
        : html`
          <svg class="chart" viewBox=${`0 0 ${W} ${H}`} role="img"
            aria-label=${`Nodes per version from ${formatTime(first.at)} to ${formatTime(last.at)}${res.data?.intervalMs != null ? `, a sample every ${formatDuration(res.data.intervalMs)}` : ''}`}>
            <g transform=${`translate(${PAD.left},${PAD.top})`}>
              ${ticks.map(t => {
                const y = ih - (t / stacked.max) * ih
                return html`<g key=${`t${t}`}>
                  <line class="grid-line" x1="0" x2=${iw} y1=${y} y2=${y}></line>
                  <text class="axis" x="-6" y=${y + 4} text-anchor="end">${t}</text>
                </g>`
              })}
              ${paths.map((p, i) => html`
                <path key=${p.key} d=${p.d} fill=${seriesColour(i)} fill-opacity="0.85" stroke=${seriesColour(i)} stroke-width="0.5" data-series=${p.key}>
                  <title>${p.key}: ${last.layers[i].y1 - last.layers[i].y0} now</title>
                </path>`)}
              <text class="axis" x="0" y=${ih + 16} text-anchor="start">${formatClock(first.at)}</text>
              <text class="axis" x=${iw} y=${ih + 16} text-anchor="end">${formatClock(last.at)}</text>
            </g>
          </svg>
          <ul class="legend chart-legend" aria-label="Versions">
            ${stacked.keys.map((k, i) => html`
              <li key=${k} data-series=${k}>
                <span class="swatch" style=${{ background: seriesColour(i) }} aria-hidden="true"></span>
                ${k}: <strong>${last.layers[i].y1 - last.layers[i].y0}</strong>
              </li>`)}
          </ul>`}
    </section>`
}
