/**
 * The rollout in effect per package: its header, each wave as a stacked bar
 * (healthy, installing, pending, deferred, failed, rolled back) with its
 * counts as text, the gate and abort threshold, the controls (promote,
 * pause, resume, halt with rollback, each confirmed in the dialog) and the
 * rollout's recent events, newest first.
 */
import { html, useState } from './vendor/htm-preact.mjs'
import { api } from './api.js'
import { askConfirm } from './confirm.js'
import {
  abortText, actionAllowed, ACTIONS, confirmText, formatTime, gateText, newestFirst,
  WAVE_SEGMENTS, waveCountsText, waveSegments, waveSpecText
} from './format.js'

const ACTION_LABELS = { promote: 'Promote next wave', pause: 'Pause', resume: 'Resume', halt: 'Halt and roll back' }
const ACTION_YES = { promote: 'Open the next wave', pause: 'Pause the rollout', resume: 'Resume the rollout', halt: 'Halt and roll back' }
const EVENTS_SHOWN = 8

export function Legend () {
  return html`
    <ul class="legend" aria-label="Wave bar colours">
      ${WAVE_SEGMENTS.map(s => html`<li key=${s.key}><span class=${`swatch seg-${s.attr}`} aria-hidden="true"></span>${s.label}</li>`)}
    </ul>`
}

function WaveBar ({ wave, spec, doc }) {
  const segments = waveSegments(wave)
  const counts = waveCountsText(wave)
  const data = {}
  for (const s of segments) data[`data-${s.attr}`] = String(s.count)
  return html`
    <li class=${`wave${wave.open ? ' wave-open' : ''}`}>
      <div class="wave-head">
        <strong class="wave-name">${wave.name}</strong>
        <span class="muted">${waveSpecText(spec)}</span>
        <span class=${`badge ${wave.open ? 'badge-open' : 'badge-closed'}`}>${wave.open ? 'open' : 'not open'}</span>
      </div>
      <div class="bar" role="img" aria-label=${`wave ${wave.name}: ${counts}`}
        data-wave=${wave.name} data-open=${String(wave.open)} data-nodes=${String(wave.nodes)} ...${data}>
        ${segments.filter(s => s.count > 0).map(s => html`
          <span key=${s.key} class=${`seg seg-${s.attr}`} style=${{ width: `${(s.share * 100).toFixed(3)}%` }} title=${`${s.count} ${s.label}`}></span>`)}
      </div>
      <p class="wave-counts">${counts}</p>
      <p class="wave-gate muted">gate: ${gateText(doc.gate)} · abort: ${abortText(doc.abort)}</p>
    </li>`
}

