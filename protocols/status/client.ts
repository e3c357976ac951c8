/**
 * Asks one peer for its status. Used by the CLI, the demo and tests.
 */
import { pbStream } from '@libp2p/utils'
import { StatusRequestError } from './errors.js'
import { DEFAULT_TIMEOUT, MAX_RESPONSE_BYTES, RESPONSE_LIMITS, REVISION, statusProtocol } from './constants.js'
import { StatusRequest, StatusResponse } from './status.js'
import type { StreamOpener } from '../shared/stream-opener.js'
import type { AbortOptions } from '@libp2p/interface'

export async function fetchStatus (node: StreamOpener, target: unknown, network: string, options: AbortOptions = {}): Promise<StatusResponse> {
  const signal = options.signal ?? AbortSignal.timeout(DEFAULT_TIMEOUT)
  const stream = await node.dialProtocol(target, statusProtocol(network), { signal })
  try {
    const pb = pbStream(stream, { maxDataLength: MAX_RESPONSE_BYTES })
    await pb.write({ revision: REVISION }, StatusRequest, { signal })
    const response = await pb.read(StatusResponse, { signal, limits: RESPONSE_LIMITS })
    await stream.close({ signal })
    if (response.code !== StatusResponse.Code.OK) {
      throw new StatusRequestError(`the node answered ${response.code}: ${response.error}`)
    }
    return response
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}
