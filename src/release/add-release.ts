/**
 * `release add`: checks a source tree, chunks every file into the
 * repository's chunk store, writes the release index and signs it as a TUF
 * target. Nothing is signed unless every entry passed the tree rules and
 * every chunk is stored; a version, once published, never changes.
 */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { openChunkStore } from '../content/index.js'
import { UmeshError, UsageError } from '../errors.js'
import { INDEX_FORMAT, MAX_CHANGELOG_BYTES, MAX_DEPENDENCIES, PACKAGE_NAME, dependencyProblem, encodeReleaseIndex, releaseTargetPath } from './release-index.js'
import { readSourceTree } from './source-tree.js'
import { DEFAULT_VERSION_SCHEME, isScheme, parseVersion } from './version.js'
import type { IndexFile, PackageRange, ReleaseIndex } from './release-index.js'
import type { Channel, VersionScheme } from './version.js'
import type { Repository } from '../trust/repository.js'

export class ReleaseError extends UmeshError {
  override readonly name = 'ReleaseError'
}

export interface AddReleaseOptions {
  package: string
  version: string
  channel?: Channel
  changelogFile?: string
  scheme?: string
  /** packages this release needs, each at a version in a range of this release's scheme */
  requires?: PackageRange[]
  /** packages that may not be installed at a version in the range alongside this release */
  conflicts?: PackageRange[]
  /** upgrades may not skip over this release */
  requiredStep?: boolean
  /** may bypass maintenance windows */
  critical?: boolean
  now?: Date
}

export interface AddedRelease {
  index: ReleaseIndex
  targetPath: string
  chunks: number
  newChunks: number
  newBytes: number
}

/** what the targets metadata says of a release, so listing needs no index download */
export interface ReleaseSummary {
  package: string
  version: string
  channel: Channel
  scheme: VersionScheme
  totalSize: number
  created: string
  /** present (true) only for a required step */
  requiredStep?: boolean
  /** present (true) only for a critical release */
  critical?: boolean
}

/**
 * Splits a `--requires` / `--conflicts` value, "PACKAGE RANGE" (the name, a
 * space, the range: "libfoo >=1.2.0 <2.0.0"). Only the shape is checked here;
 * addRelease checks the name and the range against the package's scheme.
 */
export function parsePackageRangeFlag (flag: 'requires' | 'conflicts', text: string): PackageRange {
  const match = /^\s*(\S+)\s+(\S.*?)\s*$/s.exec(text)
  if (match == null) throw new UsageError(`--${flag}: expected "PACKAGE RANGE" (the package name, a space, a version range), e.g. --${flag} "libfoo >=1.2.0 <2.0.0", found ${JSON.stringify(text)}`)
  return { package: match[1], range: match[2] }
}

function checkDependencies (flag: 'requires' | 'conflicts', list: PackageRange[] | undefined, pkg: string, scheme: VersionScheme): PackageRange[] {
  const entries = list ?? []
  if (entries.length > MAX_DEPENDENCIES) throw new ReleaseError(`--${flag} is given ${entries.length} times; a release may list at most ${MAX_DEPENDENCIES} packages`)
  const seen = new Set<string>()
  for (const entry of entries) {
    const problem = dependencyProblem(flag, entry, pkg, scheme)
    if (problem !== undefined) throw new ReleaseError(`--${flag} "${entry.package} ${entry.range}": ${problem}`)
    if (seen.has(entry.package)) throw new ReleaseError(`--${flag} names ${entry.package} twice; give one range per package (space-separated comparators must all hold, e.g. ">=1.2.0 <2.0.0")`)
    seen.add(entry.package)
  }
  return entries.map(e => ({ package: e.package, range: e.range }))
}

export function releasesIn (repo: Repository): Array<ReleaseSummary & { targetPath: string }> {
  return Object.entries(repo.targets())
    .filter(([path, info]) => path.startsWith('releases/') && info.custom?.package != null)
    .map(([targetPath, info]) => ({ targetPath, ...(info.custom as ReleaseSummary) }))
}

