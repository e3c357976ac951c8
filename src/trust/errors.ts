/**
 * Errors of the trust layer: a repository that cannot be used as asked, and
 * metadata that does not verify.
 */
import { UmeshError } from '../errors.js'

export class TrustError extends UmeshError {
  override readonly name: string = 'TrustError'
}

export class RepositoryError extends TrustError {
  override readonly name = 'RepositoryError'
}
