/**
 * A tuf-js Fetcher that asks peers first (MeshFetcher) and a static HTTP
 * mirror when no peer serves the file: at once when the peers failed or said
 * they lack it, and beside them when they have not answered after
 * `afterMs` (a stalled peer must not hold a refresh for its 30 s timeout;
 * whichever verified-later copy comes first is used, the other is dropped).
 * Peers first because they are free and near; the mirror is the seed of last
 * resort, so a publisher can leave.
 *
 * Nothing here is trusted: tuf-js checks what either source served exactly
 * the same way (signatures, expiry, versions, signed length and hash).
 * `mirrorServed()` says which paths came from the mirror, so a refresh whose
 * metadata did not verify can stop believing it (refresh.ts).
 *
 * The "not found" rule of MeshFetcher holds over both: when neither source
 * served the file and either said it lacks it, this throws tuf-js's 404 (how
 * the root walk learns it has the newest root); a mirror that is down does
 * not turn the peers' 404 into an error, nor peers the mirror's; and peers
 * that stalled are not waited for once the mirror said it lacks the file.
 */
import { DownloadHTTPError, DownloadLengthMismatchError } from 'tuf-js/dist/error.js'
import { MirrorNotFoundError, MirrorTooLargeError } from './http-mirror.js'
import { MeshDownloadError, meshPathOf, withTempFile } from './mesh-fetcher.js'
import type { HttpMirror } from './http-mirror.js'
import type { FailedAttempt, MeshFetcher, MeshPeer } from './mesh-fetcher.js'
import type { Logger } from '@libp2p/interface'
import type { Fetcher } from 'tuf-js'

/** peers get this long to serve a file before the mirror is asked too (default) */
export const DEFAULT_MIRROR_AFTER_MS = 3_000

export interface MirroredFetcherInit {
  mesh: MeshFetcher
  mirror: HttpMirror
  afterMs?: number
  signal?: AbortSignal
  log?: Logger
}

type Outcome = { ok: true, bytes: Uint8Array } | { ok: false, error: Error }

const settle = async (p: Promise<Uint8Array>): Promise<Outcome> => await p.then(bytes => ({ ok: true as const, bytes }), (error: Error) => ({ ok: false as const, error }))

export class MirroredFetcher implements Fetcher {
  private readonly files = new Map<string, Uint8Array>()
  private readonly fromMirror = new Set<string>()

  constructor (private readonly init: MirroredFetcherInit) {}

  downloaded (): Map<string, Uint8Array> {
    return new Map(this.files)
  }

  servedBy (): Map<string, MeshPeer> {
    const served = this.init.mesh.servedBy()
    for (const path of this.fromMirror) served.delete(path)
    return served
  }

  failures (): FailedAttempt[] {
    return this.init.mesh.failures()
  }

  /** paths the mirror served in this session */
  mirrorServed (): string[] {
    return [...this.fromMirror]
  }

  async downloadBytes (url: string, maxLength: number): Promise<Buffer> {
    const path = meshPathOf(url)
    const bytes = await this.fetch(url, path, maxLength)
    this.files.set(path, bytes)
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  async downloadFile<T> (url: string, maxLength: number, handler: (file: string) => Promise<T>): Promise<T> {
    const path = meshPathOf(url)
    const bytes = await this.fetch(url, path, maxLength)
    const result = await withTempFile(bytes, handler)
    this.files.set(path, bytes)
    return result
  }

  private async fetch (url: string, path: string, maxLength: number): Promise<Uint8Array> {
    const { mesh, mirror } = this.init
    if (!mirror.available) return await mesh.downloadBytes(url, maxLength)
    const fromPeers = settle(mesh.downloadBytes(url, maxLength))
    let timer: NodeJS.Timeout | undefined
    const stalled = new Promise<'stalled'>(resolve => { timer = setTimeout(() => { resolve('stalled') }, this.init.afterMs ?? DEFAULT_MIRROR_AFTER_MS) })
    const first = await Promise.race([fromPeers, stalled])
    clearTimeout(timer)
    if (first !== 'stalled' && first.ok) return first.bytes
    // the peers failed, or are slow: the mirror too (a slow peer may still win)
    const cancel = new AbortController()
    const signal = this.init.signal == null ? cancel.signal : AbortSignal.any([cancel.signal, this.init.signal])
    const fromMirror = settle(mirror.fetchFile(path, maxLength, signal))
    const [peers, web] = first === 'stalled' ? await this.firstSuccess(fromPeers, fromMirror) : [first, await fromMirror]
    if (peers?.ok === true) {
      cancel.abort()
      return peers.bytes
    }
    if (web?.ok === true) {
      this.fromMirror.add(path)
      this.init.log?.('%s from the mirror (%s)', path, peers == null ? `peers had not answered after ${this.init.afterMs ?? DEFAULT_MIRROR_AFTER_MS} ms` : 'no peer served it')
      return web.bytes
    }
    throw this.outcome(path, maxLength, peers?.error, web?.error)
  }

  /**
   * The first of the two to succeed (the other undefined), or both failures.
   * The mirror's "not found" counts as an answer too: peers that stalled past
   * afterMs are not waited for to learn that a file does not exist (the root
   * walk asks for the next root on every refresh, and it is rarely there)
   */
  private async firstSuccess (a: Promise<Outcome>, b: Promise<Outcome>): Promise<[Outcome | undefined, Outcome | undefined]> {
    const winner = await Promise.race([a.then(o => o.ok ? 'a' : undefined), b.then(o => o.ok || o.error instanceof MirrorNotFoundError ? 'b' : undefined)])
    if (winner === 'a') return [await a, undefined]
    if (winner === 'b') return [undefined, await b]
    // the first to end failed: wait for the other
    return await Promise.all([a, b])
  }

  private outcome (path: string, maxLength: number, peers?: Error, web?: Error): Error {
    const text = `${path}: peers: ${peers?.message ?? 'no answer'}; mirror: ${web?.message ?? 'no answer'}`
    const peersLack = peers instanceof DownloadHTTPError && peers.statusCode === 404
    if (peersLack || web instanceof MirrorNotFoundError) return new DownloadHTTPError(`no peer and no mirror holds ${text}`, 404)
    if (peers instanceof DownloadLengthMismatchError || web instanceof MirrorTooLargeError) return new DownloadLengthMismatchError(`more than the ${maxLength} bytes allowed for ${text}`)
    return new MeshDownloadError(`could not fetch ${text}`, (peers as MeshDownloadError | undefined)?.attempts ?? [])
  }
}
