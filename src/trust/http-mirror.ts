/**
 * A static HTTP mirror of the release repository: an ordinary web server or
 * CDN serving the repository folder as it is, so a publisher can hand the
 * first copy of a release to it and leave. The mirror is as untrusted as a
 * peer: metadata it serves goes through tuf-js like a peer's (signatures,
 * expiry, versions, signed lengths and hashes), every chunk is hashed against
 * its CID here before anyone sees it, every body is capped (the signed length,
 * or the chunk's size from the signed index) and every request times out.
 *
 * The URL layout is the repository's own (base URL + path):
 *
 *   metadata/N.root.json, metadata/timestamp.json, metadata/N.snapshot.json,
 *   metadata/N.targets.json, metadata/N.rollouts.json
 *   targets/<dir>/<sha256>.<name>          release indexes, rollout documents
 *   chunks/<XX>/<NAME>.data                NAME: the base32 (RFC 4648, upper case, no
 *                                          padding) of the chunk CID's multihash,
 *                                          XX: its last two characters
 *
 * Only those three folders are ever asked for (never keys/ or repo.json), and
 * every path is built from checked parts: a URL can name nothing outside them.
 * Redirects: at most MAX_MIRROR_REDIRECTS, and only to http: or https:.
 */
import { base32upper } from 'multiformats/bases/base32'
import { MAX_CHUNK_BYTES, verifyChunk, chunkCid, assertChunkCid } from '../../protocols/shared/index.js'
import { checkSyncPath } from '../../protocols/sync/mirror-files.js'
import { TrustError } from './errors.js'
import type { Logger } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/** one request (redirects and body included) must finish within this (default) */
export const DEFAULT_MIRROR_TIMEOUT_MS = 15_000
export const MAX_MIRROR_REDIRECTS = 3
/** requests to one mirror at once, per kind (chunks) */
export const DEFAULT_MIRROR_PARALLEL = 4

export class MirrorError extends TrustError {
  override readonly name: string = 'MirrorError'
  constructor (message: string, readonly url: string) {
    super(message)
  }
}
/** 404 or 410: the mirror does not have the file (yet) */
export class MirrorNotFoundError extends MirrorError { override readonly name = 'MirrorNotFoundError' }
/** the body was longer than the signed length or the chunk's size */
export class MirrorTooLargeError extends MirrorError { override readonly name = 'MirrorTooLargeError' }
/** a chunk whose bytes do not hash to its CID */
export class MirrorHashError extends MirrorError { override readonly name = 'MirrorHashError' }
export class MirrorTimeoutError extends MirrorError { override readonly name = 'MirrorTimeoutError' }
/** too many redirects, one without a Location, or one to a scheme other than http/https */
export class MirrorRedirectError extends MirrorError { override readonly name = 'MirrorRedirectError' }
/** any other HTTP status, or the connection failed */
export class MirrorHttpError extends MirrorError { override readonly name = 'MirrorHttpError' }

export interface HttpMirrorInit {
  /** base URLs of the repository folder, http: or https:, tried in order */
  urls: string[]
  timeoutMs?: number
  maxRedirects?: number
  log?: Logger
}

/** what the mirror gave this node since start, for metrics and logs */
export interface MirrorCounters {
  requests: number
  /** requests that failed: not found, too large, wrong hash, timeout, HTTP errors */
  failures: number
  /** verified chunk bytes */
  chunkBytes: number
  chunks: number
  /** metadata and target bytes (verified by tuf-js after they were handed over) */
  metadataBytes: number
}

/** the repository-relative path of a chunk: the chunk store's own layout (blockstore-fs's NextToLast) */
export function mirrorChunkPath (cid: CID): string {
  assertChunkCid(cid)
  const name = base32upper.encoder.encode(cid.multihash.bytes)
  return `chunks/${name.slice(-2)}/${name}.data`
}

