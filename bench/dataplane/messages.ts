/**
 * What the data-plane benchmark's parent and its two child processes (a
 * sender and a receiver, one per layer and variant) say to each other over
 * the IPC channel. The child's set-up comes in DPB_CONFIG (JSON) at spawn.
 */

export const LAYERS = ['raw', 'noise', 'yamux', 'chunks'] as const
export type Layer = typeof LAYERS[number]

/** layers built by a variant (variants.ts); raw and noise are always stock */
export const LIBP2P_LAYERS: readonly Layer[] = ['yamux', 'chunks']

export interface EndConfig {
  role: 'sender' | 'receiver'
  layer: Layer
  variant: string
  /** the sender listens on this IPv4 address */
  host: string
  /** the receiver connects here: the sender's ready answer */
  target?: SenderAddress
  /** bytes the receiver asks for at once (raw, noise, yamux) */
  segmentBytes: number
  /** the sender's write size (raw, noise, yamux) */
  writeBytes: number
  /** chunks layer: chunk size, distinct chunk data in the sender's store, CIDs per GET, GETs at once */
  chunkBytes: number
  storeBytes: number
  batch: number
  inflight: number
  /** chunks layer: the sender's chunk store folder */
  storeDir?: string
  /** moved once before 'ready', not measured: connection, JIT, page cache */
  warmBytes: number
}

export interface SenderAddress {
  /** raw: the TCP port on `host` */
  port?: number
  /** noise and the libp2p layers: where to dial (with /p2p/ for libp2p) */
  multiaddrs?: string[]
  /** chunks: the CIDs of the sender's store, in order */
  cids?: string[]
}

export type ParentMessage =
  | { type: 'idle', ms: number }
  | { type: 'start', profile?: string }
  | { type: 'stop' }
  /** profile: a .cpuprofile file to write, the window under the V8 profiler (start to stop at the sender) */
  | { type: 'run', bytes: number, maxMs: number, profile?: string }
  | { type: 'exit' }

/** a window of CPU time (user + system, this whole process) against wall time */
export interface CpuWindow {
  cpuMs: number
  /** the part of cpuMs spent in the kernel (the split is sampled at the scheduler tick; the sum is exact) */
  systemMs: number
  wallMs: number
}

export interface RunResult extends CpuWindow {
  /** payload bytes the receiver got (chunk data for the chunks layer) */
  bytes: number
  /** 'data' events of TCP sockets in the receiver, and the bytes they carried (payload plus every layer's framing) */
  reads: number
  readBytes: number
  /** socket.write calls of the receiver's TCP sockets: its requests, window updates, acknowledgements of its own */
  writes: number
}

export type ChildMessage =
  | { type: 'ready', address?: SenderAddress }
  | { type: 'idle', window: CpuWindow }
  | { type: 'started' }
  | { type: 'stopped', window: CpuWindow }
  | { type: 'ran', result: RunResult }
  | { type: 'error', message: string }
