/**
 * A node data dir that trusts and holds releases, written directly instead
 * of fetched through a mesh: the trusted targets (`tuf/metadata/targets.json`,
 * unsigned: the install side only reads the targets and checks each index
 * file against its sha256), the indexes named by their sha256 and
 * `held.json`. The releases come from `memoryRelease` (install-fixture.ts),
 * their chunks in one memory store, so an InstallManager on this data dir
 * installs them for real in milliseconds.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { dataPaths, targetFile } from '../../src/data-dir/index.js'
import { encodeReleaseIndex, releaseTargetPath } from '../../src/release/index.js'
import { memoryRelease } from './install-fixture.js'
import type { MemoryStore, ReleaseSpec } from './install-fixture.js'
import type { DataPaths } from '../../src/data-dir/index.js'
import type { ReleaseIndex } from '../../src/release/index.js'

/** a signed target as the trusted targets list it */
export interface TargetEntry {
  length: number
  hashes: { sha256: string }
  custom: Record<string, any>
}

export interface HeldRelease {
  index: ReleaseIndex
  /** false: published (in the targets) but not held; default true */
  held?: boolean
}

/**
 * A release of `app` made by memoryRelease, its chunks in `store`, with the
 * index fields in `over` changed (another package name, a channel, requires).
 */
export function releaseOf (dir: string, store: MemoryStore, spec: ReleaseSpec, n: number, over: Partial<ReleaseIndex> = {}): ReleaseIndex {
  return { ...memoryRelease(dir, spec, n, store), ...over }
}

/** the trusted target entry of a release index, as `release add` signs it */
export function targetEntry (index: ReleaseIndex): TargetEntry {
  const bytes = encodeReleaseIndex(index)
  return {
    length: bytes.byteLength,
    hashes: { sha256: createHash('sha256').update(bytes).digest('hex') },
    custom: { package: index.package, version: index.version, channel: index.channel, scheme: index.scheme, totalSize: index.totalSize, created: index.created, critical: index.critical }
  }
}

/**
 * Writes the trusted targets, the index files and `held.json` of `releases`
 * into `dataDir`, following `follow` (`pkg@channel`). Returns the data dir's
 * paths and the targets by path (what a node's `trust.targets()` answers).
 */
export function writeHeldReleases (dataDir: string, releases: HeldRelease[], follow: string[]): { paths: DataPaths, targets: Record<string, TargetEntry> } {
  const paths = dataPaths(dataDir)
  mkdirSync(paths.tufMetadata, { recursive: true })
  mkdirSync(paths.tufTargets, { recursive: true })
  const targets: Record<string, TargetEntry> = {}
  for (const { index } of releases) {
    const entry = targetEntry(index)
    targets[releaseTargetPath(index.package, index.version)] = entry
    writeFileSync(targetFile(paths, entry.hashes.sha256, 'index'), encodeReleaseIndex(index))
  }
  writeFileSync(join(paths.tufMetadata, 'root.json'), JSON.stringify({ signed: { _type: 'root', version: 1 } }))
  writeFileSync(join(paths.tufMetadata, 'targets.json'), JSON.stringify({ signed: { _type: 'targets', version: 1, targets } }))
  const held = releases.filter(r => r.held !== false).map(r => releaseTargetPath(r.index.package, r.index.version))
  writeFileSync(paths.held, JSON.stringify({ releases: held, follow }) + '\n')
  return { paths, targets }
}

/** the index file of a release in a data dir (to delete or tamper with it) */
export function indexFileOf (paths: DataPaths, index: ReleaseIndex): string {
  return targetFile(paths, targetEntry(index).hashes.sha256, 'index')
}
