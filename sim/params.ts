/**
 * What the fleet model is given. Every parameter has a physical meaning
 * (a link's rate and latency, CPU per MiB at each end, CPU per request, a
 * round trip count); none is a per-point correction. The defaults are the
 * project's own constants where the code has one (upload slots, requests in
 * flight, batch size, deadlines, have batching, report heartbeat).
 */
export interface LinkModel {
  /** bytes per second each way; Infinity for loopback */
  upBps: number
  downBps: number
  /** one-way latency from the node to the network core, ms (a pair's RTT is twice the sum of both) */
  latencyMs: number
  /** packet loss rate (caps each TCP flow by Mathis: MSS / RTT * 1.22 / sqrt(loss)) */
  loss: number
}

export interface CpuModel {
  /** shared: every node on one machine with `cores`; dedicated: each node has `cores` of its own (one JS thread uses at most 1) */
  mode: 'shared' | 'dedicated'
  cores: number
  /** CPU ms per MiB of chunk data received / sent (the data plane, measured from /proc) */
  inMsPerMiB: number
  outMsPerMiB: number
  /** CPU ms per GET at each end: a new stream, its protocol negotiation and peer store write */
  requestMs: number
  /** CPU ms for a node to verify the announced metadata and the release index */
  metadataMs: number
}

export interface ChurnModel {
  /** share of the nodes that go offline once while the release spreads */
  fraction: number
  /** when they leave, ms after the release (uniform in [0, leaveByMs]) and for how long (uniform) */
  leaveByMs: number
  downMinMs: number
  downMaxMs: number
}

export interface RolloutModel {
  waves: string
  gate: string
  maxParallel: number
  /** ms a node takes to install and pass its health check */
  installMs: number
  /** ms after the release is published that `rollout start` runs */
  startAtMs: number
}

export interface SimParams {
  nodes: number
  /** release size, bytes, and the average chunk (FastCDC: about 294 KiB in practice) */
  bytes: number
  avgPieceBytes: number
  seed: number
  link: LinkModel
  /** the publisher's link, when it differs */
  publisherLink?: LinkModel
  cpu: CpuModel
  churn: ChurnModel
  /** connections each node dials to (targetPeers) */
  targetPeers: number
  /** gossipsub's mesh degree D (messages forwarded per hop) */
  gossipD: number
  /** round trips a node makes to refresh its metadata and fetch the index (timestamp, snapshot, targets, index) */
  metaRoundTrips: number
  /** ms from t=0 to the publisher's announcement (release add, the publisher noticing) */
  publishDelayMs: number
  /** every node's report heartbeat on the reports topic, which every node subscribes to and forwards (0: no rollout running) */
  reportIntervalMs: number
  reportBytes: number
  /** fluid step, ms, and a bound on simulated time */
  dtMs: number
  maxSimMs: number
  rollout?: RolloutModel
}

const MiB = 1024 * 1024

/** a fleet on its own machines: 20 Mbit/s links, 20 ms to the core, 0.1 % loss, 2 % churn */
export function fleetParams (nodes: number, overrides: Partial<SimParams> = {}): SimParams {
  return {
    nodes,
    bytes: 32 * MiB,
    avgPieceBytes: 294 * 1024,
    seed: 1,
    link: { upBps: 2.5e6, downBps: 2.5e6, latencyMs: 10, loss: 0.001 },
    cpu: { mode: 'dedicated', cores: 1, inMsPerMiB: 75, outMsPerMiB: 75, requestMs: 2, metadataMs: 150 },
    churn: { fraction: 0.02, leaveByMs: 20_000, downMinMs: 5_000, downMaxMs: 30_000 },
    targetPeers: 12,
    gossipD: 6,
    metaRoundTrips: 4,
    publishDelayMs: 50,
    reportIntervalMs: 20_000,
    reportBytes: 600,
    dtMs: 20,
    maxSimMs: 600_000,
    ...overrides
  }
}
