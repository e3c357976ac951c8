/**
 * Rollout events to webhooks. `notify` never blocks and never throws: it
 * queues one POST per URL. Each URL has its own queue and worker, so events
 * reach a URL in the order they happened (the next waits until the previous
 * one is delivered or given up), and a slow or dead URL never delays the
 * others. An attempt times out after `timeoutMs`; a network error, a time
 * out or a non-2xx answer is retried `retries` times, waiting `backoffMs`,
 * then twice that, and so on (at most 60 s), then the event is dropped with
 * a log line. A queue holds at most `maxQueue` events: beyond, the oldest
 * waiting one is dropped, with a log line.
 *
 * The body is JSON: `{ event, text, rollout, package, version, wave, at,
 * ...data }`, where `text` is one human line (what Slack's incoming webhooks
 * show): "update-mesh: rollout 3f2a9c1e… of my-app 1.4.0: wave canary opened".
 */
import { ConfigError } from '../errors.js'
import type { RolloutEvent } from './types.js'
import type { Logger } from '@libp2p/interface'

export interface NotifierOptions {
  urls: string[]
  /** per attempt (default 5000) */
  timeoutMs?: number
  /** attempts after the first (default 3) */
  retries?: number
  /** wait before the first retry, doubled for each next one (default 1000) */
  backoffMs?: number
  /** events waiting per URL (default 1000) */
  maxQueue?: number
  /** component log (default: none) */
  log?: Logger
  fetchImpl?: typeof fetch
}

const MAX_BACKOFF_MS = 60_000
const MAX_TEXT_CHARS = 1000

const PHRASES: Record<RolloutEvent, string> = {
  started: 'started',
  'wave-opened': 'wave opened',
  'gate-passed': 'gate passed',
  'node-failed': 'a node failed',
  halted: 'halted',
  'rolled-back': 'rolled back',
  completed: 'completed',
  paused: 'paused',
  resumed: 'resumed'
}

function oneLine (s: string): string {
  // eslint-disable-next-line no-control-regex
  const line = s.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim()
  return line.length > MAX_TEXT_CHARS ? line.slice(0, MAX_TEXT_CHARS - 1) + '…' : line
}

/** the one-line human message of an event */
export function eventText (event: RolloutEvent, data: Record<string, unknown>): string {
  const id = typeof data.rolloutId === 'string' ? data.rolloutId : ''
  const shortId = id.length > 8 ? `${id.slice(0, 8)}…` : id
  const what = [data.package, data.version].filter(v => typeof v === 'string' && v !== '').join(' ')
  let subject = 'update-mesh:'
  if (shortId !== '') subject += ` rollout ${shortId}`
  if (what !== '') subject += `${shortId !== '' ? ' of' : ''} ${what}`
  let detail: string
  if (typeof data.detail === 'string' && data.detail !== '') {
    detail = data.detail
  } else if (event === 'wave-opened' && data.wave != null) {
    detail = `wave ${String(data.wave)} opened`
  } else {
    detail = PHRASES[event] ?? String(event)
  }
  return oneLine(`${subject}: ${detail}`)
}

/** the JSON body posted for an event */
export function eventBody (event: RolloutEvent, data: Record<string, unknown>, at: Date = new Date()): Record<string, unknown> {
  const body: Record<string, unknown> = {
    event,
    text: eventText(event, data),
    rollout: data.rolloutId,
    package: data.package,
    version: data.version,
    wave: data.wave,
    at: at.toISOString()
  }
  // data may add fields but not replace what the event is
  for (const [key, value] of Object.entries(data)) {
    if (key !== 'event' && key !== 'text' && key !== 'at') body[key] = value
  }
  return body
}

interface Pending {
  event: RolloutEvent
  body: string
}

class Target {
  readonly queue: Pending[] = []
  running = false
  /** resolves when the worker goes idle */
  idle: Promise<void> = Promise.resolve()

  constructor (readonly url: string, readonly label: string) {}
}

export class Notifier {
  private readonly targets: Target[]
  private readonly timeoutMs: number
  private readonly retries: number
  private readonly backoffMs: number
  private readonly maxQueue: number
  private readonly log: Logger | undefined
  private readonly fetchImpl: typeof fetch
  private readonly stopper = new AbortController()
  private counts = { delivered: 0, failed: 0, dropped: 0 }

