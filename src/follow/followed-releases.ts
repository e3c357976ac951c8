/**
 * A follower's releases as the mesh sees them: what the sync protocol serves
 * (the mirror of verified files, its trusted timestamp version and the
 * releases it holds), the trusted state announcements are judged against,
 * the pieces of a release by the CID of its index (for the have exchange:
 * only indexes it verified, read back only while they hash to their name),
 * and the releases status lists.
 */
import { parseReleaseIndex } from '../release/index.js'
import { piecesOf } from '../swarm/index.js'
import { readByHash, targetFile } from '../data-dir/index.js'
import type { NodeTrust } from './node-trust.js'
import type { TrustedState } from '../announce/index.js'
import type { DataPaths, HeldReleases } from '../data-dir/index.js'
import type { Pieces } from '../swarm/index.js'
import type { ReleaseState, TrustState } from '../../protocols/status/index.js'
import type { CID } from 'multiformats/cid'

/** a release the follower is fetching, or fetched in this run */
export interface ReleaseProgress {
  package: string
  version: string
  channel: string
  state: 'fetching' | 'held' | 'failed'
  chunksHeld: number
  chunksTotal: number
  bytesTotal: number
  error: string
  targetPath: string
}

/** what the follower's rounds know beyond the disk: releases under way and how the last refresh went */
export interface FollowerProgress {
  releases: Map<string, ReleaseProgress>
  stale: boolean
  refreshError: string
  lastRefresh: number
}

export interface FollowedReleasesComponents {
  trust: NodeTrust
  paths: DataPaths
  held: HeldReleases
}

export class FollowedReleases {
  constructor (readonly components: FollowedReleasesComponents) {}

  get trust (): NodeTrust {
    return this.components.trust
  }

  get held (): HeldReleases {
    return this.components.held
  }

  /** the folder the sync protocol serves */
  mirrorRoot (): string {
    return this.components.trust.mirrorDir
  }

  summary (): { timestampVersion: number, releases: string[] } {
    return { timestampVersion: this.components.trust.timestampVersion(), releases: this.components.held.list() }
  }

  trusted (): TrustedState {
    const { trust } = this.components
    return { root: trust.root(), timestampVersion: trust.timestampVersion() }
  }

  /** the pieces of a release this node verified the index of, by the CID of that index */
  async piecesOf (release: CID): Promise<Pieces | undefined> {
    const hex = Buffer.from(release.multihash.digest).toString('hex')
    try {
      const bytes = readByHash(targetFile(this.components.paths, hex, 'index'), hex)
      return bytes == null ? undefined : piecesOf(parseReleaseIndex(bytes).files)
    } catch {
      return undefined
    }
  }

  report (progress?: FollowerProgress): { releases: ReleaseState[], trust: TrustState } {
    const releases: ReleaseState[] = []
    const live = progress?.releases ?? new Map<string, ReleaseProgress>()
    if (progress != null) {
      const targets = this.components.trust.targets()
      for (const path of this.components.held.list()) {
        const c = targets[path]?.custom
        if (c != null && !live.has(path)) releases.push({ package: c.package, version: c.version, channel: c.channel, state: 'held', chunksHeld: 0, chunksTotal: 0, bytesTotal: BigInt(c.totalSize ?? 0), error: '' })
      }
    }
    for (const r of live.values()) {
      releases.push({ package: r.package, version: r.version, channel: r.channel, state: r.state, chunksHeld: r.chunksHeld, chunksTotal: r.chunksTotal, bytesTotal: BigInt(r.bytesTotal), error: r.error })
    }
    return {
      releases: releases.slice(0, 256),
      trust: {
        mode: 'follower',
        timestampVersion: this.components.trust.timestampVersion(),
        stale: progress?.stale ?? false,
        error: progress?.refreshError ?? '',
        lastRefreshMs: BigInt(progress?.lastRefresh ?? 0)
      }
    }
  }
}
