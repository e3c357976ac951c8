/**
 * Who this node is and that it is alone on its data dir: the Ed25519 key and
 * the data dir lock.
 *
 * Imports: data-dir/ (the file names), util/, errors.
 */
export { loadIdentity, loadOrCreateIdentity, createIdentity, identityPath, IDENTITY_FILE } from './keys.js'
export type { Identity } from './keys.js'
export { acquireLock, lockOwner, LOCK_FILE } from './lock.js'
export type { DataDirLock } from './lock.js'
