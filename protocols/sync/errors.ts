/**
 * Errors of the sync protocol. The client throws them for a peer's answer
 * (`SyncNotFoundError`, `SyncTooLargeError`, `SyncRefusedError`) or for a
 * peer that broke the protocol (`SyncOversizedResponseError`,
 * `SyncProtocolError`); the server uses the path and size errors to pick the
 * code it answers with.
 */
import { ProtocolError } from '../shared/errors.js'

export class SyncError extends ProtocolError {
  override readonly name: string = 'SyncError'
}

/** The peer does not hold the file (NOT_FOUND): ask another peer. */
export class SyncNotFoundError extends SyncError {
  override readonly name = 'SyncNotFoundError'
  constructor (readonly path: string, message: string) {
    super(message)
  }
}

/** The file is larger than the request allows or the serving node serves (TOO_LARGE). */
export class SyncTooLargeError extends SyncError {
  override readonly name = 'SyncTooLargeError'
}

/** The peer answered BAD_REQUEST, BUSY or INTERNAL_ERROR; `code` says which. */
export class SyncRefusedError extends SyncError {
  override readonly name = 'SyncRefusedError'
  constructor (readonly code: string, message: string) {
    super(message)
  }
}

/** The peer sent more bytes than the client accepts; the stream was cut off. */
export class SyncOversizedResponseError extends SyncError {
  override readonly name = 'SyncOversizedResponseError'
}

/** The peer's answer was not a valid sync response. */
export class SyncProtocolError extends SyncError {
  override readonly name = 'SyncProtocolError'
}

/** A path the sync protocol never serves: outside metadata/ and targets/, or breaking the path rules. */
export class SyncPathError extends SyncError {
  override readonly name = 'SyncPathError'
  constructor (readonly path: string, readonly reason: string) {
    super(`sync path ${JSON.stringify(path.length > 200 ? path.slice(0, 200) + '…' : path)} refused: ${reason}`)
  }
}
