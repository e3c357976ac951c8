/**
 * What a follower's data dir says, read without the daemon: the trusted
 * targets (every published release, with its summary), the releases held,
 * the packages followed, and the verified indexes on disk (for changelogs
 * and installs). Only metadata tuf-js has already verified is read, and an
 * index is used only while it still hashes to its signed sha256.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseReleaseIndex, compareVersions, isScheme } from '../release/index.js'
import { UmeshError } from '../errors.js'
import { readByHash } from './by-hash.js'
import { parseFollow, readHeldFile } from './held.js'
import { targetFile } from './layout.js'
import type { DataPaths } from './layout.js'
import type { FollowedPackage } from './held.js'
import type { ReleaseIndex, Channel, VersionScheme } from '../release/index.js'

export interface PublishedRelease {
  targetPath: string
  package: string
  version: string
  channel: Channel
  scheme: VersionScheme
  totalSize: number
  created: string
  sha256: string
  held: boolean
}

export interface LocalState {
  follow: FollowedPackage[]
  releases: PublishedRelease[]
  timestampVersion: number
  timestampExpires: string | null
}

export class NoTrustedStateError extends UmeshError {
  override readonly name = 'NoTrustedStateError'
}

function readJson (path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'))
}

export function readLocalState (paths: DataPaths): LocalState {
  const metadata = paths.tufMetadata
  if (!existsSync(join(metadata, 'root.json'))) {
    throw new NoTrustedStateError(`${paths.root} has no trusted release metadata; start the node with --trusted-root FILE --follow PKG first`)
  }
  const held = readHeldFile(paths.held)
  const heldSet = new Set<string>(held.releases)
  const targets = existsSync(join(metadata, 'targets.json')) ? readJson(join(metadata, 'targets.json')).signed.targets : {}
  const releases: PublishedRelease[] = []
  for (const [targetPath, t] of Object.entries<any>(targets)) {
    const c = t.custom
    if (!targetPath.startsWith('releases/') || typeof c?.package !== 'string' || !isScheme(c.scheme)) continue
    releases.push({ targetPath, package: c.package, version: c.version, channel: c.channel, scheme: c.scheme, totalSize: c.totalSize, created: c.created, sha256: t.hashes.sha256, held: heldSet.has(targetPath) })
  }
  releases.sort((a, b) => a.package.localeCompare(b.package) || compareVersions(a.scheme, a.version, b.version))
  const timestamp = existsSync(join(metadata, 'timestamp.json')) ? readJson(join(metadata, 'timestamp.json')).signed : null
  return { follow: parseFollow(held.follow), releases, timestampVersion: timestamp?.version ?? 0, timestampExpires: timestamp?.expires ?? null }
}

/** the verified index of a release, when this node has downloaded it; HashMismatchError when the file changed since */
export function readLocalIndex (paths: DataPaths, release: { sha256: string }): ReleaseIndex | undefined {
  const bytes = readByHash(targetFile(paths, release.sha256, 'index'), release.sha256)
  return bytes == null ? undefined : parseReleaseIndex(bytes)
}
