/**
 * The sync protocol, `/umesh/<network>/sync/1.0.0`: how TUF metadata and
 * target files travel between peers, and how a peer tells what it holds.
 * One SyncRequest, one SyncResponse, then the stream closes:
 *
 * - FILE {path, max_length}: a file of the serving node's mirror folder (TUF
 *   repository layout), by its repository-relative path, `metadata/<name>.json`
 *   or `targets/<path>`. Peers are untrusted mirrors: the client checks every
 *   byte against signed metadata (tuf-js, through MeshFetcher); the server
 *   serves nothing outside its mirror folder.
 * - SUMMARY: the node's newest trusted timestamp version and the release
 *   target paths it holds completely, for differential sync.
 *
 * Failures travel as a code in the response; request size, file size, streams
 * per connection, concurrent requests, bytes in flight and time per request
 * are capped.
 *
 * Imports: protocols/shared only; nothing from src/.
 */
import { SyncService } from './sync-service.js'
import type { ComponentLogger } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'

export { syncProtocol, DEFAULT_MAX_FILE_BYTES, MAX_SUMMARY_RELEASES, RESPONSE_OVERHEAD_BYTES } from './constants.js'
export { SyncRequest, SyncResponse } from './sync.js'
export { fetchFile, fetchSummary } from './client.js'
export { checkSyncPath } from './mirror-files.js'
export * from './errors.js'

/** What a node tells peers about itself in a SUMMARY answer. */
export interface SyncSummary {
  /** the newest trusted timestamp version, 0 before the first refresh */
  timestampVersion: number
  /** release target paths held completely; at most 4096 (and 1 MiB) are sent */
  releases: string[]
}

export interface SyncInit {
  network: string
  /** the folder served, in the TUF repository layout; asked on every request because it can change; undefined: serve nothing */
  mirrorRoot: () => string | undefined
  /** what a SUMMARY answers; called once per request */
  summary: () => SyncSummary | Promise<SyncSummary>
  /** the largest file served (default 64 MiB); larger ones are answered TOO_LARGE */
  maxFileBytes?: number
  /** file bytes held in memory for all answers at once (default 256 MiB); beyond, BUSY (one file is always let through) */
  maxBytesInFlight?: number
  /** time for one request, read to write (default 30 s) */
  timeout?: number
  /** streams open at once per connection (default 4) */
  maxInboundStreams?: number
  /** requests served at once in all (default 16); more get BUSY */
  maxConcurrent?: number
}

export interface SyncComponents {
  registrar: Registrar
  logger: ComponentLogger
}

export function sync (init: SyncInit): (components: SyncComponents) => SyncService {
  return (components) => new SyncService(components, init)
}

export type { SyncService }
