/**
 * What a follower's data dir says, read without the daemon: the trusted
 * targets (every published release, with its summary), the releases held,
 * the packages followed, and the verified indexes on disk (for changelogs).
 * Only metadata tuf-js has already verified is read.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseReleaseIndex, compareVersions, isScheme } from '../release/index.js'
import { UmeshError } from '../errors.js'
import { HELD_FILE } from './follower.js'
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
  follow: Array<{ package: string, channel: Channel }>
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

export function readLocalState (dataDir: string): LocalState {
  const metadata = join(dataDir, 'tuf', 'metadata')
  if (!existsSync(join(metadata, 'root.json'))) {
    throw new NoTrustedStateError(`${dataDir} has no trusted release metadata; start the node with --trusted-root FILE --follow PKG first`)
  }
  const heldFile = join(dataDir, HELD_FILE)
  const held = existsSync(heldFile) ? readJson(heldFile) : {}
  const heldSet = new Set<string>(held.releases ?? [])
  const follow = (held.follow ?? []).map((f: string) => {
    const [pkg, channel] = f.split('@')
    return { package: pkg, channel: (channel ?? 'stable') as Channel }
  })
  const targets = existsSync(join(metadata, 'targets.json')) ? readJson(join(metadata, 'targets.json')).signed.targets : {}
  const releases: PublishedRelease[] = []
  for (const [targetPath, t] of Object.entries<any>(targets)) {
    const c = t.custom
    if (!targetPath.startsWith('releases/') || typeof c?.package !== 'string' || !isScheme(c.scheme)) continue
    releases.push({ targetPath, package: c.package, version: c.version, channel: c.channel, scheme: c.scheme, totalSize: c.totalSize, created: c.created, sha256: t.hashes.sha256, held: heldSet.has(targetPath) })
  }
  releases.sort((a, b) => a.package.localeCompare(b.package) || compareVersions(a.scheme, a.version, b.version))
  const timestamp = existsSync(join(metadata, 'timestamp.json')) ? readJson(join(metadata, 'timestamp.json')).signed : null
  return { follow, releases, timestampVersion: timestamp?.version ?? 0, timestampExpires: timestamp?.expires ?? null }
}

/** the verified index of a release, when this node has downloaded it */
export function readLocalIndex (dataDir: string, release: PublishedRelease): ReleaseIndex | undefined {
  const file = join(dataDir, 'tuf', 'targets', `${release.sha256}.index.json`)
  return existsSync(file) ? parseReleaseIndex(readFileSync(file)) : undefined
}
