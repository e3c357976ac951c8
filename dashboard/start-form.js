/**
 * "Start a rollout": package, version (from the releases the repository
 * holds), waves, gate, abort threshold, max parallel, manual →
 * POST /api/v1/rollouts. Empty texts are left to the server's defaults;
 * the API's error ({error, field}) shows next to the form and marks the
 * field at fault.
 */
import { html, useMemo, useState } from './vendor/htm-preact.mjs'
import { api } from './api.js'
import { errorField, startBody } from './format.js'

const EMPTY = { package: '', version: '', waves: '', gate: '', abort: '', maxParallel: '', manual: false, allowDowngrade: false, critical: false }

export function StartRollout ({ role, releases, onStarted }) {
  const [values, setValues] = useState(EMPTY)
  const [error, setError] = useState(null)
  const [done, setDone] = useState('')
  const [busy, setBusy] = useState(false)
  const operate = role === 'operate'
  const list = releases.data ?? []

  const packages = useMemo(() => [...new Set(list.map(r => r.package))].sort(), [list])
  const versions = useMemo(() => list
    .filter(r => r.package === values.package.trim())
    .sort((a, b) => String(b.created ?? '').localeCompare(String(a.created ?? ''))), [list, values.package])

  const set = (name, value) => {
    setValues(v => {
      const next = { ...v, [name]: value }
      if (name === 'package' && value.trim() !== v.package.trim()) next.version = ''
      return next
    })
  }
  const onInput = e => { set(e.currentTarget.name, e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value) }

  const submit = async e => {
    e.preventDefault()
    setError(null)
    setDone('')
    const body = startBody(values)
    setBusy(true)
    try {
      const doc = await api.startRollout(body)
      setDone(`Started the rollout of ${doc?.package ?? body.package} ${doc?.version ?? body.version}.`)
      setValues(v => ({ ...EMPTY, package: v.package }))
      onStarted()
    } catch (err) {
      setError({ message: err.message, field: errorField(err.field, err.message) })
    } finally {
      setBusy(false)
    }
  }

  const bad = name => error?.field === name
  const attrs = name => ({ name, id: `start-${name}`, 'aria-invalid': bad(name) ? 'true' : undefined, 'aria-describedby': bad(name) ? 'start-error' : undefined, onInput, onChange: onInput })
  const why = operate ? undefined : `Your token's role is ${role ?? 'unknown'}: starting a rollout needs a token with the operate role`

  return html`
    <section id="start" class="card" aria-labelledby="start-title">
      <h2 id="start-title">Start a rollout</h2>
      <form id="start-rollout" onSubmit=${submit} novalidate>
        <fieldset disabled=${!operate || busy} title=${why}>
          <div class="grid">
            <label for="start-package">package
              <input type="text" ...${attrs('package')} value=${values.package} list="start-packages" required autocomplete="off" spellcheck="false" />
              <datalist id="start-packages">${packages.map(p => html`<option key=${p} value=${p}></option>`)}</datalist>
            </label>
            <label for="start-version">version
              <select ...${attrs('version')} value=${values.version} required>
                <option value="">${values.package.trim() === '' ? 'choose a package first' : versions.length === 0 ? 'no release of this package' : 'choose a version'}</option>
                ${versions.map(r => html`<option key=${r.version} value=${r.version}>${r.version}${r.channel ? ` (${r.channel})` : ''}${r.critical ? ' critical' : ''}</option>`)}
              </select>
            </label>
            <label for="start-waves">waves
              <input type="text" ...${attrs('waves')} value=${values.waves} placeholder="canary:1,10%,50%,100%" spellcheck="false" />
            </label>
            <label for="start-gate">gate
              <input type="text" ...${attrs('gate')} value=${values.gate} placeholder="success>=0.95,soak=60s" spellcheck="false" />
            </label>
            <label for="start-abort">abort
              <input type="text" ...${attrs('abort')} value=${values.abort} placeholder="failures>=0.1" spellcheck="false" />
            </label>
            <label for="start-maxParallel">max parallel
              <input type="number" min="1" max="10000" step="1" ...${attrs('maxParallel')} value=${values.maxParallel} placeholder="1" />
            </label>
          </div>
          <div class="checks">
            <label><input type="checkbox" ...${attrs('manual')} checked=${values.manual} /> manual (each wave waits for promote)</label>
            <label><input type="checkbox" ...${attrs('allowDowngrade')} checked=${values.allowDowngrade} /> allow downgrade</label>
            <label><input type="checkbox" ...${attrs('critical')} checked=${values.critical} /> critical (bypasses maintenance windows)</label>
          </div>
          <button type="submit" class="primary" id="start-submit">${busy ? 'Starting…' : 'Start rollout'}</button>
        </fieldset>
        ${!operate ? html`<p class="muted">${why}.</p>` : null}
        ${error != null ? html`<p class="error" role="alert" id="start-error" data-field=${error.field ?? ''}>${error.field != null && !error.message.includes(error.field) ? `${error.field}: ` : ''}${error.message}</p>` : null}
        ${done !== '' ? html`<p class="ok" role="status" id="start-done">${done}</p>` : null}
        ${releases.error != null ? html`<p class="error">Releases: ${releases.error.message}</p>` : null}
      </form>
    </section>`
}
