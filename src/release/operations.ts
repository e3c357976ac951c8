/**
 * What `umesh release add | list` and the HTTP API's /api/v1/releases both
 * do, from the same fields: the CLI's option texts checked into
 * AddReleaseOptions, the summary printed after an add, the sorted list;
 * and the two that change the repository, add and publish, each recorded
 * in its audit log (src/audit) with the operator who asked.
 */
import { auditedAsync, audited } from '../audit/index.js'
import { UsageError } from '../errors.js'
import { addRelease, parsePackageRangeFlag, releasesIn } from './add-release.js'
import { compareVersions, isScheme, CHANNELS } from './version.js'
import type { Operator } from '../audit/index.js'
import type { Repository } from '../trust/repository.js'
import type { AddedRelease, AddReleaseOptions, ReleaseSummary } from './add-release.js'
import type { Channel } from './version.js'

/** `release add`'s options as texts */
export interface ReleaseAddFields {
  package: string
  version: string
  channel?: string
  scheme?: string
  /** a file holding the changelog */
  changelogFile?: string
  /** "PKG RANGE" each */
  requires?: string[]
  conflicts?: string[]
  requiredStep?: boolean
  critical?: boolean
}

export function releaseAddOptions (f: ReleaseAddFields): AddReleaseOptions {
  if (f.channel != null && !(CHANNELS as readonly string[]).includes(f.channel)) throw new UsageError(`--channel: expected one of ${CHANNELS.join(', ')}, found "${f.channel}"`)
  if (f.scheme != null && !isScheme(f.scheme)) throw new UsageError(`--scheme: expected semver or abr, found "${f.scheme}"`)
  return {
    package: f.package,
    version: f.version,
    channel: f.channel as Channel | undefined,
    changelogFile: f.changelogFile,
    scheme: f.scheme,
    requires: (f.requires ?? []).map(text => parsePackageRangeFlag('requires', text)),
    conflicts: (f.conflicts ?? []).map(text => parsePackageRangeFlag('conflicts', text)),
    requiredStep: f.requiredStep === true,
    critical: f.critical === true
  }
}

/** what `release add --json` prints */
export function addedJson (added: AddedRelease): Record<string, unknown> {
  const i = added.index
  return { package: i.package, version: i.version, channel: i.channel, files: i.files.length, totalSize: i.totalSize, chunks: added.chunks, newChunks: added.newChunks, newBytes: added.newBytes, target: added.targetPath, requires: i.requires, conflicts: i.conflicts, requiredStep: i.requiredStep, critical: i.critical }
}

/** what is published, by package, oldest first */
export function listReleases (repo: Parameters<typeof releasesIn>[0], pkg?: string): Array<ReleaseSummary & { targetPath: string }> {
  return releasesIn(repo)
    .filter(r => pkg == null || r.package === pkg)
    .sort((a, b) => a.package.localeCompare(b.package) || compareVersions(a.scheme, a.version, b.version))
}

/** `release add`: checks, chunks and signs the release at `source`, recorded with its options (targets key) */
export async function addReleaseAs (repo: Repository, source: string, options: AddReleaseOptions, who: Operator): Promise<AddedRelease> {
  const args = { ...options, source: who.via === 'api' ? '(uploaded archive)' : source, changelogFile: options.changelogFile == null ? undefined : (who.via === 'api' ? '(uploaded text)' : options.changelogFile) }
  return await auditedAsync(repo, who, { action: 'release.add', role: 'targets', args }, async () => await addRelease(repo, source, options),
    added => ({ target: added.targetPath, files: added.index.files.length, totalSize: added.index.totalSize, newChunks: added.newChunks }))
}

/** `release publish`: a new timestamp over the same snapshot, so the publisher announces again (timestamp key) */
export function publishAgain (repo: Repository, who: Operator): number {
  return audited(repo, who, { action: 'release.publish', role: 'timestamp', args: {} }, () => {
    repo.refreshTimestamp()
    return repo.signedOf('timestamp').version as number
  }, version => ({ timestamp: version }))
}
