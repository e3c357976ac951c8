/**
 * The long-running daemon: phases, lifecycle, reload and status report.
 */
export { Daemon } from './daemon.js'
export type { DaemonInit, DaemonState } from './daemon.js'
export { PhaseRunner } from './phases.js'
export type { PhaseRecord, PhaseState, PhaseDefinition, PhaseResult } from './phases.js'
export { readDaemonFile, DAEMON_FILE } from './daemon-file.js'
export { diffConfig } from './reload.js'
