/**
 * Asks one peer for one file or for its summary. The reads are capped before
 * a byte is buffered: a file answer may hold at most `maxLength` bytes of
 * data, and a peer that sends more is cut off with SyncOversizedResponseError.
 */
import { lpStream } from '@libp2p/utils'
import { DEFAULT_TIMEOUT, MAX_SUMMARY_BYTES, MAX_SUMMARY_RELEASES, RESPONSE_OVERHEAD_BYTES, SUMMARY_LIMITS, syncProtocol } from './constants.js'
import { SyncNotFoundError, SyncOversizedResponseError, SyncProtocolError, SyncRefusedError, SyncTooLargeError } from './errors.js'
import { boundedLengthDecoder } from '../shared/length-prefix.js'
import { finishStream } from '../shared/close-stream.js'
import { checkSyncPath } from './mirror-files.js'
import { SyncRequest, SyncResponse } from './sync.js'
import type { SyncSummary } from './index.js'
import type { StreamOpener } from '../shared/stream-opener.js'
import type { AbortOptions, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export type SyncTarget = PeerId | Multiaddr | Multiaddr[]

/** errors that mean "the peer sent more than the read allows" */
const OVERSIZE_ERRORS = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'StreamBufferError', 'MaxLengthError'])

async function exchange (opener: StreamOpener, peer: SyncTarget, network: string, request: SyncRequest, maxResponseBytes: number, options: AbortOptions): Promise<SyncResponse> {
  const signal = options.signal ?? AbortSignal.timeout(DEFAULT_TIMEOUT)
  const stream = await opener.dialProtocol(peer, syncProtocol(network), { signal, runOnLimitedConnection: true })
  try {
    // the buffer holds one message and its length prefix, no more; a prefix that never ends is cut off too
    const lp = lpStream(stream, { maxDataLength: maxResponseBytes, maxBufferSize: maxResponseBytes + 16, lengthDecoder: boundedLengthDecoder(maxResponseBytes) })
    await lp.write(SyncRequest.encode(request), { signal })
    let bytes
    try {
      bytes = await lp.read({ signal })
    } catch (err) {
      if (OVERSIZE_ERRORS.has((err as Error).name)) throw oversized(request, maxResponseBytes, err)
      throw err
    }
    let response: SyncResponse
    try {
      response = SyncResponse.decode(bytes, { limits: SUMMARY_LIMITS })
    } catch (err) {
      if (OVERSIZE_ERRORS.has((err as Error).name)) throw oversized(request, maxResponseBytes, err)
      throw new SyncProtocolError(`the peer's answer to ${describe(request)} is not a sync response (${(err as Error).message})`)
    }
    await finishStream(stream, `a sync request for ${describe(request)}`, { signal })
    return response
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

function oversized (request: SyncRequest, maxResponseBytes: number, err: unknown): SyncOversizedResponseError {
  return new SyncOversizedResponseError(`the peer sent more than a sync answer to ${describe(request)} may hold (${maxResponseBytes} bytes, ${MAX_SUMMARY_RELEASES} releases): ${(err as Error).message}; it was cut off`)
}

function describe (request: SyncRequest): string {
  return request.kind === SyncRequest.Kind.FILE ? request.path : 'a summary request'
}

function failure (response: SyncResponse, what: string): Error {
  const message = `the peer answered ${response.code} for ${what}: ${response.error}`
  switch (response.code) {
    case SyncResponse.Code.NOT_FOUND: return new SyncNotFoundError(what, message)
    case SyncResponse.Code.TOO_LARGE: return new SyncTooLargeError(message)
    default: return new SyncRefusedError(String(response.code), message)
  }
}

/**
 * Fetches one file of a peer's mirror, at most `maxLength` bytes. Throws
 * SyncPathError before dialling for a path the protocol never serves,
 * SyncNotFoundError when the peer lacks the file, SyncTooLargeError when it
 * says the file is larger, SyncOversizedResponseError when it sends more,
 * SyncRefusedError for other answers.
 */
export async function fetchFile (opener: StreamOpener, peer: SyncTarget, network: string, path: string, maxLength: number, options: AbortOptions = {}): Promise<Uint8Array> {
  checkSyncPath(path)
  if (!Number.isSafeInteger(maxLength) || maxLength < 1) throw new RangeError(`maxLength: expected a positive integer, found ${maxLength}`)
  const request: SyncRequest = { kind: SyncRequest.Kind.FILE, path, maxLength: BigInt(maxLength) }
  const response = await exchange(opener, peer, network, request, maxLength + RESPONSE_OVERHEAD_BYTES, options)
  if (response.code !== SyncResponse.Code.OK) throw failure(response, path)
  if (response.data.byteLength > maxLength) {
    throw new SyncOversizedResponseError(`the peer sent ${response.data.byteLength} bytes for ${path}, more than the ${maxLength} asked for`)
  }
  return response.data
}

/** Asks a peer for its newest trusted timestamp version and the releases it holds. */
export async function fetchSummary (opener: StreamOpener, peer: SyncTarget, network: string, options: AbortOptions = {}): Promise<SyncSummary> {
  const request: SyncRequest = { kind: SyncRequest.Kind.SUMMARY, path: '', maxLength: 0n }
  const response = await exchange(opener, peer, network, request, MAX_SUMMARY_BYTES, options)
  if (response.code !== SyncResponse.Code.OK) throw failure(response, 'a summary')
  return { timestampVersion: response.timestampVersion, releases: response.releases }
}
