/**
 * Who did what: the rollout history (GET /api/v1/rollout-history, every
 * rollout with its outcome and who started and last changed it) and the
 * audit log (GET /api/v1/audit, each operator action, newest first), with
 * the log's own check (GET /api/v1/audit?verify=true) on request.
 */
import { html, useState } from './vendor/htm-preact.mjs'
import { api } from './api.js'
import { auditSummary, formatTime, newestFirst } from './format.js'

/** rows shown of each list; the API and the CLI give them all */
const SHOWN = 50

export function RolloutHistory ({ res }) {
  const rows = newestFirst(res.data ?? [], 'created').slice(0, SHOWN)
  return html`
    <section id="rollout-history" class="card" aria-labelledby="rollout-history-title" data-rows=${String(rows.length)}>
      <h2 id="rollout-history-title">Rollout history</h2>
      ${res.error != null ? html`<p class="error" role="alert">Rollout history: ${res.error.message}</p>` : null}
      ${rows.length === 0
        ? html`<p class="muted">${res.data == null && res.error == null ? 'Loading…' : 'No rollout yet.'}</p>`
        : html`<div class="table-wrap"><table>
          <thead><tr><th scope="col">package</th><th scope="col">version</th><th scope="col">outcome</th><th scope="col">started</th><th scope="col">by</th><th scope="col">last change</th><th scope="col">by</th></tr></thead>
          <tbody>
            ${rows.map(h => html`<tr key=${h.id} data-rollout=${h.id} data-outcome=${h.outcome}>
              <td>${h.package}</td><td>${h.version}</td><td>${h.outcome}${h.current ? '' : ' (replaced)'}</td>
              <td>${formatTime(h.created)}</td><td>${h.startedBy ?? '-'}</td>
              <td title=${h.reason}>${formatTime(h.updated)}</td><td>${h.changedBy ?? '-'}</td>
            </tr>`)}
          </tbody></table></div>`}
    </section>`
}

export function AuditLog ({ res }) {
  const [check, setCheck] = useState(undefined)
  const rows = newestFirst(res.data ?? [], 'time').slice(0, SHOWN)
  const verify = async () => {
    setCheck({ running: true })
    try {
      setCheck(await api.verifyAudit())
    } catch (err) {
      setCheck({ error: err.message })
    }
  }
  return html`
    <section id="audit" class="card" aria-labelledby="audit-title" data-rows=${String(rows.length)}>
      <h2 id="audit-title">Audit log</h2>
      <p class="muted">Each operator action on releases and rollouts, signed and chained; the newest ${SHOWN}. All of it: <code>umesh audit --repo DIR</code>.</p>
      ${res.error != null ? html`<p class="error" role="alert">Audit log: ${res.error.message}</p>` : null}
      ${rows.length === 0
        ? html`<p class="muted">${res.data == null && res.error == null ? 'Loading…' : 'No entry yet.'}</p>`
        : html`<div class="table-wrap"><table>
          <thead><tr><th scope="col">time</th><th scope="col">action</th><th scope="col">who</th><th scope="col">via</th><th scope="col">what</th></tr></thead>
          <tbody>
            ${rows.map(e => html`<tr key=${String(e.seq)} data-action=${e.action}>
              <td>${formatTime(e.time)}</td><td>${e.action}</td><td>${e.actor}</td><td>${e.via}</td><td>${auditSummary(e)}</td>
            </tr>`)}
          </tbody></table></div>`}
      <p>
        <button type="button" id="audit-verify" onClick=${verify} disabled=${check?.running === true}>Verify the log</button>
        ${check == null || check.running === true
          ? null
          : check.error != null
            ? html` <span class="error" id="audit-verify-result" role="alert">${check.error}</span>`
            : html` <span id="audit-verify-result" data-ok=${String(check.ok)} class=${check.ok ? 'ok' : 'error'} role="status">${check.ok
              ? `${check.entries} entries: signatures, order and chain valid`
              : `not valid: ${check.problem?.detail ?? check.problem?.kind ?? 'see umesh audit --verify'}`}</span>`}
      </p>
    </section>`
}
