/**
 * The HTTP mirror client (src/trust/http-mirror.ts) against real node:http
 * servers on 127.0.0.1 serving a temporary repository folder: the path a
 * chunk CID maps to (the chunk store's own layout, so the repository folder
 * is a mirror as it is), a good chunk, a chunk whose bytes do not hash to its
 * CID, a body over the cap (declared and undeclared), a server too slow for
 * the timeout, 404, redirects (followed to another server, refused beyond the
 * bound or to another scheme), and paths that would leave the mirrored folders.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join, normalize } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { chunkCid } from '../../../protocols/shared/index.js'
import { openChunkStore } from '../../../src/content/chunk-store.js'
import { HttpMirror, MirrorHashError, MirrorHttpError, MirrorNotFoundError, MirrorRedirectError, MirrorTimeoutError, MirrorTooLargeError, mirrorBaseUrl, mirrorChunkPath, mirrorUrl } from '../../../src/trust/http-mirror.js'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

async function listen (handler: Handler): Promise<{ server: Server, url: string }> {
  const server = createServer(handler)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }
}

/** a static server of `root`, like `python3 -m http.server` */
function staticFiles (root: string): Handler {
  return (req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)))
    if (!path.startsWith(root)) { res.writeHead(403).end(); return }
    try {
      const body = readFileSync(path)
      res.writeHead(200, { 'content-length': body.length }).end(body)
    } catch {
      res.writeHead(404).end('not found')
    }
  }
}

