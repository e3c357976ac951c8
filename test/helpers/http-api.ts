/**
 * The HTTP API from a test: requests with a token, tokens made with the
 * CLI, raw requests (the event stream's reader is event-reader.ts).
 */
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { runCli } from './cli.js'

export interface ApiResponse { status: number, body: any, headers: Record<string, string | string[] | undefined> }

export class ApiClient {
  /** `from`: the local address to connect from (127.0.0.x), so failed attempts count against that address */
  constructor (readonly base: string, public token?: string, readonly from?: string) {}

  async request (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const h: Record<string, string> = { ...headers }
    if (this.token != null) h.authorization = `Bearer ${this.token}`
    let payload: Buffer | undefined
    if (body instanceof Uint8Array) {
      payload = Buffer.from(body)
      h['content-type'] ??= 'application/octet-stream'
    }
    else if (typeof body === 'string') payload = Buffer.from(body)
    else if (body !== undefined) {
      payload = Buffer.from(JSON.stringify(body))
      h['content-type'] ??= 'application/json'
    }
    if (payload != null) h['content-length'] = String(payload.length)
    const url = new URL(path, this.base)
    return await new Promise((resolve, reject) => {
      const req = httpRequest(url, { method, headers: h, localAddress: this.from, timeout: 20_000 }, res => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString()
          let parsed: any = text
          if ((res.headers['content-type'] ?? '').includes('json') && text !== '') parsed = JSON.parse(text)
          resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers })
        })
        res.on('error', reject)
      })
      req.on('timeout', () => { req.destroy(new Error(`${method} ${path}: no answer in 20 s`)) })
      // a server that answers before reading the whole body (413) may reset the rest: the answer still counts
      req.on('error', reject)
      req.end(payload)
    })
  }

  async get (path: string): Promise<any> {
    const r = await this.request('GET', path)
    assert.equal(r.status, 200, `GET ${path}: ${r.status} ${JSON.stringify(r.body)}`)
    return r.body
  }

  async post (path: string, body?: unknown, expect = 200): Promise<any> {
    const r = await this.request('POST', path, body)
    assert.equal(r.status, expect, `POST ${path}: ${r.status} ${JSON.stringify(r.body)}`)
    return r.body
  }
}

export async function createToken (dataDir: string, role: 'read' | 'operate', name: string): Promise<string> {
  const r = await runCli(['api', 'token', 'create', '--data-dir', dataDir, '--role', role, '--name', name, '--json'])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout).token
}

/**
 * One request on a raw socket: the head, then the body chunks written as
 * fast as the socket takes them; write errors are ignored (a server may
 * answer 413 and close before the body is through) and the status line and
 * body read until the server closes or 10 s pass.
 */
export async function rawRequest (port: number, head: string, chunks: Buffer[]): Promise<{ status: number, text: string }> {
  return await new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const got: Buffer[] = []
    const timer = setTimeout(() => { socket.destroy() }, 10_000)
    socket.on('data', (c: Buffer) => got.push(c))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(got).toString()
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text)
      if (m == null) reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`))
      else resolve({ status: Number(m[1]), text: text.slice(text.indexOf('\r\n\r\n') + 4) })
    })
    socket.on('connect', () => {
      socket.write(head.replace(/\n/g, '\r\n') + '\r\n')
      for (const c of chunks) socket.write(c)
    })
  })
}
