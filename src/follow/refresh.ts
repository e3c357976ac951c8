/**
 * One refresh of the trust chain through peers: tuf-js's Updater with a
 * fetcher that asks peers over the sync protocol (MeshFetcher). When the
 * metadata does not verify (a bad signature, a file the snapshot does not
 * name, an old or expired version), the peers that served it are not
 * believed for a while and the refresh is tried once more without them: a
 * single hostile peer can waste a round, not stop a node from updating.
 */
import { Updater } from 'tuf-js'
import { BadVersionError, DownloadError } from 'tuf-js/dist/error.js'
import { MeshFetcher, MESH_METADATA_URL, MESH_TARGETS_URL } from '../trust/mesh-fetcher.js'
import { MirroredFetcher } from '../trust/mirror-fetcher.js'
import type { HttpMirror } from '../trust/http-mirror.js'
import type { NodeTrust } from './node-trust.js'
import type { StreamOpener } from '../../protocols/shared/index.js'
import type { Logger, PeerId } from '@libp2p/interface'

/** how long peers that served unverifiable metadata are not asked */
export const SUSPECT_MS = 10 * 60_000
/**
 * How long a peer that served a validly signed timestamp older than the
 * trusted one is not asked: it is behind, not hostile (a partition, a node
 * that was away), and will catch up. Held for SUSPECT_MS, every peer on the
 * far side of a healed partition stayed unasked for 10 minutes.
 */
export const BEHIND_MS = 30_000

export interface RefreshOptions {
  opener: StreamOpener
  network: string
  trust: NodeTrust
  /** sync peers to ask, best first (without suspects) */
  peers: () => PeerId[]
  /** the timestamp of an accepted announcement, tried before any peer is asked */
  announced?: { version: number, bytes: Uint8Array }
  /** peer -> time until which it is not believed; filled here */
  suspects: Map<string, number>
  signal: AbortSignal
  log: Logger
  /** a static HTTP mirror asked when no peer serves a file, or none has after `mirrorAfterMs` (mirror-fetcher.ts) */
  mirror?: HttpMirror
  mirrorAfterMs?: number
}

/** what a refresh fetched, and from whom */
export type RefreshFetcher = Pick<MirroredFetcher, 'downloaded' | 'servedBy' | 'mirrorServed'>

export async function refreshThroughPeers (options: RefreshOptions): Promise<{ updater: Updater, fetcher: RefreshFetcher }> {
  const { trust, log, announced } = options
  let first: unknown
  for (;;) {
    const mesh = new MeshFetcher({
      opener: options.opener,
      network: options.network,
      peers: options.peers,
      signal: options.signal,
      local: path => path === 'metadata/timestamp.json' && first == null && announced != null && announced.version > trust.timestampVersion() ? announced.bytes : undefined
    })
    const fetcher = options.mirror == null
      ? Object.assign(mesh, { mirrorServed: () => [] })
      : new MirroredFetcher({ mesh, mirror: options.mirror, afterMs: options.mirrorAfterMs, signal: options.signal, log })
    const updater = new Updater({ metadataDir: trust.metadataDir, metadataBaseUrl: MESH_METADATA_URL, targetDir: trust.targetsDir, targetBaseUrl: MESH_TARGETS_URL, fetcher })
    try {
      await updater.refresh()
      return { updater, fetcher }
    } catch (err) {
      const network = err instanceof DownloadError
      // with no one else to ask, what the first peers served is the news
      if (first != null) throw network ? first : err
      const served = [...new Set([...fetcher.servedBy().values()].map(p => p.toString()))]
      const fromMirror = fetcher.mirrorServed()
      if (network || (served.length === 0 && fromMirror.length === 0) || options.signal.aborted) throw err
      first = err
      const behind = err instanceof BadVersionError && err.message.startsWith('New timestamp version')
      for (const peer of served) options.suspects.set(peer, Date.now() + (behind ? BEHIND_MS : SUSPECT_MS))
      if (fromMirror.length > 0) {
        // the mirror too is only a source: one that served what did not verify is not asked for a while
        options.mirror?.distrust(SUSPECT_MS)
        log.error('not believing the mirror for %d s: %s it served did not verify (%s); fix or re-copy the mirror', SUSPECT_MS / 1000, fromMirror.join(', '), (err as Error).message)
      }
      if (served.length > 0 && behind) log('not asking %s for %d s: they are behind - %e', served.join(', '), BEHIND_MS / 1000, err)
      else if (served.length > 0) log('not believing %s for %d s: the metadata they served did not verify - %e', served.join(', '), SUSPECT_MS / 1000, err)
    }
  }
}