describe('HttpMirror', { timeout: 60_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'umesh-mirror-test-'))
  const chunk = Buffer.alloc(100_000, 7)
  const cid = chunkCid(chunk)
  const servers: Server[] = []
  let good: string
  let other: string

  const serve = async (handler: Handler): Promise<string> => {
    const s = await listen(handler)
    servers.push(s.server)
    return s.url
  }

  before(async () => {
    // the repository's own chunk store writes the chunk: the mirror path must be where it lands
    const store = await openChunkStore(join(root, 'chunks'), { fsync: false })
    await store.put(cid, chunk)
    mkdirSync(join(root, 'metadata'), { recursive: true })
    writeFileSync(join(root, 'metadata', '1.root.json'), '{"signed":{}}')
    good = await serve(staticFiles(root))
    other = await serve(staticFiles(root))
  })

  after(() => {
    for (const s of servers) s.closeAllConnections()
    for (const s of servers) s.close()
    rmSync(root, { recursive: true, force: true })
  })

  it('maps a chunk CID to the path the chunk store writes it at', async () => {
    const store = await openChunkStore(join(root, 'chunks'), { fsync: false })
    assert.equal(join(root, mirrorChunkPath(cid)), store.pathOf(cid))
    assert.match(mirrorChunkPath(cid), /^chunks\/[A-Z2-7]{2}\/[A-Z2-7]+\.data$/)
  })

  it('builds URLs under the base only, for metadata/, targets/ and chunks/', () => {
    const base = mirrorBaseUrl('http://127.0.0.1:1/repo')
    assert.equal(base.href, 'http://127.0.0.1:1/repo/')
    assert.equal(mirrorUrl(base, 'targets/releases/app/abc.1.0.0.json').href, 'http://127.0.0.1:1/repo/targets/releases/app/abc.1.0.0.json')
    assert.equal(mirrorUrl(base, 'targets/a b/%2e%2e').href, 'http://127.0.0.1:1/repo/targets/a%20b/%252e%252e')
    for (const bad of ['keys/root-1.json', 'repo.json', 'metadata/../keys/x.json', 'targets//x', 'chunks/./x', '/etc/passwd', 'targets/a\\b']) {
      assert.throws(() => mirrorUrl(base, bad), /refusing to ask a mirror/, bad)
    }
    assert.throws(() => mirrorBaseUrl('file:///srv/repo'), /http:\/\/ or https:\/\//)
    assert.throws(() => mirrorBaseUrl('http://u:p@host/'), /no credentials/)
  })

  it('returns a good chunk, verified, and counts it', async () => {
    const mirror = new HttpMirror({ urls: [good] })
    const bytes = await mirror.fetchChunk(cid, chunk.length)
    assert.deepEqual(Buffer.from(bytes), chunk)
    assert.equal(mirror.counters.chunkBytes, chunk.length)
    assert.equal(mirror.counters.chunks, 1)
  })

  it('refuses a chunk whose bytes do not hash to its CID', async () => {
    const url = await serve((_req, res) => { res.end(Buffer.alloc(chunk.length, 8)) })
    const lines: string[] = []
    const log = Object.assign((..._a: unknown[]) => {}, { error: (f: string, ...a: unknown[]) => { lines.push(`${f} ${a.join(' ')}`) }, trace: () => {}, enabled: false }) as any
    const mirror = new HttpMirror({ urls: [url], log })
    await assert.rejects(mirror.fetchChunk(cid, chunk.length), (err: Error) => err instanceof MirrorHashError && err.message.includes(cid.toString()) && err.message.includes(url))
    assert.equal(mirror.counters.chunkBytes, 0)
    assert.equal(mirror.counters.failures, 1)
    assert.ok(lines.some(l => l.includes('hash to')), lines.join('\n'))
  })

  it('refuses a body over the cap, declared or not, before reading it all', async () => {
    let sent = 0
    const declared = await serve((_req, res) => { res.writeHead(200, { 'content-length': 50 * 1024 * 1024 }); res.write(Buffer.alloc(1024)) })
    const undeclared = await serve((_req, res) => {
      // chunked, no length: 8 MiB, of which the client must stop reading soon after the cap
      res.writeHead(200)
      const block = Buffer.alloc(64 * 1024, 1)
      const pump = (): void => {
        while (sent < 8 * 1024 * 1024) {
          sent += block.length
          if (!res.write(block)) { res.once('drain', pump); return }
        }
        res.end()
      }
      pump()
    })
    const mirror = new HttpMirror({ urls: [declared] })
    await assert.rejects(mirror.fetchChunk(cid, chunk.length), (err: Error) => err instanceof MirrorTooLargeError && /Content-Length of 52428800/.test(err.message))
    await assert.rejects(new HttpMirror({ urls: [undeclared] }).fetchFile('metadata/2.root.json', 4096), (err: Error) => err instanceof MirrorTooLargeError && /at most 4096 bytes/.test(err.message))
    assert.ok(sent < 8 * 1024 * 1024, `the server sent ${sent} bytes: the client should have stopped reading`)
  })

  it('times out a slow server', async () => {
    const slow = await serve((_req, res) => { res.writeHead(200, { 'content-length': chunk.length }); res.write(chunk.subarray(0, 10)) })
    const mirror = new HttpMirror({ urls: [slow], timeoutMs: 300 })
    const started = Date.now()
    await assert.rejects(mirror.fetchChunk(cid, chunk.length), (err: Error) => err instanceof MirrorTimeoutError && /within 300 ms/.test(err.message))
    assert.ok(Date.now() - started < 5_000)
  })

  it('says not found for a 404, and tries the next mirror first', async () => {
    const empty = await serve((_req, res) => { res.writeHead(404).end() })
    await assert.rejects(new HttpMirror({ urls: [empty] }).fetchFile('metadata/2.root.json', 4096), MirrorNotFoundError)
    const bytes = await new HttpMirror({ urls: [empty, good] }).fetchFile('metadata/1.root.json', 4096)
    assert.equal(Buffer.from(bytes).toString(), '{"signed":{}}')
    await assert.rejects(new HttpMirror({ urls: [empty] }).fetchFile('keys/root.json', 4096), /expected a repository-relative path under metadata\/ or targets\//)
    // a missing chunk is an incomplete mirror: said once in the log (a missing next root is not)
    const lines: string[] = []
    const log = Object.assign((..._a: unknown[]) => {}, { error: (f: string, ...a: unknown[]) => { lines.push(`${f} ${a.join(' ')}`) }, trace: () => {}, enabled: false }) as any
    const logged = new HttpMirror({ urls: [empty], log })
    await assert.rejects(logged.fetchFile('metadata/3.root.json', 4096), MirrorNotFoundError)
    assert.equal(lines.length, 0)
    for (let i = 0; i < 3; i++) await assert.rejects(logged.fetchChunk(cid, chunk.length), MirrorNotFoundError)
    assert.equal(lines.length, 1, lines.join('\n'))
    assert.match(lines[0], /lacks chunks of a signed release/)
  })

  it('follows a redirect to another server, but not too many, nor to another scheme', async () => {
    const redirect = (to: (path: string) => string): Handler => (req, res) => { res.writeHead(302, { location: to(req.url ?? '/') }).end() }
    const hop = await serve(redirect(path => new URL(path.slice(1), other).href))
    const bytes = await new HttpMirror({ urls: [hop] }).fetchChunk(cid, chunk.length)
    assert.deepEqual(Buffer.from(bytes), chunk)
    let hits = 0
    const loop = await serve((req, res) => { hits++; res.writeHead(301, { location: req.url ?? '/' }).end() })
    await assert.rejects(new HttpMirror({ urls: [loop] }).fetchChunk(cid, chunk.length), (err: Error) => err instanceof MirrorRedirectError && /more than 3 redirects/.test(err.message))
    assert.equal(hits, 4)
    const toFile = await serve(redirect(() => 'file:///etc/passwd'))
    await assert.rejects(new HttpMirror({ urls: [toFile] }).fetchChunk(cid, chunk.length), (err: Error) => err instanceof MirrorRedirectError && /only http: and https:/.test(err.message))
  })

  it('reports an unreachable mirror and other statuses as errors naming the URL', async () => {
    const broken = await serve((_req, res) => { res.writeHead(500).end() })
    await assert.rejects(new HttpMirror({ urls: [broken] }).fetchChunk(cid, chunk.length), (err: Error) => err instanceof MirrorHttpError && err.message.includes('HTTP 500') && err.message.includes(broken))
    const closed = await listen(() => {})
    await new Promise<void>(resolve => closed.server.close(() => { resolve() }))
    await assert.rejects(new HttpMirror({ urls: [closed.url] }).fetchChunk(cid, chunk.length), (err: Error) => err instanceof MirrorHttpError && err.message.includes(closed.url))
  })

  it('is not asked while distrusted', () => {
    const mirror = new HttpMirror({ urls: [good] })
    assert.equal(mirror.available, true)
    mirror.distrust(60_000)
    assert.equal(mirror.available, false)
    assert.equal(new HttpMirror({ urls: [] }).available, false)
    assert.ok(dirname(mirrorChunkPath(cid)).startsWith('chunks/'))
  })
})
