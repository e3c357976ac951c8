/**
 * A tuf-js Fetcher that gets TUF files from peers over the sync protocol
 * instead of HTTP. Peers are untrusted mirrors: tuf-js checks everything this
 * returns against signed metadata; this only finds a peer that has the file.
 *
 * Give the Updater `metadataBaseUrl: MESH_METADATA_URL` and
 * `targetBaseUrl: MESH_TARGETS_URL`; a URL such as
 * `umesh:/metadata/2.snapshot.json` is fetched as the repository-relative
 * path `metadata/2.snapshot.json`. Candidates are asked a few at a time, in
 * order, until one answers with the file. When no peer served it and at least one said
 * NOT_FOUND, this throws tuf-js's DownloadHTTPError with status 404, which is
 * how the root walk learns it has the newest root (peers that broke the
 * protocol or refused do not change that); when none said so and a peer
 * refused for size or sent too much, DownloadLengthMismatchError; anything
 * else a MeshDownloadError.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DownloadError, DownloadHTTPError, DownloadLengthMismatchError } from 'tuf-js/dist/error.js'
import { fetchFile } from '../../protocols/sync/client.js'
import { SyncError, SyncNotFoundError, SyncOversizedResponseError, SyncPathError, SyncRefusedError, SyncTooLargeError } from '../../protocols/sync/errors.js'
import { checkSyncPath } from '../../protocols/sync/mirror-files.js'
import { withTimeout } from '../../protocols/shared/timeout-signal.js'
import type { StreamOpener } from '../../protocols/shared/index.js'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Fetcher } from 'tuf-js'

export const MESH_URL_SCHEME = 'umesh:'
export const MESH_METADATA_URL = 'umesh:/metadata'
export const MESH_TARGETS_URL = 'umesh:/targets'
export const DEFAULT_FETCH_TIMEOUT = 30_000
export const DEFAULT_MAX_PEERS_PER_FILE = 8
export const DEFAULT_PARALLEL = 4

export type MeshPeer = PeerId | Multiaddr

export interface MeshFetcherInit {
  /** opens streams: the libp2p node */
  opener: StreamOpener
  network: string
  /** candidate peers, best first; asked for each file */
  peers: () => MeshPeer[]
  /** time for one peer to answer one file (default 30 s) */
  timeoutMs?: number
  /** candidates asked per file before giving up (default 8) */
  maxPeersPerFile?: number
  /** candidates asked at once; the first to serve the file wins, the others are cancelled (default 4) */
  parallel?: number
  /** aborts every download of this fetcher, e.g. when the node stops */
  signal?: AbortSignal
  /**
   * bytes this node already has for a path (the timestamp of an accepted
   * announcement), used before any peer is asked; tuf-js verifies them like
   * any download
   */
  local?: (path: string) => Uint8Array | undefined
}

export interface FailedAttempt {
  path: string
  peer: MeshPeer
  error: Error
}

/** A download failed for a reason other than "no peer has it" or "too long"; `attempts` says what each peer did. */
export class MeshDownloadError extends DownloadError {
  override readonly name = 'MeshDownloadError'
  constructor (message: string, readonly attempts: FailedAttempt[] = []) {
    super(message)
  }
}

/** hands `bytes` to `handler` as a file only this user can read, in a fresh temporary folder removed after */
export async function withTempFile<T> (bytes: Uint8Array, handler: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'umesh-fetch-'))
  try {
    const file = join(dir, 'download')
    await writeFile(file, bytes, { mode: 0o600, flag: 'wx' })
    return await handler(file)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** maps a URL built by tuf-js from the mesh base URLs back to a repository-relative path */
export function meshPathOf (url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new MeshDownloadError(`${url} is not a URL; give the Updater the base URLs ${MESH_METADATA_URL} and ${MESH_TARGETS_URL}`)
  }
  if (parsed.protocol !== MESH_URL_SCHEME || parsed.host !== '' || parsed.search !== '' || parsed.hash !== '') {
    throw new MeshDownloadError(`${url} is not a mesh URL; give the Updater the base URLs ${MESH_METADATA_URL} and ${MESH_TARGETS_URL}`)
  }
  let path: string
  try {
    path = parsed.pathname.replace(/^\/+/, '').split('/').map(decodeURIComponent).join('/')
    return checkSyncPath(path)
  } catch (err) {
    throw new MeshDownloadError(`${url} names no file the sync protocol serves: ${(err as Error).message}`)
  }
}

function describePeer (peer: MeshPeer): string {
  return peer.toString()
}

export class MeshFetcher implements Fetcher {
  private readonly init: MeshFetcherInit
  private readonly files = new Map<string, Uint8Array>()
  private readonly sources = new Map<string, MeshPeer>()
  private readonly failed: FailedAttempt[] = []

  constructor (init: MeshFetcherInit) {
    this.init = init
  }