/** a base URL as given by the operator, checked: http(s), no credentials, query or fragment; ends with '/' */
export function mirrorBaseUrl (text: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new TrustError(`mirror ${JSON.stringify(text)} is not a URL; give the http:// or https:// URL of the repository folder`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TrustError(`mirror ${text}: expected an http:// or https:// URL, found ${url.protocol}`)
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') throw new TrustError(`mirror ${text}: a base URL has no credentials, query or fragment`)
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  return url
}

/** the URL of a repository-relative path: each segment checked and percent-encoded, so it stays under the base */
export function mirrorUrl (base: URL, path: string): URL {
  const segments = path.split('/')
  if (!['metadata', 'targets', 'chunks'].includes(segments[0]) || segments.some(s => s === '' || s === '.' || s === '..' || s.includes('\\'))) {
    throw new TrustError(`refusing to ask a mirror for ${JSON.stringify(path)}: only metadata/, targets/ and chunks/ are mirrored`)
  }
  const url = new URL(segments.map(encodeURIComponent).join('/'), base)
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) throw new TrustError(`${path} resolves outside the mirror ${base.href}`)
  return url
}

export class HttpMirror {
  readonly counters: MirrorCounters = { requests: 0, failures: 0, chunkBytes: 0, chunks: 0, metadataBytes: 0 }
  readonly bases: URL[]
  private readonly timeoutMs: number
  private readonly maxRedirects: number
  private distrustedUntil = 0
  /** when a missing chunk was last logged: a mirror without chunks/ would log once per piece */
  private missingChunkLogged = 0

  constructor (private readonly init: HttpMirrorInit) {
    this.bases = init.urls.map(mirrorBaseUrl)
    this.timeoutMs = init.timeoutMs ?? DEFAULT_MIRROR_TIMEOUT_MS
    this.maxRedirects = init.maxRedirects ?? MAX_MIRROR_REDIRECTS
  }

  /** false with no URL, or while the mirror is not believed (it served metadata that did not verify) */
  get available (): boolean {
    return this.bases.length > 0 && Date.now() >= this.distrustedUntil
  }

  /** not asked for `ms` */
  distrust (ms: number): void {
    this.distrustedUntil = Date.now() + ms
  }

  /** a metadata or target file, at most `maxLength` bytes; verified by the caller (tuf-js) */
  async fetchFile (path: string, maxLength: number, signal?: AbortSignal): Promise<Uint8Array> {
    const checked = checkSyncPath(path)
    const bytes = await this.fromAny(checked, maxLength, signal)
    this.counters.metadataBytes += bytes.byteLength
    return bytes
  }

  /** a chunk of `size` bytes (from the signed index), returned only once it hashes to `cid` */
  async fetchChunk (cid: CID, size: number, signal?: AbortSignal): Promise<Uint8Array> {
    const path = mirrorChunkPath(cid)
    const cap = Math.min(size, MAX_CHUNK_BYTES)
    return await this.fromAny(path, cap, signal, (bytes, url) => {
      if (!verifyChunk(cid, bytes)) {
        throw new MirrorHashError(`mirror ${url}: its ${bytes.byteLength} bytes hash to ${chunkCid(bytes).toString()}, not to the chunk ${cid.toString()} asked for; the mirror is damaged or not a copy of the repository (re-copy the repository's chunks/ folder to it). Fetching it from peers instead`, url)
      }
      this.counters.chunkBytes += bytes.byteLength
      this.counters.chunks++
    }).catch(err => {
      // metadata is missing from a mirror all the time (the next root); a missing chunk means an incomplete copy
      if (err instanceof MirrorNotFoundError && Date.now() - this.missingChunkLogged > 60_000) {
        this.missingChunkLogged = Date.now()
        this.init.log?.error('%s; the mirror lacks chunks of a signed release: copy the repository\'s chunks/ to it (umesh release mirror). Fetching from peers instead', err.message)
      }
      throw err
    })
  }

