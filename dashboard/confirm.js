/**
 * The confirmation dialog: one <dialog id="confirm"> for the page, opened
 * with showModal() by askConfirm(), which resolves true for the yes button
 * (data-confirm="yes") and false for no (data-confirm="no"), Escape or close.
 */
import { html, useEffect, useRef, useState } from './vendor/htm-preact.mjs'

let show = null

/** asks the operator; resolves true when confirmed */
export function askConfirm ({ title, text, yes, danger = false }) {
  if (show == null) return Promise.resolve(false)
  return new Promise(resolve => { show({ title, text, yes, danger, resolve }) })
}

export function ConfirmDialog () {
  const [req, setReq] = useState(null)
  const ref = useRef(null)
  const current = useRef(null)
  current.current = req

  useEffect(() => {
    show = next => {
      current.current?.resolve(false)
      setReq(next)
    }
    return () => { show = null }
  }, [])

  useEffect(() => {
    const d = ref.current
    if (d == null) return
    if (req != null && !d.open) {
      if (typeof d.showModal === 'function') d.showModal()
      else d.setAttribute('open', '')
    } else if (req == null && d.open) {
      if (typeof d.close === 'function') d.close()
      else d.removeAttribute('open')
    }
  }, [req])

  const answer = value => {
    const r = current.current
    current.current = null
    setReq(null)
    r?.resolve(value)
  }

  return html`
    <dialog id="confirm" ref=${ref} aria-labelledby="confirm-title" aria-describedby="confirm-text"
      onCancel=${e => { e.preventDefault(); answer(false) }}
      onClose=${() => { if (current.current != null) answer(false) }}>
      <h2 id="confirm-title">${req?.title ?? 'Confirm'}</h2>
      <p id="confirm-text">${req?.text ?? ''}</p>
      <div class="dialog-buttons">
        <button type="button" data-confirm="no" autofocus onClick=${() => { answer(false) }}>Cancel</button>
        <button type="button" data-confirm="yes" class=${req?.danger === true ? 'danger' : 'primary'} onClick=${() => { answer(true) }}>${req?.yes ?? 'Confirm'}</button>
      </div>
    </dialog>`
}
