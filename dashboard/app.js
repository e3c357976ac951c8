/**
 * The update-mesh dashboard: static ES modules, no build step, nothing from
 * the network but the node's own API. htm with its bundled Preact renders
 * every text (no HTML is ever built by hand); the strict Content-Security-
 * Policy the server sends allows no inline script or style attribute, so
 * styles come from style.css and the few computed ones (bar widths, legend
 * colours) are set through the CSSOM by Preact.
 *
 * Pages: the overview (rollouts, start a rollout, versions over time, the
 * fleet, the rollout history, the audit log) and a node's page at #/node/<peerId>. Data reloads when the event
 * stream says it changed (see live.js) and every 10 s.
 */
import { html, render, useEffect, useRef, useState } from './vendor/htm-preact.mjs'
import { AuditLog, RolloutHistory } from './activity.js'
import { api, forgetToken, getToken, onUnauthorized, setToken } from './api.js'
import { History } from './chart.js'
import { ConfirmDialog } from './confirm.js'
import { Fleet } from './fleet.js'
import { parseRoute } from './format.js'
import { useEventStream, useLiveRefresh, useResource } from './live.js'
import { NodePage } from './node.js'
import { Rollouts } from './rollouts.js'
import { StartRollout } from './start-form.js'

const REFRESH_MS = 10_000

function TokenForm ({ message, onToken }) {
  const [value, setValue] = useState('')
  const submit = e => {
    e.preventDefault()
    const token = value.trim()
    if (token === '') return
    setToken(token)
    setValue('')
    onToken(token)
  }
  return html`
    <main class="login">
      <form id="token-form" class="card" onSubmit=${submit}>
        <h1>update-mesh</h1>
        <p>Paste an API token. Create one on the coordinator with
          <code>umesh api token create --data-dir DIR --role read|operate --name NAME</code>.
          It is kept in this tab only (session storage) until you close it or forget it.</p>
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required
          value=${value} onInput=${e => { setValue(e.currentTarget.value) }} />
        <button id="token-submit" type="submit" class="primary">Use this token</button>
        ${message !== '' ? html`<p class="error" role="alert" id="token-error">${message}</p>` : null}
      </form>
    </main>`
}

function LiveIndicator ({ state }) {
  return html`<span id="live" data-state=${state} class=${`live live-${state}`} role="status"
    title=${state === 'live' ? 'Receiving the event stream: the page updates by itself' : 'The event stream is down: reconnecting'}>
    <span class="dot" aria-hidden="true"></span>${state === 'live' ? 'live' : 'reconnecting…'}</span>`
}

function useRoute () {
  const [route, setRoute] = useState(() => parseRoute(location.hash))
  useEffect(() => {
    const on = () => { setRoute(parseRoute(location.hash)); window.scrollTo(0, 0) }
    addEventListener('hashchange', on)
    return () => { removeEventListener('hashchange', on) }
  }, [])
  return route
}

/** a resource reloaded on the events that concern `view` and every 10 s */
function useLive (view, load) {
  const res = useResource(load, [])
  useLiveRefresh(view, res.reload, { intervalMs: REFRESH_MS })
  return res
}

function Dashboard ({ onForget }) {
  const who = useResource(signal => api.whoami(signal), [])
  const live = useEventStream()
  const route = useRoute()
  const rollouts = useLive('rollouts', signal => api.rollouts(signal))
  const releases = useLive('releases', signal => api.releases(signal))
  const fleet = useLive('fleet', signal => api.fleet(signal))
  const history = useLive('history', signal => api.history(signal))
  const rolloutHistory = useLive('rollouts', signal => api.rolloutHistory(signal))
  const audit = useLive('releases', signal => api.audit(signal))
  const role = who.data?.role

  return html`
    <header class="top">
      <h1><a href="#/">update-mesh</a></h1>
      <${LiveIndicator} state=${live} />
      <span class="spacer"></span>
      ${who.data != null
        ? html`<span id="whoami" data-role=${role} data-name=${who.data.name}>${who.data.name} <span class=${`role role-${role}`}>${role}</span></span>`
        : who.error != null ? html`<span class="error" id="whoami-error">${who.error.message}</span>` : null}
      <button type="button" id="forget-token" onClick=${onForget} title="Remove the token from this tab">Forget token</button>
    </header>
    ${role === 'read' ? html`<p class="notice" id="read-only">This token has the read role: you can watch, not steer. The controls need an operate token.</p>` : null}
    ${route.page === 'node'
      ? html`<${NodePage} key=${route.peerId} peerId=${route.peerId} rollouts=${rollouts.data} />`
      : html`
        <main>
          <${Rollouts} res=${rollouts} role=${role} />
          <div class="columns">
            <${StartRollout} role=${role} releases=${releases} onStarted=${rollouts.reload} />
            <${History} res=${history} />
          </div>
          <${Fleet} res=${fleet} rollouts=${rollouts.data} />
          <${RolloutHistory} res=${rolloutHistory} />
          <${AuditLog} res=${audit} />
        </main>`}
    <${ConfirmDialog} />`
}

function App () {
  const [token, setTok] = useState(getToken)
  const [message, setMessage] = useState('')
  // several requests may fail at once: the first 401's message stays
  const signedIn = useRef(token !== '')
  useEffect(() => {
    onUnauthorized(msg => {
      if (!signedIn.current) return
      signedIn.current = false
      setMessage(`The API refused the token: ${msg}`)
      setTok('')
    })
  }, [])
  const forget = () => {
    forgetToken()
    signedIn.current = false
    setMessage('Token forgotten.')
    setTok('')
  }
  const use = t => {
    signedIn.current = true
    setMessage('')
    setTok(t)
  }
  if (token === '') return html`<${TokenForm} message=${message} onToken=${use} />`
  return html`<${Dashboard} key=${token} onForget=${forget} />`
}

const root = document.getElementById('app')
root.replaceChildren()
render(html`<${App} />`, root)
