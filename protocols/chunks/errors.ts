/**
 * Errors of the chunks protocol. The client throws ChunkVerificationError and
 * ChunksProtocolError for a peer that sent bad data or broke the protocol
 * (drop that peer: `isPeerFault`), ChunksRefusedError for a peer that
 * answered an error code, ChunksTimeoutError for a peer that was too slow,
 * and TooManyChunksError, before dialling, for a request too large to send.
 */
import { ProtocolError } from '../shared/errors.js'
import type { CID } from 'multiformats/cid'

export class ChunksError extends ProtocolError {
  override readonly name: string = 'ChunksError'
}

/** A peer sent a chunk other than the one asked for at that place: bytes that do not hash to the CID, or another CID. */
export class ChunkVerificationError extends ChunksError {
  override readonly name = 'ChunkVerificationError'
  constructor (readonly peer: string, readonly cid: CID, message: string) {
    super(message)
  }
}

/** A peer's answers broke the protocol: oversized, too many, malformed, or cut short. */
export class ChunksProtocolError extends ChunksError {
  override readonly name = 'ChunksProtocolError'
  constructor (readonly peer: string, message: string) {
    super(message)
  }
}

/** The peer refused the whole request (BAD_REQUEST, BUSY, INTERNAL_ERROR); `code` says which. BUSY: try again shortly. */
export class ChunksRefusedError extends ChunksError {
  override readonly name = 'ChunksRefusedError'
  constructor (readonly peer: string, readonly code: string, message: string) {
    super(message)
  }
}

/** The peer did not answer in full within the request's time. */
export class ChunksTimeoutError extends ChunksError {
  override readonly name = 'ChunksTimeoutError'
  constructor (readonly peer: string, readonly timeoutMs: number, message: string) {
    super(message)
  }
}

/** The caller asked for more CIDs than one request may carry; nothing was sent. */
export class TooManyChunksError extends ChunksError {
  override readonly name = 'TooManyChunksError'
}

/** true for errors that mean the peer sent bad data or broke the protocol: drop it */
export function isPeerFault (err: unknown): boolean {
  return err instanceof ChunkVerificationError || err instanceof ChunksProtocolError
}
