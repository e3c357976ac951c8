/**
 * Bearer tokens on /api/v1 (and /metrics when asked): no header or an
 * unknown token is 401, a read token on a write is 403. Failed attempts are
 * counted per client address: past the limit in a window, the address gets
 * 429 (with Retry-After) before any token is checked. The token itself is
 * never logged or echoed.
 */
import { HttpError } from './errors.js'
import type { Role, TokenInfo, TokenStore } from './tokens.js'

export interface FailureLimitInit {
  /** failed attempts an address may make per window (default 10) */
  maxFailures?: number
  /** the window (default 60 s) */
  windowMs?: number
  /** addresses remembered; beyond, the oldest is forgotten (default 10,000) */
  maxAddresses?: number
  now?: () => number
}

export class FailureLimiter {
  private readonly failures = new Map<string, { count: number, since: number }>()
  private readonly max: number
  private readonly windowMs: number
  private readonly maxAddresses: number
  private readonly now: () => number

  constructor (init: FailureLimitInit = {}) {
    this.max = init.maxFailures ?? 10
    this.windowMs = init.windowMs ?? 60_000
    this.maxAddresses = init.maxAddresses ?? 10_000
    this.now = init.now ?? Date.now
  }

  /** seconds until the address may try again; 0 when it may now */
  retryAfter (address: string): number {
    const f = this.failures.get(address)
    if (f == null) return 0
    const left = f.since + this.windowMs - this.now()
    if (left <= 0) {
      this.failures.delete(address)
      return 0
    }
    return f.count >= this.max ? Math.ceil(left / 1000) : 0
  }

  fail (address: string): void {
    const now = this.now()
    const f = this.failures.get(address)
    if (f == null || now - f.since >= this.windowMs) {
      this.failures.delete(address)
      this.failures.set(address, { count: 1, since: now })
      while (this.failures.size > this.maxAddresses) this.failures.delete(this.failures.keys().next().value as string)
    } else {
      f.count++
    }
  }

  get size (): number {
    return this.failures.size
  }
}

/** checks the Authorization header for a token that may do what `need` asks */
export function authorize (tokens: TokenStore, limiter: FailureLimiter, address: string, header: string | undefined, need: Role): TokenInfo {
  const wait = limiter.retryAfter(address)
  if (wait > 0) throw new HttpError(429, `too many failed attempts from ${address}; try again in ${wait} s`, undefined, { 'retry-after': String(wait) })
  const m = header == null ? null : /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (m == null) {
    limiter.fail(address)
    throw new HttpError(401, 'Authorization: expected "Bearer <token>"; create a token with `umesh api token create --data-dir DIR --role read|operate --name NAME`', 'Authorization', { 'www-authenticate': 'Bearer' })
  }
  let info: TokenInfo | undefined
  try {
    info = tokens.verify(m[1])
  } catch (err) {
    // fail closed: a token file that cannot be read lets nobody in
    throw new HttpError(503, `API tokens cannot be checked: ${(err as Error).message}`)
  }
  if (info == null) {
    limiter.fail(address)
    throw new HttpError(401, 'Authorization: unknown or revoked token; `umesh api token list` shows the tokens that exist', 'Authorization', { 'www-authenticate': 'Bearer' })
  }
  if (need === 'operate' && info.role !== 'operate') {
    throw new HttpError(403, `the token "${info.name}" has the read role; this needs an operate token (umesh api token create --role operate)`)
  }
  return info
}
