/**
 * The long-running daemon and the one composition root: the start-up phases
 * (phases.ts) and what each builds (daemon.ts), the core check, the config
 * reload, the status report, daemon.json, resource sampling, the operator
 * log. It holds no logic of the parts it composes.
 *
 * Imports: every engine folder it composes (not cli/, demo/, view/).
 */
export { Daemon } from './daemon.js'
export type { DaemonInit, DaemonState } from './daemon.js'
export { PhaseRunner } from './phases.js'
export type { PhaseRecord, PhaseState, PhaseDefinition, PhaseResult } from './phases.js'
export { readDaemonFile, DAEMON_FILE } from './daemon-file.js'
export { diffConfig } from './reload.js'
