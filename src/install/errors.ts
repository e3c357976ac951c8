/**
 * The install transaction's own errors (each part has its own beside it:
 * preflight, staging, switch, migrations, rollback points, the lock).
 */
import { UmeshError } from '../errors.js'
import type { HistoryEntry } from './types.js'

/** an install or rollback refused before it began, or a hook that failed */
export class InstallError extends UmeshError {
  override readonly name = 'InstallError'
}

/** a step failed; the install was undone */
export class InstallFailedError extends UmeshError {
  override readonly name = 'InstallFailedError'
  constructor (message: string, readonly entry: HistoryEntry) {
    super(message)
  }
}
