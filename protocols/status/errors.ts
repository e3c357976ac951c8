/**
 * Errors of the status protocol's client.
 */
import { ProtocolError } from '../shared/errors.js'

/** The node answered with an error code, or its answer could not be read. */
export class StatusRequestError extends ProtocolError {
  override readonly name = 'StatusRequestError'
}
