/**
 * The swarm: how a release's chunks spread through the mesh at the speed of
 * the links. A piece picker (rarest first, random first pieces, end-game,
 * stalled pieces asked again elsewhere), the have exchange's bookkeeping per
 * release, downloads with several requests in flight per peer, fair upload
 * slots with rare pieces first, and token buckets for the operator's upload
 * and download caps.
 *
 * Imports: protocols/ (chunks, have, shared), libraries; nothing else in src/.
 */
import { Swarm } from './swarm.js'
import type { SwarmComponents, SwarmInit } from './swarm.js'
export { PiecePicker } from './picker.js'
export type { PickerOptions } from './picker.js'
export { TokenBucket } from './token-bucket.js'
export { UploadScheduler } from './upload-scheduler.js'
export type { UploadSchedulerInit } from './upload-scheduler.js'
export { Swarm, piecesOf } from './swarm.js'
export type { SwarmComponents, SwarmCounters, SwarmInit, FetchOptions } from './swarm.js'
export { ReleaseSwarms } from './release-swarms.js'
export { ChunksUnavailableError } from './download.js'
export type { Pieces } from './release-swarm.js'
export { Bandwidth } from './bandwidth.js'
export type { BandwidthLimits, BandwidthReport } from './bandwidth.js'
export type { ChunkSink, FetchedChunk } from './types.js'

export function swarm (init: SwarmInit): (components: SwarmComponents) => Swarm {
  return (components) => new Swarm(components, init)
}
