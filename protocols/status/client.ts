/**
 * Asks one peer for its status. Used by the CLI, the demo and tests. Which
 * networks a peer answers status for is read from the protocol ids it
 * handles (`statusNetworks`).
 */
import { pbStream } from '@libp2p/utils'
import { StatusRequestError } from './errors.js'
import { DEFAULT_TIMEOUT, MAX_RESPONSE_BYTES, PROTOCOL_NAME, RESPONSE_LIMITS, REVISION, statusProtocol } from './constants.js'
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