function chooseScheme (repo: Repository, pkg: string, asked?: string): VersionScheme {
  const used = releasesIn(repo).find(r => r.package === pkg)?.scheme
  if (asked != null && !isScheme(asked)) throw new ReleaseError(`--scheme: expected semver or abr, found "${asked}"`)
  if (used != null && asked != null && asked !== used) {
    throw new ReleaseError(`package ${pkg} uses the ${used} version scheme; a package keeps its scheme (drop --scheme ${asked})`)
  }
  return (used ?? asked ?? DEFAULT_VERSION_SCHEME) as VersionScheme
}

function readChangelog (file?: string): string {
  if (file == null) return ''
  let size: number
  try {
    size = statSync(file).size
  } catch {
    throw new ReleaseError(`--changelog: ${file} not found`)
  }
  if (size > MAX_CHANGELOG_BYTES) throw new ReleaseError(`--changelog: ${file} is ${size} bytes; a changelog may be at most ${MAX_CHANGELOG_BYTES} bytes`)
  return readFileSync(file, 'utf8')
}

export async function addRelease (repo: Repository, source: string, options: AddReleaseOptions): Promise<AddedRelease> {
  const pkg = options.package
  if (!PACKAGE_NAME.test(pkg)) throw new ReleaseError(`--package: expected a lowercase name of 1-64 letters, digits, . _ - (e.g. my-app), found "${pkg}"`)
  const scheme = chooseScheme(repo, pkg, options.scheme)
  const version = parseVersion(scheme, options.version)
  if (options.channel != null && options.channel !== version.channel) {
    throw new ReleaseError(`version ${options.version} is on the ${version.channel} channel under the ${scheme} scheme, and --channel says ${options.channel}; give a ${options.channel} version or drop --channel`)
  }
  const targetPath = releaseTargetPath(pkg, version.text)
  if (repo.targets()[targetPath] != null) {
    throw new ReleaseError(`${pkg} ${version.text} is already published; a published version never changes, publish a new version instead`)
  }
  const requires = checkDependencies('requires', options.requires, pkg, scheme)
  const conflicts = checkDependencies('conflicts', options.conflicts, pkg, scheme)
  const requiredStep = options.requiredStep === true
  const critical = options.critical === true
  const changelog = readChangelog(options.changelogFile)

  const tree = await readSourceTree(source)
  const store = await openChunkStore(join(repo.dir, 'chunks'))
  const files: IndexFile[] = []
  let chunks = 0
  let newChunks = 0
  let newBytes = 0
  try {
    if (tree.entries.length === 0) throw new ReleaseError(`${source} holds no files; there is nothing to publish`)
    for (const entry of tree.entries) {
      const stored = await store.chunkStream(entry.open())
      if (stored.size !== entry.size) throw new ReleaseError(`${entry.path} changed while it was read (${entry.size} bytes checked, ${stored.size} read); try again`)
      files.push({ path: entry.path, mode: entry.mode, size: stored.size, sha256: stored.sha256, chunks: stored.chunks.map(c => ({ cid: c.cid.toString(), size: c.size })) })
      chunks += stored.chunks.length
      newChunks += stored.newChunks
      newBytes += stored.newBytes
    }
  } finally {
    await tree.close()
  }
  const now = options.now ?? new Date()
  const index: ReleaseIndex = {
    format: INDEX_FORMAT,
    package: pkg,
    version: version.text,
    scheme,
    channel: version.channel,
    changelog,
    created: now.toISOString(),
    totalSize: files.reduce((sum, f) => sum + f.size, 0),
    files,
    requires,
    conflicts,
    requiredStep,
    critical
  }
  const summary: ReleaseSummary = {
    package: pkg,
    version: version.text,
    channel: version.channel,
    scheme,
    totalSize: index.totalSize,
    created: index.created,
    ...(requiredStep ? { requiredStep } : {}),
    ...(critical ? { critical } : {})
  }
  repo.addTargets([{ path: targetPath, bytes: encodeReleaseIndex(index), custom: { ...summary } }], 'targets', now)
  return { index, targetPath, chunks, newChunks, newBytes }
}
