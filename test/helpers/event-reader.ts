/**
 * A reader of GET /api/v1/events as the dashboard reads it, for tests and
 * benchmarks: fetch() with the Authorization header (EventSource cannot
 * send one), the stream parsed into events, each stamped on arrival with
 * the wall clock (to compare with the coordinator's `at`, same machine) and
 * performance.now() (to compare with when this process sent a request).
 * Await `open()` before causing the events to wait for.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'

export interface StreamEvent { event: string, data: any, wallAt: number, perfAt: number }

export class EventReader {
  readonly events: StreamEvent[] = []
  status = 0
  error?: string
  private readonly abort = new AbortController()
  private readonly opened = Promise.withResolvers<void>()
  readonly done: Promise<void>

  constructor (base: string, token: string) {
    this.opened.promise.catch(() => {})
    this.done = this.read(base, token).catch(err => {
      if (!this.abort.signal.aborted) this.error = (err as Error).message
      this.opened.reject(err)
    })
  }

  private async read (base: string, token: string): Promise<void> {
    const res = await fetch(`${base}/api/v1/events`, { headers: { authorization: `Bearer ${token}` }, signal: this.abort.signal })
    this.status = res.status
    if (res.status !== 200 || res.body == null) throw new Error(`GET /api/v1/events: ${res.status} ${await res.text()}`)
    this.opened.resolve()
    const decoder = new TextDecoder()
    let buffer = ''
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const wallAt = Date.now()
      const perfAt = performance.now()
      buffer += decoder.decode(chunk, { stream: true })
      let end
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        let event = 'message'
        const data: string[] = []
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7)
          else if (line.startsWith('data: ')) data.push(line.slice(6))
        }
        if (data.length > 0) this.events.push({ event, data: JSON.parse(data.join('\n')), wallAt, perfAt })
      }
    }
  }

  /** resolves once the response headers (status 200) are in */
  async open (timeoutMs = 10_000): Promise<void> {
    await Promise.race([this.opened.promise, sleep(timeoutMs).then(() => { throw new Error(`the event stream did not open within ${timeoutMs} ms`) })])
  }

  /** the first event from index `from` on that matches, waiting up to timeoutMs */
  async waitFor (what: string, match: (e: StreamEvent) => boolean, timeoutMs = 15_000, from = 0): Promise<StreamEvent> {
    const deadline = performance.now() + timeoutMs
    for (;;) {
      const found = this.events.slice(from).find(match)
      if (found != null) return found
      if (this.error != null) throw new Error(`the event stream ended before ${what}: ${this.error}`)
      if (performance.now() > deadline) throw new Error(`no event ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.events.slice(from).map(e => [e.event, e.data?.event ?? e.data?.what ?? '']))}`)
      await sleep(2)
    }
  }

  stop (): void {
    this.abort.abort()
  }
}
