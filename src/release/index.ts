/**
 * Releases: the source tree a release is made from (checked before anything
 * is stored), version schemes and channels, the signed release index, and
 * `release add`, which ties them to the content store and the TUF repository.
 *
 * Imports: audit/ (add and publish are recorded), content/ (chunking),
 * trust/ (signing the index into the repository), protocols/shared (path
 * rules, the largest chunk), errors.
 */
export { addRelease, releasesIn, ReleaseError } from './add-release.js'
export { releaseAddOptions, addedJson, listReleases, addReleaseAs, publishAgain } from './operations.js'
export type { ReleaseAddFields } from './operations.js'
export type { AddReleaseOptions, AddedRelease, ReleaseSummary } from './add-release.js'
export { parseReleaseIndex, encodeReleaseIndex, releaseTargetPath, ReleaseIndexError, INDEX_FORMAT } from './release-index.js'
export type { ReleaseIndex, IndexFile, IndexChunk } from './release-index.js'
export { readSourceTree } from './source-tree.js'
export type { SourceTree, SourceEntry } from './source-tree.js'
export { UnsafeTreeError, ReleaseSourceError, checkEntryPath } from './tree-rules.js'
export { parseVersion, compareVersions, newestOnChannel, channelSees, isScheme, VersionError, CHANNELS, VERSION_SCHEMES } from './version.js'
export type { Channel, VersionScheme, ParsedVersion } from './version.js'