function Controls ({ doc, role, reload }) {
  const [busy, setBusy] = useState('')
  const [error, setError] = useState('')
  const [done, setDone] = useState('')
  const operate = role === 'operate'
  const act = async action => {
    setError('')
    setDone('')
    const ok = await askConfirm({ title: ACTION_LABELS[action], text: confirmText(doc, action), yes: ACTION_YES[action], danger: action === 'halt' })
    if (!ok) return
    setBusy(action)
    try {
      const next = await api.steer(doc.package, action)
      setDone(`${ACTION_LABELS[action]}: done; the rollout is ${next?.state ?? 'changed'}.`)
      reload()
    } catch (err) {
      setError(err.message)
    } finally {
      setBusy('')
    }
  }
  return html`
    <div class="controls">
      ${ACTIONS.map(action => {
        const allowed = actionAllowed(doc, action)
        const disabled = !operate || !allowed.ok || busy !== ''
        const title = !operate
          ? `Your token's role is ${role ?? 'unknown'}: steering a rollout needs a token with the operate role`
          : !allowed.ok ? `Not now: ${allowed.why}` : confirmText(doc, action)
        return html`
          <button type="button" key=${action} data-action=${action} class=${action === 'halt' ? 'danger' : ''}
            disabled=${disabled} title=${title} onClick=${() => { act(action) }}>
            ${busy === action ? `${ACTION_LABELS[action]}…` : ACTION_LABELS[action]}
          </button>`
      })}
      ${error !== '' ? html`<p class="error" role="alert" data-error="controls">${error}</p>` : null}
      ${done !== '' ? html`<p class="ok" role="status">${done}</p>` : null}
    </div>`
}

function Events ({ events }) {
  const sorted = newestFirst(events)
  if (sorted.length === 0) return html`<p class="muted">No events yet.</p>`
  const row = (e, i) => html`
    <li key=${`${e.at}-${i}`} data-event=${e.event}>
      <time datetime=${e.at}>${formatTime(e.at)}</time>
      <span class=${`event-name ev-${e.event}`}>${e.event}</span>
      <span class="event-detail">${e.detail}</span>
    </li>`
  return html`
    <ol class="events" reversed>${sorted.slice(0, EVENTS_SHOWN).map(row)}</ol>
    ${sorted.length > EVENTS_SHOWN
      ? html`<details><summary>${sorted.length - EVENTS_SHOWN} older events</summary>
          <ol class="events">${sorted.slice(EVENTS_SHOWN).map(row)}</ol></details>`
      : null}`
}

function yesNo (b) { return b === true ? 'yes' : 'no' }

export function RolloutSection ({ view, role, reload }) {
  const { doc } = view
  const last = doc.open >= 0 ? doc.waves[doc.open]?.name : undefined
  return html`
    <section class="rollout card" data-package=${doc.package} data-state=${doc.state} data-version=${doc.version}
      data-rollback=${String(doc.rollback)} aria-labelledby=${`rollout-${doc.id}`}>
      <header class="rollout-head">
        <h3 id=${`rollout-${doc.id}`}>${doc.package} <span class="version">${doc.version}</span></h3>
        <span class=${`state state-${doc.state}`} data-field="state">${doc.state}</span>
        ${doc.rollback ? html`<span class="state state-rollback">rollback requested</span>` : null}
      </header>
      <dl class="facts">
        <div><dt>state</dt><dd>${doc.state}</dd></div>
        <div><dt>rollback requested</dt><dd data-field="rollback">${yesNo(doc.rollback)}</dd></div>
        <div><dt>manual</dt><dd data-field="manual">${doc.manual ? 'yes: each wave waits for promote' : 'no'}</dd></div>
        <div><dt>open wave</dt><dd>${last ?? 'none yet'}</dd></div>
        <div><dt>max parallel</dt><dd>${doc.maxParallel}</dd></div>
        <div><dt>gate</dt><dd>${gateText(doc.gate)}</dd></div>
        <div><dt>abort</dt><dd>${abortText(doc.abort)}</dd></div>
        ${doc.downgrade ? html`<div><dt>downgrade</dt><dd>yes</dd></div>` : null}
        ${doc.critical ? html`<div><dt>critical</dt><dd>yes (bypasses maintenance windows)</dd></div>` : null}
        <div><dt>started</dt><dd>${formatTime(doc.created)}</dd></div>
        <div><dt>updated</dt><dd>${formatTime(doc.updated)}</dd></div>
        <div class="wide"><dt>reason</dt><dd data-field="reason">${doc.reason || '-'}</dd></div>
      </dl>
      <${Controls} doc=${doc} role=${role} reload=${reload} />
      <ol class="waves">
        ${view.waves.map((w, i) => html`<${WaveBar} key=${w.name} wave=${w} spec=${doc.waves[i]} doc=${doc} />`)}
      </ol>
      <h4>Recent events</h4>
      <${Events} events=${view.events} />
    </section>`
}

export function Rollouts ({ res, role }) {
  const list = res.data ?? []
  return html`
    <section id="rollouts" aria-labelledby="rollouts-title">
      <div class="section-head">
        <h2 id="rollouts-title">Rollouts</h2>
        <${Legend} />
      </div>
      ${res.error != null ? html`<p class="error" role="alert">Rollouts: ${res.error.message}</p>` : null}
      ${res.data == null && res.error == null ? html`<p class="muted">Loading…</p>` : null}
      ${res.data != null && list.length === 0 ? html`<p class="muted" id="no-rollouts">No rollout yet: start one below.</p>` : null}
      ${list.map(v => html`<${RolloutSection} key=${v.doc.package} view=${v} role=${role} reload=${res.reload} />`)}
    </section>`
}
