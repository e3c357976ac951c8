/**
 * The health check run after a version is activated: a command that must
 * exit 0, an HTTP(S) GET that must answer 2xx (redirects are not followed:
 * a redirect is reported, not trusted), or a TCP port that must accept a
 * connection. After `graceMs` it tries up to 1 + `retries` times,
 * `intervalMs` apart, each attempt bounded by `timeoutMs`; the first success
 * ends it. `detail` says what the last attempt saw, for the operator.
 */
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { UmeshError } from '../errors.js'
import { describeRun, runCommand } from './run-command.js'
import type { HealthCheck, HealthConfig } from './types.js'

export class HealthCheckConfigError extends UmeshError {
  override readonly name = 'HealthCheckConfigError'
  override readonly exitCode = 2
}

export interface HealthOptions {
  /** for a command check; added to this process's environment */
  env?: Record<string, string>
  /** for a command check */
  cwd?: string
  signal?: AbortSignal
  onAttempt?: (n: number, ok: boolean, detail: string) => void
}

export interface HealthResult {
  healthy: boolean
  /** attempts made */
  attempts: number
  /** what the last attempt saw */
  detail: string
}

interface Attempt { ok: boolean, detail: string }

function checkConfig (check: HealthCheck): void {
  if (check.type === 'http') {
    let url: URL
    try {
      url = new URL(check.url)
    } catch {
      throw new HealthCheckConfigError(`health check URL ${JSON.stringify(check.url)} is not a URL; write it like http://127.0.0.1:8080/health`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HealthCheckConfigError(`health check URL ${check.url} is not http: or https:; only HTTP(S) checks are supported (use a command check for anything else)`)
  } else if (check.type === 'command') {
    if (check.command.length === 0) throw new HealthCheckConfigError('the health check command is empty; give the program and its arguments')
  } else if (check.type === 'tcp') {
    if (!Number.isInteger(check.port) || check.port < 1 || check.port > 65535) throw new HealthCheckConfigError(`health check port ${String(check.port)} is not a port number (1-65535)`)
  }
}

async function commandAttempt (argv: string[], timeoutMs: number, opts: HealthOptions): Promise<Attempt> {
  try {
    const r = await runCommand(argv, { timeoutMs, ...(opts.cwd != null ? { cwd: opts.cwd } : {}), ...(opts.env != null ? { env: opts.env } : {}), ...(opts.signal != null ? { signal: opts.signal } : {}) })
    return { ok: r.code === 0, detail: describeRun(argv, r) }
  } catch (err) {
    return { ok: false, detail: (err as Error).message }
  }
}

async function httpAttempt (url: string, timeoutMs: number, signal?: AbortSignal): Promise<Attempt> {
  const timeout = AbortSignal.timeout(timeoutMs)
  try {
    const res = await fetch(url, { signal: signal != null ? AbortSignal.any([timeout, signal]) : timeout, redirect: 'manual', headers: { 'user-agent': 'umesh-health-check' } })
    await res.body?.cancel().catch(() => {})
    const ok = res.status >= 200 && res.status < 300
    const redirect = res.status >= 300 && res.status < 400 ? ` (a redirect to ${res.headers.get('location') ?? '?'}: point the check at the final URL)` : ''
    return { ok, detail: `GET ${url} answered ${res.status}${res.statusText !== '' ? ` ${res.statusText}` : ''}${redirect}` }
  } catch (err) {
    if (timeout.aborted) return { ok: false, detail: `GET ${url}: no answer within ${timeoutMs} ms` }
    if (signal?.aborted === true) return { ok: false, detail: `GET ${url}: cancelled` }
    const cause = (err as Error & { cause?: NodeJS.ErrnoException }).cause
    return { ok: false, detail: `GET ${url} failed: ${cause?.code ?? cause?.message ?? (err as Error).message}` }
  }
}

async function tcpAttempt (host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<Attempt> {
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
  return await new Promise<Attempt>((resolve) => {
    const socket = connect({ host, port })
    const done = (ok: boolean, detail: string): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      socket.destroy()
      resolve({ ok, detail })
    }
    const onAbort = (): void => { done(false, `connecting to ${where}: cancelled`) }
    const timer = setTimeout(() => { done(false, `no connection to ${where} within ${timeoutMs} ms`) }, timeoutMs)
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.once('connect', () => { done(true, `${where} accepted a connection`) })
    socket.once('error', (err: NodeJS.ErrnoException) => { done(false, `cannot connect to ${where}: ${err.code ?? err.message}`) })
  })
}

async function attempt (cfg: HealthConfig, opts: HealthOptions): Promise<Attempt> {
  const check = cfg.check
  switch (check.type) {
    case 'command': return await commandAttempt(check.command, cfg.timeoutMs, opts)
    case 'http': return await httpAttempt(check.url, cfg.timeoutMs, opts.signal)
    case 'tcp': return await tcpAttempt(check.host, check.port, cfg.timeoutMs, opts.signal)
  }
}

/** resolves false when cancelled */
async function pause (ms: number, signal?: AbortSignal): Promise<boolean> {
  if (ms <= 0) return signal?.aborted !== true
  try {
    await sleep(ms, undefined, signal != null ? { signal } : {})
    return true
  } catch {
    return false
  }
}

export async function checkHealth (cfg: HealthConfig, opts: HealthOptions = {}): Promise<HealthResult> {
  checkConfig(cfg.check)
  const cancelled = (attempts: number): HealthResult => ({ healthy: false, attempts, detail: 'the health check was cancelled' })
  if (!await pause(cfg.graceMs, opts.signal)) return cancelled(0)
  const tries = 1 + Math.max(0, cfg.retries)
  let detail = ''
  for (let n = 1; n <= tries; n++) {
    if (n > 1 && !await pause(cfg.intervalMs, opts.signal)) return cancelled(n - 1)
    const a = await attempt(cfg, opts)
    detail = a.detail
    opts.onAttempt?.(n, a.ok, a.detail)
    if (a.ok) return { healthy: true, attempts: n, detail }
    if (opts.signal?.aborted === true) return { healthy: false, attempts: n, detail }
  }
  return { healthy: false, attempts: tries, detail }
}
