/**
 * Rollouts in waves. The signed rollout document and its parser
 * (document.ts, types.ts), wave membership, gates and install slots
 * (waves.ts), maintenance windows (windows.ts), signed node reports and the
 * report book (reports.ts), the heartbeat by fleet size (heartbeat.ts), webhooks (webhooks.ts); the repository side that
 * writes and re-signs documents (repo-rollouts.ts); the coordinator that
 * steers them from a publisher (coordinator.ts); and a node's side that
 * installs when its wave is open and reports (node-rollouts.ts).
 *
 * Every rollout's newest document stays signed in the history
 * (history.ts); operator actions are recorded in the audit log.
 *
 * Imports: audit/ (operator actions), install/ (the node side drives the
 * install manager), network/ (topic names), release/, trust/, util/.
 */
import { Coordinator } from './coordinator.js'
import { NodeRollouts } from './node-rollouts.js'
import type { CoordinatorComponents, CoordinatorInit } from './coordinator.js'
import type { NodeRolloutsComponents, NodeRolloutsInit } from './node-rollouts.js'

export { Coordinator, readCoordinatorState, coordinatorStateFile, UNREACHABLE_MS } from './coordinator.js'
export type { CoordinatorComponents, CoordinatorEvents, CoordinatorInit, CoordinatorState } from './coordinator.js'
export { ReportBook } from './reports.js'
export { heartbeatMs, unreachableAfterMs, FLEET_HEARTBEATS_PER_SECOND } from './heartbeat.js'
export { beginRollout, steerRollout, onlyPackage, STEER_ACTIONS, DEFAULT_WAVES, DEFAULT_GATE, DEFAULT_ABORT } from './operations.js'
export type { RolloutStartFields, SteerAction } from './operations.js'
export { fleetRows, rolloutView, nodeView } from './views.js'
export type { FleetRow, FleetFilter, RolloutView, WaveView, NodeView, CoordinatorEvent } from './views.js'
export { readRollout, listRollouts, RolloutError, RolloutConflictError, NoRolloutError } from './repo-rollouts.js'
export { rolloutHistory, historyJson, auditExpectations, lastCompletedRollout, historyTargetPath, outcomeOf, COORDINATOR_ACTOR } from './history.js'
export type { RolloutHistoryEntry, RolloutOutcome } from './history.js'
export { NodeRollouts, GOVERNED_MARK } from './node-rollouts.js'
export type { NodeRolloutsComponents, NodeRolloutsInit } from './node-rollouts.js'

export function coordinator (init: CoordinatorInit): (components: CoordinatorComponents) => Coordinator {
  return (components) => new Coordinator(components, init)
}

export function nodeRollouts (init: NodeRolloutsInit): (components: NodeRolloutsComponents) => NodeRollouts {
  return (components) => new NodeRollouts(components, init)
}
