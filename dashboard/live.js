/**
 * Live updates: one event stream (GET /api/v1/events read with fetch(),
 * reconnected with backoff when it ends), an in-page bus of its events,
 * and the hooks views use to load their data and reload it (debounced
 * 200 ms) when an event concerns them.
 */
import { useCallback, useEffect, useRef, useState } from './vendor/htm-preact.mjs'
import { api } from './api.js'
import { readEventStream } from './sse.js'
import { affectedViews, backoffMs } from './format.js'

/** no byte for this long (the server comments every 15 s): the stream is taken as dead */
const SILENCE_MS = 45_000
/** a stream that stayed up this long resets the backoff */
const STABLE_MS = 5_000

const listeners = new Set()

/** listen to the stream's events ({event, data}); returns the unsubscribe function */
export function subscribe (fn) {
  listeners.add(fn)
  return () => { listeners.delete(fn) }
}

function emit (ev) {
  for (const fn of [...listeners]) {
    try { fn(ev) } catch (err) { console.error(err) }
  }
}

function sleep (ms, signal) {
  return new Promise(resolve => {
    const t = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => { clearTimeout(t); resolve() }, { once: true })
  })
}

/**
 * Keeps the event stream open until stop() is called; onState('live' |
 * 'reconnecting') on each change. After a reconnect a synthetic
 * `reconnected` event makes every view reload (events may have been missed).
 */
export function connectEvents (onState) {
  const stopped = new AbortController()
  let attempt = 0
  let connectedBefore = false
  const run = async () => {
    while (!stopped.signal.aborted) {
      const conn = new AbortController()
      const abortConn = () => { conn.abort() }
      stopped.signal.addEventListener('abort', abortConn, { once: true })
      let watchdog
      const feed = () => {
        clearTimeout(watchdog)
        watchdog = setTimeout(() => { conn.abort() }, SILENCE_MS)
      }
      let openedAt = 0
      try {
        const res = await api.events(conn.signal)
        openedAt = Date.now()
        onState('live')
        if (connectedBefore) emit({ event: 'reconnected', data: {} })
        connectedBefore = true
        feed()
        await readEventStream(res.body, {
          signal: conn.signal,
          onComment: feed,
          onEvent: ev => {
            feed()
            let data
            try { data = JSON.parse(ev.data) } catch { data = ev.data }
            emit({ event: ev.event, data })
          }
        })
      } catch (err) {
        if (err?.status === 401) { stopped.abort(); break }
      } finally {
        clearTimeout(watchdog)
        stopped.signal.removeEventListener('abort', abortConn)
      }
      if (stopped.signal.aborted) break
      if (openedAt > 0 && Date.now() - openedAt >= STABLE_MS) attempt = 0
      onState('reconnecting')
      await sleep(backoffMs(attempt++), stopped.signal)
    }
  }
  run().catch(err => { console.error(err) })
  return () => { stopped.abort() }
}

/** the live indicator's state, with the stream kept open while mounted */
export function useEventStream () {
  const [state, setState] = useState('reconnecting')
  useEffect(() => connectEvents(setState), [])
  return state
}

/**
 * Calls fn (debounced 200 ms) when a stream event concerns the view, and
 * every intervalMs when given. `match(ev)` narrows the events further.
 */
export function useLiveRefresh (view, fn, { intervalMs, match } = {}) {
  const fnRef = useRef(fn)
  fnRef.current = fn
  const matchRef = useRef(match)
  matchRef.current = match
  useEffect(() => {
    let timer
    const fire = () => {
      clearTimeout(timer)
      timer = setTimeout(() => { fnRef.current() }, 200)
    }
    const off = subscribe(ev => {
      if (!affectedViews(ev).includes(view)) return
      if (ev.event !== 'reconnected' && matchRef.current != null && !matchRef.current(ev)) return
      fire()
    })
    const iv = intervalMs != null ? setInterval(() => { fnRef.current() }, intervalMs) : undefined
    return () => { off(); clearTimeout(timer); clearInterval(iv) }
  }, [view, intervalMs])
}

/**
 * Loads with `load(signal)` when deps change; reload() loads again keeping
 * the data shown until the answer comes. Answers that arrive out of order
 * are dropped. Returns { data, error, loading, reload }.
 */
export function useResource (load, deps) {
  const [st, setSt] = useState({ data: undefined, error: undefined, loading: true })
  const seq = useRef(0)
  const ctl = useRef(null)
  const loadRef = useRef(load)
  loadRef.current = load
  const reload = useCallback(() => {
    const n = ++seq.current
    ctl.current?.abort()
    const c = new AbortController()
    ctl.current = c
    setSt(s => ({ ...s, loading: true }))
    loadRef.current(c.signal).then(
      data => { if (n === seq.current) setSt({ data, error: undefined, loading: false }) },
      error => { if (n === seq.current && error?.name !== 'AbortError') setSt(s => ({ data: s.data, error, loading: false })) }
    )
  }, [])
  useEffect(() => {
    setSt({ data: undefined, error: undefined, loading: true })
    reload()
    return () => { seq.current++; ctl.current?.abort() }
  }, deps)
  return { ...st, reload }
}
