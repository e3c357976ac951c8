/**
 * A publisher's releases as the mesh sees them: what the sync protocol
 * serves (the repository folder, its timestamp version and releases), the
 * trusted state announcements are judged against (the repository's own
 * root), the pieces of a release by the CID of its index (for the have
 * exchange), and the releases status lists.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Metadata, MetadataKind } from '@tufjs/models'
import { releasesIn, parseReleaseIndex } from '../release/index.js'
import { piecesOf } from '../swarm/index.js'
import { Repository, targetFilePath } from '../trust/repository.js'
import { readByHash } from '../data-dir/index.js'
import type { TrustedState } from '../announce/index.js'
import type { ReleaseSummary } from '../release/index.js'
import type { Pieces } from '../swarm/index.js'
import type { ReleaseState, TrustState } from '../../protocols/status/index.js'
import type { CID } from 'multiformats/cid'

export class PublishedReleases {
  /** the releases of the signed targets, and their index files by sha256, as of one timestamp version */
  private published?: { version: number, releases: Array<ReleaseSummary & { targetPath: string }>, files: Map<string, string> }

  constructor (readonly repoDir: string) {}

  repo (): Repository {
    return Repository.open(this.repoDir)
  }

  timestampVersion (): number {
    try {
      return JSON.parse(readFileSync(join(this.repoDir, 'metadata', 'timestamp.json'), 'utf8')).signed.version
    } catch {
      return 0
    }
  }

  /** the folder the sync protocol serves */
  mirrorRoot (): string {
    return this.repoDir
  }

  summary (): { timestampVersion: number, releases: string[] } {
    return { timestampVersion: this.timestampVersion(), releases: this.current().releases.map(r => r.targetPath) }
  }

  trusted (): TrustedState {
    const root = Metadata.fromJSON(MetadataKind.Root, JSON.parse(readFileSync(join(this.repoDir, 'metadata', 'root.json'), 'utf8')))
    return { root, timestampVersion: this.timestampVersion() }
  }

  /** the pieces of a published release, by the CID of its index; undefined when it is not one of this repository's */
  async piecesOf (release: CID): Promise<Pieces | undefined> {
    const hex = Buffer.from(release.multihash.digest).toString('hex')
    const file = this.current().files.get(hex)
    if (file == null) return undefined
    try {
      const bytes = readByHash(file, hex)
      return bytes == null ? undefined : piecesOf(parseReleaseIndex(bytes).files)
    } catch {
      return undefined
    }
  }

  /**
   * The published releases and their index files by sha256, read again only
   * when the timestamp changes: any peer may ask for a summary or about any
   * release, and opening the repository for each question would let it make
   * this node do that work.
   */
  private current (): NonNullable<PublishedReleases['published']> {
    const version = this.timestampVersion()
    if (this.published?.version !== version) {
      const repo = this.repo()
      const releases = releasesIn(repo)
      const files = new Map<string, string>()
      for (const r of releases) {
        const hash = repo.targets()[r.targetPath]?.hashes?.sha256
        if (typeof hash === 'string') files.set(hash, join(repo.targetsDir, targetFilePath(r.targetPath, hash)))
      }
      this.published = { version, releases, files }
    }
    return this.published
  }

  report (): { releases: ReleaseState[], trust: TrustState } {
    const releases: ReleaseState[] = this.current().releases.map(r => ({ package: r.package, version: r.version, channel: r.channel, state: 'held', chunksHeld: 0, chunksTotal: 0, bytesTotal: BigInt(r.totalSize), error: '' }))
    return {
      releases: releases.slice(0, 256),
      trust: { mode: 'publisher', timestampVersion: this.timestampVersion(), stale: false, error: '', lastRefreshMs: 0n }
    }
  }
}
