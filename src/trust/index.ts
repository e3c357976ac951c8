/**
 * Trust, in The Update Framework's terms: the publisher's repository in
 * TUF's standard layout (repository.ts: keys, signing, key rotation, the
 * delegated `rollouts` role, timestamps re-signed before they expire), role
 * keys on disk (role-keys.ts), and the fetcher that lets tuf-js's Updater
 * get metadata and targets from peers over the sync protocol instead of
 * HTTP (mesh-fetcher.ts).
 *
 * Imports: protocols/sync (the client the fetcher uses), protocols/shared,
 * util/, errors.
 */
export { Repository, ROLLOUTS_ROLE, ROLE_NAMES, TOP_ROLES, DEFAULT_EXPIRY, SPEC_VERSION, expiresIn, metadataFileName, targetFilePath } from './repository.js'
export type { Expiry, InitOptions, RepoSettings, RoleName } from './repository.js'
export { MeshFetcher, MeshDownloadError, meshPathOf, MESH_METADATA_URL, MESH_TARGETS_URL, MESH_URL_SCHEME } from './mesh-fetcher.js'
export type { MeshFetcherInit, MeshPeer } from './mesh-fetcher.js'
export { TrustError, RepositoryError } from './errors.js'