  constructor (opts: NotifierOptions) {
    this.targets = opts.urls.map(raw => {
      let url: URL
      try {
        url = new URL(raw)
      } catch {
        throw new ConfigError('webhooks', `"${raw}" is not a URL: expected an http:// or https:// URL`)
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('webhooks', `"${raw}" uses ${url.protocol}, expected an http:// or https:// URL`)
      // a label for log lines without credentials, query or path (they often hold tokens)
      return new Target(url.href, `${url.protocol}//${url.host}`)
    })
    const nonNegative = (name: string, v: number | undefined, dflt: number): number => {
      const n = v ?? dflt
      if (!Number.isFinite(n) || n < 0) throw new ConfigError(`webhooks ${name}`, `expected a non-negative number, got ${String(v)}`)
      return n
    }
    this.timeoutMs = Math.max(1, nonNegative('timeoutMs', opts.timeoutMs, 5000))
    this.retries = Math.floor(nonNegative('retries', opts.retries, 3))
    this.backoffMs = nonNegative('backoffMs', opts.backoffMs, 1000)
    this.maxQueue = Math.max(1, Math.floor(nonNegative('maxQueue', opts.maxQueue, 1000)))
    this.log = opts.log
    this.fetchImpl = opts.fetchImpl ?? fetch
  }

  /** events delivered (a 2xx answer), per URL */
  get delivered (): number {
    return this.counts.delivered
  }

  /** events given up after every retry, per URL */
  get failed (): number {
    return this.counts.failed
  }

  /** events dropped unsent: a full queue, or stop() */
  get dropped (): number {
    return this.counts.dropped
  }

  /** events waiting or being sent, over every URL */
  get pending (): number {
    return this.targets.reduce((n, t) => n + t.queue.length + (t.running ? 1 : 0), 0)
  }

  /** queues the event for every URL; returns at once, never throws */
  notify (event: RolloutEvent, data: Record<string, unknown>): void {
    if (this.stopper.signal.aborted || this.targets.length === 0) return
    let body: string
    try {
      body = JSON.stringify(eventBody(event, data))
    } catch (err) {
      this.log?.error('webhook: cannot encode the %s event - %e', event, err)
      return
    }
    for (const target of this.targets) {
      if (target.queue.length >= this.maxQueue) {
        const dropped = target.queue.shift()!
        this.counts.dropped++
        this.log?.error('webhook %s: %d events waiting; dropped the oldest (%s)', target.label, this.maxQueue, dropped.event)
      }
      target.queue.push({ event, body })
      if (!target.running) {
        target.running = true
        target.idle = this.work(target)
      }
    }
  }

  /** waits until every queue is empty, or `timeoutMs` has passed */
  async flush (timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>(resolve => { timer = setTimeout(resolve, timeoutMs) })
    const drained = (async () => {
      // a worker may go idle and a later notify start it again
      while (this.targets.some(t => t.running)) await Promise.all(this.targets.map(async t => { await t.idle }))
    })()
    try {
      await Promise.race([drained, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** drops whatever is waiting and aborts what is in flight; later notify calls do nothing */
  stop (): void {
    if (this.stopper.signal.aborted) return
    this.stopper.abort()
    for (const target of this.targets) {
      this.counts.dropped += target.queue.length
      target.queue.length = 0
    }
  }

  private async work (target: Target): Promise<void> {
    try {
      while (target.queue.length > 0 && !this.stopper.signal.aborted) {
        const item = target.queue.shift()!
        await this.deliver(target, item)
      }
    } catch (err) {
      this.log?.('webhook %s: %s', target.label, (err as Error).message)
    } finally {
      target.running = false
    }
  }

  private async deliver (target: Target, item: Pending): Promise<void> {
    let lastError = ''
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) {
        const wait = Math.min(this.backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS)
        if (!await this.sleep(wait)) break
      }
      if (this.stopper.signal.aborted) break
      try {
        const res = await this.fetchImpl(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'update-mesh' },
          body: item.body,
          signal: anySignal([this.stopper.signal, AbortSignal.timeout(this.timeoutMs)]),
          redirect: 'manual'
        })
        await res.body?.cancel().catch(() => {})
        if (res.ok) {
          this.counts.delivered++
          return
        }
        lastError = `HTTP ${res.status}${res.statusText !== '' ? ` ${res.statusText}` : ''}`
      } catch (err) {
        lastError = describe(err, this.timeoutMs)
      }
    }
    if (this.stopper.signal.aborted) {
      this.counts.dropped++
      return
    }
    this.counts.failed++
    this.log?.error('webhook %s: gave up on the %s event after %d attempts: %s', target.label, item.event, this.retries + 1, lastError)
  }

  /** false if stopped while waiting */
  private async sleep (ms: number): Promise<boolean> {
    const signal = this.stopper.signal
    if (signal.aborted) return false
    return await new Promise<boolean>(resolve => {
      const done = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve(!signal.aborted)
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done)
    })
  }
}

function describe (err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: Error & { code?: string } }
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`
  if (e?.name === 'AbortError') return 'stopped'
  const cause = e?.cause
  if (cause != null) return `${e.message}: ${cause.code ?? cause.message}`
  return e?.message ?? String(err)
}

function anySignal (signals: AbortSignal[]): AbortSignal {
  const any = (AbortSignal as unknown as { any?: (s: AbortSignal[]) => AbortSignal }).any
  if (any != null) return any(signals)
  const controller = new AbortController()
  for (const s of signals) {
    if (s.aborted) {
      controller.abort(s.reason)
      break
    }
    s.addEventListener('abort', () => { controller.abort(s.reason) }, { once: true })
  }
  return controller.signal
}
