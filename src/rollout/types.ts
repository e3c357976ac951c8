/**
 * Rollouts in waves: the shared types.
 *
 * A rollout document is a TUF target under the delegated `rollouts` role,
 * at `rollouts/<package>.json` (one rollout per package in effect; a new
 * rollout replaces the document, with a new id). Every change (a wave
 * opened, paused, halted, rollback requested) is a new version of that
 * document, signed with the rollouts key and announced like a release.
 * Nodes verify it through tuf-js like any target, then decide for
 * themselves: their wave, whether it is open, when to install.
 */

export const ROLLOUT_FORMAT = 'umesh-rollout/1'

export interface WaveSpec {
  name: string
  /** cumulative share of the fleet by hash, 0 < fraction <= 1; absent for a wave given as a count */
  fraction?: number
  /** a wave given as a number of nodes: the coordinator fills `peers` from the nodes it has heard of */
  count?: number
  /** explicit members (peer ids), chosen by the coordinator for a count wave */
  peers: string[]
}

export interface HealthGate {
  /** share of a wave's nodes that must report healthy, 0..1 */
  success: number
  /** time after the wave's last node became healthy (or the wave opened) before the gate is judged */
  soakMs: number
}

export type RolloutState = 'running' | 'paused' | 'halted' | 'completed'

export interface RolloutDocument {
  format: typeof ROLLOUT_FORMAT
  /** unique per rollout: part of each node's wave hash */
  id: string
  package: string
  /** must be a release in the signed targets: nodes check */
  version: string
  waves: WaveSpec[]
  /** index of the highest open wave; -1 before the first opens */
  open: number
  state: RolloutState
  /** nodes that installed this rollout's version roll back */
  rollback: boolean
  gate: HealthGate
  /** share of a wave's nodes failed at which the rollout halts and asks for rollback, 0..1 */
  abort: number
  /** nodes of a wave installing at once */
  maxParallel: number
  /** every promotion waits for `umesh rollout promote` */
  manual: boolean
  /** the version is older than the one nodes run: nodes refuse unless their policy allows downgrades */
  downgrade: boolean
  /** may bypass maintenance windows */
  critical: boolean
  created: string
  updated: string
  /** why the state last changed (halted: which nodes failed) */
  reason: string
  /** a label selector (selector.ts, canonical text): only nodes whose labels match take part; absent: every node */
  selector?: string
}

/** what a node says about itself, on the reports topic */
export type NodeOutcome = 'waiting' | 'fetched' | 'installing' | 'healthy' | 'failed' | 'rolled-back' | 'deferred' | 'refused' | 'not-selected'

export interface NodeReport {
  /** the sending node; the signature must verify with this peer id's public key */
  peerId: string
  rolloutId: string
  package: string
  /** the rollout's target version */
  version: string
  outcome: NodeOutcome
  /** the version the node runs now ('' if none) */
  current: string
  wave: number
  reason: string
  tags: string[]
  /** the node's labels now (absent when it has none: such reports keep the older wire form) */
  labels?: Record<string, string>
  /** milliseconds since the epoch, the node's clock */
  at: number
  /** increases with each report of this node, so older ones are ignored */
  seq: number
}

/** a report as it travels: the canonical JSON bytes of the report and an Ed25519 signature over them */
export interface SignedReport {
  report: NodeReport
  /** base64 */
  signature: string
}

/** node config: when installs may happen */
export interface MaintenanceWindow {
  /** lowercase three-letter day names; empty: every day */
  days: string[]
  /** "HH:MM", local to `timeZone`; end before start spans midnight */
  start: string
  end: string
  /** IANA time zone, e.g. "Europe/Berlin"; default "UTC" */
  timeZone: string
}

export interface Blackout {
  /** ISO dates */
  from: string
  to: string
}

export interface MaintenanceConfig {
  /** no windows: any time (outside blackouts) */
  windows: MaintenanceWindow[]
  blackouts: Blackout[]
}

/** rollout events the coordinator notifies */
export type RolloutEvent = 'started' | 'wave-opened' | 'gate-passed' | 'node-failed' | 'halted' | 'rolled-back' | 'completed' | 'paused' | 'resumed'