  /**
   * Every (path, bytes) downloaded in this session. Metadata is listed as
   * fetched, so mirror it only after a successful refresh; a target is listed
   * only once the download handler (tuf-js's length and hash check) accepted it.
   */
  downloaded (): Map<string, Uint8Array> {
    return new Map(this.files)
  }

  /** which peer served each path, for scoring peers */
  servedBy (): Map<string, MeshPeer> {
    return new Map(this.sources)
  }

  /** every peer that failed to serve a path, and how */
  failures (): FailedAttempt[] {
    return [...this.failed]
  }

  async downloadBytes (url: string, maxLength: number): Promise<Buffer> {
    const path = meshPathOf(url)
    const bytes = await this.fetch(path, maxLength)
    this.files.set(path, bytes)
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  async downloadFile<T> (url: string, maxLength: number, handler: (file: string) => Promise<T>): Promise<T> {
    const path = meshPathOf(url)
    const bytes = await this.fetch(path, maxLength)
    const result = await withTempFile(bytes, handler)
    this.files.set(path, bytes)
    return result
  }

  private candidates (): MeshPeer[] {
    const seen = new Set<string>()
    const unique: MeshPeer[] = []
    for (const peer of this.init.peers()) {
      const key = describePeer(peer)
      if (seen.has(key)) continue
      seen.add(key)
      unique.push(peer)
    }
    return unique.slice(0, this.init.maxPeersPerFile ?? DEFAULT_MAX_PEERS_PER_FILE)
  }

  private async fetch (path: string, maxLength: number): Promise<Uint8Array> {
    const local = this.init.local?.(path)
    if (local != null && local.byteLength <= maxLength) return local
    const candidates = this.candidates()
    if (candidates.length === 0) {
      throw new MeshDownloadError(`no peer to fetch ${path} from; connect to a peer that speaks /umesh/${this.init.network}/sync/1.0.0`)
    }
    const attempts: FailedAttempt[] = []
    // a few peers at once: on a loaded mesh each answer waits behind chunk
    // data on its connection, and a file most peers lack yet (the next root,
    // a snapshot just announced) would otherwise cost one wait per peer
    // the root walk's next root is almost never there: every candidate at once, one round of NOT_FOUNDs
    const parallel = /^metadata\/\d+\.root\.json$/.test(path) ? candidates.length : (this.init.parallel ?? DEFAULT_PARALLEL)
    for (let i = 0; i < candidates.length; i += parallel) {
      this.init.signal?.throwIfAborted()
      const won = new AbortController()
      const signal = withTimeout(this.init.timeoutMs ?? DEFAULT_FETCH_TIMEOUT, won.signal, this.init.signal)
      let badPath: SyncPathError | undefined
      try {
        return await Promise.any(candidates.slice(i, i + parallel).map(async peer => {
          try {
            const bytes = await fetchFile(this.init.opener, peer, this.init.network, path, maxLength, { signal })
            if (!won.signal.aborted) {
              won.abort()
              this.sources.set(path, peer)
            }
            return bytes
          } catch (err) {
            if (err instanceof SyncPathError) badPath = err
            else if (!won.signal.aborted) {
              const attempt = { path, peer, error: err as Error }
              attempts.push(attempt)
              this.failed.push(attempt)
            }
            throw err
          }
        }))
      } catch {
        if (badPath != null) throw new MeshDownloadError(badPath.message)
      }
    }
    throw this.outcome(path, maxLength, attempts)
  }

  /** the tuf-js error that sums up every peer's failure */
  private outcome (path: string, maxLength: number, attempts: FailedAttempt[]): Error {
    const list = attempts.map(a => `${describePeer(a.peer)}: ${a.error.message}`).join('; ')
    // BUSY and INTERNAL_ERROR say nothing about whether the peer has the file, like a failed dial
    const answered = attempts.filter(a => a.error instanceof SyncError && !(a.error instanceof SyncRefusedError && a.error.code !== 'BAD_REQUEST'))
    // no peer served it and one says it lacks it: it is missing. A peer that
    // sent garbage, too much or a refusal is no evidence that it exists, and
    // must not turn the root walk's 404 into an error: one such peer would
    // fail every refresh (tuf-js ends the walk only on a 404)
    if (answered.some(a => a.error instanceof SyncNotFoundError)) {
      return new DownloadHTTPError(`no peer holds ${path} (${list})`, 404)
    }
    if (answered.some(a => a.error instanceof SyncTooLargeError || a.error instanceof SyncOversizedResponseError)) {
      return new DownloadLengthMismatchError(`${path}: a peer offered more than the ${maxLength} bytes allowed (${list})`)
    }
    return new MeshDownloadError(`could not fetch ${path} from any of ${attempts.length} peer${attempts.length === 1 ? '' : 's'} (${list})`, attempts)
  }
}
