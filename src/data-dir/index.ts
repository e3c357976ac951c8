/**
 * The node's data dir: every path in it (`layout.ts`), the `held.json`
 * format, and the files named by their sha256 (release indexes, rollout
 * documents), read back only while they still hash to their name. Every
 * other module asks here rather than spelling a file name.
 *
 * Imports: release/ (to parse the indexes it hands out), util/, errors.
 */
export { dataPaths, defaultInstallRoot, targetFile, DATA_FILES } from './layout.js'
export type { DataPaths, TargetKind } from './layout.js'
export { readByHash, HashMismatchError } from './by-hash.js'
export { HeldReleases, parseFollow, readHeldFile } from './held.js'
export type { FollowedPackage, HeldFile } from './held.js'
export { readLocalState, readLocalIndex, NoTrustedStateError } from './local-state.js'
export type { LocalState, PublishedRelease } from './local-state.js'