  /** each base URL in turn until one serves; not found when every one said so */
  private async fromAny (path: string, maxBytes: number, signal: AbortSignal | undefined, check?: (bytes: Uint8Array, url: string) => void): Promise<Uint8Array> {
    const errors: MirrorError[] = []
    for (const base of this.bases) {
      signal?.throwIfAborted()
      const url = mirrorUrl(base, path)
      this.counters.requests++
      try {
        const bytes = await this.get(url, maxBytes, signal)
        check?.(bytes, url.href)
        return bytes
      } catch (err) {
        this.counters.failures++
        if (!(err instanceof MirrorError)) throw err
        if (!(err instanceof MirrorNotFoundError)) this.init.log?.error('%s', err.message)
        errors.push(err)
      }
    }
    if (errors.length > 0 && errors.every(e => e instanceof MirrorNotFoundError)) throw errors[0]
    const worst = errors.find(e => !(e instanceof MirrorNotFoundError))
    if (worst != null && errors.length === 1) throw worst
    throw new MirrorHttpError(`no mirror served ${path}: ${errors.map(e => e.message).join('; ')}`, errors[0]?.url ?? path)
  }

  /** one GET, following at most maxRedirects http(s) redirects, the body capped at maxBytes, all within the timeout */
  private async get (start: URL, maxBytes: number, outer?: AbortSignal): Promise<Uint8Array> {
    const timeout = new AbortController()
    const timer = setTimeout(() => { timeout.abort() }, this.timeoutMs)
    const signal = outer == null ? timeout.signal : AbortSignal.any([outer, timeout.signal])
    let url = start
    try {
      for (let hop = 0; ; hop++) {
        const res = await fetch(url, { redirect: 'manual', signal, headers: { accept: '*/*', 'accept-encoding': 'identity' } })
        if (res.status >= 300 && res.status < 400) {
          await res.body?.cancel().catch(() => {})
          const location = res.headers.get('location')
          if (hop >= this.maxRedirects) throw new MirrorRedirectError(`mirror ${start.href}: more than ${this.maxRedirects} redirects (the last to ${url.href}); point the mirror URL at the repository folder itself`, start.href)
          if (location == null) throw new MirrorRedirectError(`mirror ${url.href}: HTTP ${res.status} without a Location header`, url.href)
          const next = new URL(location, url)
          if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new MirrorRedirectError(`mirror ${url.href}: redirected to ${next.protocol} (${next.href}); only http: and https: are followed`, url.href)
          url = next
          continue
        }
        if (res.status === 404 || res.status === 410) {
          await res.body?.cancel().catch(() => {})
          throw new MirrorNotFoundError(`mirror ${url.href}: HTTP ${res.status}, it does not have this file`, url.href)
        }
        if (res.status !== 200) {
          await res.body?.cancel().catch(() => {})
          throw new MirrorHttpError(`mirror ${url.href}: HTTP ${res.status} ${res.statusText}; expected 200 with the file (check the web server's log)`, url.href)
        }
        return await readCapped(res, maxBytes, url.href)
      }
    } catch (err) {
      if (err instanceof MirrorError) throw err
      if (timeout.signal.aborted && outer?.aborted !== true) {
        throw new MirrorTimeoutError(`mirror ${url.href}: no complete answer within ${this.timeoutMs} ms; the mirror is slow or unreachable. Fetching from peers instead`, url.href)
      }
      if (outer?.aborted === true) throw err
      throw new MirrorHttpError(`mirror ${url.href}: ${describe(err)}; check the URL and that the web server is up`, url.href)
    } finally {
      clearTimeout(timer)
    }
  }
}

function describe (err: unknown): string {
  const e = err as Error & { cause?: Error & { code?: string } }
  return e.cause?.code != null ? `${e.message} (${e.cause.code})` : e.message
}

/** the body, refused as soon as it passes maxBytes (a declared length over the cap is refused before any read) */
async function readCapped (res: Response, maxBytes: number, url: string): Promise<Uint8Array> {
  const tooLarge = (found: string): MirrorTooLargeError => new MirrorTooLargeError(`mirror ${url}: expected at most ${maxBytes} bytes (the signed length), found ${found}; the mirror serves a different file than the signed metadata names (re-copy the repository folder). Fetching from peers instead`, url)
  const declared = Number(res.headers.get('content-length') ?? NaN)
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => {})
    throw tooLarge(`a Content-Length of ${declared}`)
  }
  const reader = res.body?.getReader()
  if (reader == null) return new Uint8Array(0)
  const parts: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel().catch(() => {})
      throw tooLarge(`more than that (${total} bytes read so far)`)
    }
    parts.push(value)
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, total)
}
