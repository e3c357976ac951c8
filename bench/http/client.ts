/**
 * Timed HTTP requests from this process: one keep-alive connection per
 * series (as a dashboard or a Prometheus scraper holds one), requests one
 * after the other, each timed from just before the request is written to
 * the last byte of the body. Percentiles are nearest-rank.
 */
import { Agent, request } from 'node:http'
import { performance } from 'node:perf_hooks'

export interface Answer { status: number, bytes: number, ms: number, body: string, contentType: string }

export interface Series {
  label: string
  status: number
  /** the last answer's body size and content type */
  bytes: number
  contentType: string
  ms: number[]
  /** answers other than 200 */
  errors: number
  /** the last body, for the caller to read (row counts) */
  lastBody: string
}

export function percentile (samples: number[], p: number): number {
  if (samples.length === 0) return NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]
}

export class HttpClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 })
  constructor (readonly base: string, readonly token?: string) {}

  async send (method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<Answer> {
    const headers: Record<string, string> = {}
    if (this.token != null) headers.authorization = `Bearer ${this.token}`
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    if (payload != null) {
      headers['content-type'] = 'application/json'
      headers['content-length'] = String(payload.length)
    }
    const t0 = performance.now()
    return await new Promise((resolve, reject) => {
      const req = request(new URL(path, this.base), { method, headers, agent: this.agent, timeout: timeoutMs }, res => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const buf = Buffer.concat(chunks)
          resolve({ status: res.statusCode ?? 0, bytes: buf.length, ms: performance.now() - t0, body: buf.toString(), contentType: String(res.headers['content-type'] ?? '') })
        })
        res.on('error', reject)
      })
      req.on('timeout', () => { req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)) })
      req.on('error', reject)
      req.end(payload)
    })
  }

  async get (path: string): Promise<Answer> {
    return await this.send('GET', path)
  }

  /** `warmUp` requests not counted, then `n` timed ones */
  async series (label: string, path: string, n: number, warmUp: number): Promise<Series> {
    let last: Answer | undefined
    for (let i = 0; i < warmUp; i++) last = await this.get(path)
    const s: Series = { label, status: last?.status ?? 0, bytes: last?.bytes ?? 0, contentType: last?.contentType ?? '', ms: [], errors: 0, lastBody: '' }
    for (let i = 0; i < n; i++) {
      last = await this.get(path)
      s.ms.push(last.ms)
      if (last.status !== 200) s.errors++
    }
    if (last != null) {
      s.status = last.status
      s.bytes = last.bytes
      s.contentType = last.contentType
      s.lastBody = last.body
    }
    return s
  }

  close (): void {
    this.agent.destroy()
  }
}
