/**
 * Asks one peer for its status. Used by the CLI, the demo and tests. Which
 * networks a peer answers status for is read from the protocol ids it
 * handles (`statusNetworks`).
 *
 * A hostile peer cannot hold the asker: the answer is capped before a byte
 * is buffered (512 KiB, and a length prefix no longer than that needs), and
 * the exchange ends within CLIENT_EXCHANGE_TIMEOUT of the stream opening,
 * whatever signal the caller passed.
 */
import { pbStream } from '@libp2p/utils'
import { StatusRequestError } from './errors.js'
import { CLIENT_EXCHANGE_TIMEOUT, DEFAULT_TIMEOUT, MAX_RESPONSE_BYTES, PROTOCOL_NAME, RESPONSE_LIMITS, REVISION, statusProtocol } from './constants.js'
import { boundedLengthDecoder } from '../shared/length-prefix.js'
import { finishStream } from '../shared/close-stream.js'
import { StatusRequest, StatusResponse } from './status.js'
import { withTimeout } from '../shared/timeout-signal.js'
import type { StreamOpener } from '../shared/stream-opener.js'
import type { AbortOptions } from '@libp2p/interface'

/** errors that mean "the peer sent more than the read allows" */
const OVERSIZE_ERRORS = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'StreamBufferError', 'MaxLengthError'])

export interface FetchStatusOptions extends AbortOptions {
  /** how long to wait once the stream is open (default CLIENT_EXCHANGE_TIMEOUT, 10 s), whatever `signal` says */
  exchangeTimeoutMs?: number
}

export async function fetchStatus (node: StreamOpener, target: unknown, network: string, options: FetchStatusOptions = {}): Promise<StatusResponse> {
  const dialSignal = options.signal ?? AbortSignal.timeout(DEFAULT_TIMEOUT)
  const stream = await node.dialProtocol(target, statusProtocol(network), { signal: dialSignal, runOnLimitedConnection: true })
  const signal = withTimeout(options.exchangeTimeoutMs ?? CLIENT_EXCHANGE_TIMEOUT, dialSignal)
  try {
    // the buffer holds one answer and its length prefix, no more; a prefix that never ends is cut off too
    const pb = pbStream(stream, { maxDataLength: MAX_RESPONSE_BYTES, maxBufferSize: MAX_RESPONSE_BYTES + 16, lengthDecoder: boundedLengthDecoder(MAX_RESPONSE_BYTES) })
    await pb.write({ revision: REVISION }, StatusRequest, { signal })
    let response: StatusResponse
    try {
      response = await pb.read(StatusResponse, { signal, limits: RESPONSE_LIMITS })
    } catch (err) {
      if (OVERSIZE_ERRORS.has((err as Error).name)) {
        throw new StatusRequestError(`the peer sent more than a status answer may hold (${MAX_RESPONSE_BYTES} bytes, ${RESPONSE_LIMITS.peers} peers): ${(err as Error).message}; it was cut off`)
      }
      throw err
    }
    await finishStream(stream, 'a status request', { signal })
    if (response.code !== StatusResponse.Code.OK) {
      throw new StatusRequestError(`the node answered ${response.code}: ${response.error}`)
    }
    return response
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

const STATUS_ID = new RegExp(`^/umesh/([^/]+)/${PROTOCOL_NAME}/([^/]+)$`)

/**
 * The networks whose status protocol (`/umesh/<network>/status/<version>`,
 * any version) is among `protocols`, sorted, each once.
 */
export function statusNetworks (protocols: string[]): string[] {
  const networks = new Set<string>()
  for (const id of protocols) {
    const match = STATUS_ID.exec(id)
    if (match != null) networks.add(match[1])
  }
  return [...networks].sort()
}
