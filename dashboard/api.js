/**
 * The API client: the token lives in sessionStorage only (never a URL, a
 * cookie or localStorage) and goes as `Authorization: Bearer` on every
 * request. A 401 anywhere forgets the token and tells the app, which
 * shows the token form again with the server's message.
 */

const KEY = 'umesh.token'
let unauthorized = () => {}

export function getToken () {
  try { return sessionStorage.getItem(KEY) ?? '' } catch { return '' }
}

export function setToken (token) {
  sessionStorage.setItem(KEY, token)
}

export function forgetToken () {
  try { sessionStorage.removeItem(KEY) } catch {}
}

/** the app's handler for a 401: (message) => void */
export function onUnauthorized (fn) {
  unauthorized = fn
}

/** an API error: the server's {error, status, field}, or a network failure (status 0) */
export class ApiError extends Error {
  constructor (message, status, field) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.field = field
  }
}

async function errorOf (res) {
  let body
  try { body = await res.json() } catch {}
  const message = typeof body?.error === 'string' && body.error !== '' ? body.error : `${res.status} ${res.statusText}`.trim()
  return new ApiError(message, res.status, typeof body?.field === 'string' ? body.field : undefined)
}

/** fetch with the token; throws ApiError for a failed request */
export async function request (path, { method = 'GET', body, signal, raw = false } = {}) {
  const headers = { Accept: raw ? 'text/event-stream' : 'application/json' }
  const token = getToken()
  if (token !== '') headers.Authorization = `Bearer ${token}`
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  let res
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: 'no-store', credentials: 'omit' })
  } catch (err) {
    if (err?.name === 'AbortError') throw err
    throw new ApiError(`the node's API cannot be reached (${err?.message ?? err})`, 0)
  }
  if (!res.ok) {
    const err = await errorOf(res)
    if (signal?.aborted === true) throw new DOMException('aborted', 'AbortError')
    if (res.status === 401) {
      forgetToken()
      unauthorized(err.message)
    }
    throw err
  }
  if (raw) return res
  if (res.status === 204) return undefined
  return await res.json()
}

export const api = {
  whoami: signal => request('/api/v1/whoami', { signal }),
  rollouts: signal => request('/api/v1/rollouts', { signal }),
  releases: signal => request('/api/v1/releases', { signal }),
  fleet: signal => request('/api/v1/fleet', { signal }),
  history: signal => request('/api/v1/fleet/history', { signal }),
  rolloutHistory: signal => request('/api/v1/rollout-history', { signal }),
  audit: signal => request('/api/v1/audit', { signal }),
  verifyAudit: signal => request('/api/v1/audit?verify=true', { signal }),
  node: (peerId, signal) => request(`/api/v1/fleet/${encodeURIComponent(peerId)}`, { signal }),
  nodeStatus: (peerId, signal) => request(`/api/v1/fleet/${encodeURIComponent(peerId)}/status`, { signal }),
  startRollout: body => request('/api/v1/rollouts', { method: 'POST', body }),
  steer: (pkg, action) => request(`/api/v1/rollouts/${encodeURIComponent(pkg)}/${action}`, { method: 'POST', body: action === 'halt' ? { rollback: true } : {} }),
  events: signal => request('/api/v1/events', { signal, raw: true })
}
