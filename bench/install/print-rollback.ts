/**
 * Section 4 of the install benchmark's output: the two rollbacks, and
 * whether the state path came back.
 */
import { section, table, wrap } from '../report.js'
import { RUNS, VERSIONS } from './options.js'
import { out, spread } from './output.js'
import type { InstallRound } from './install-round.js'

export function printRollback (rounds: InstallRound[]): void {
  out(section(`4. Rollback: Installer.rollback() (median (min - max) of ${RUNS} rounds)`))
  out(wrap(`After the three installs: rollback from ${VERSIONS[2]} to ${VERSIONS[1]}, which restores the state path from ${VERSIONS[2]}'s rollback point (its 24-byte file was changed first), then rollback from ${VERSIONS[1]} to ${VERSIONS[0]} (that install took no rollback point: switch back and journal only). No hooks, no migrations; each includes taking the lock and recover(). current after the installs and each rollback, round 1: ${rounds[0].currents.join(' -> ')}; state restored: ${rounds.every(r => r.restored) ? 'yes, every round' : `no, in ${rounds.filter(r => !r.restored).length} round(s)`}.`))
  out()
  out(table(['rollback', 'time'], [
    [`${VERSIONS[2]} -> ${VERSIONS[1]}, 1 state path restored (2 files, 256 KiB)`, spread(rounds.map(r => r.rollbackState))],
    [`${VERSIONS[1]} -> ${VERSIONS[0]}, no rollback point`, spread(rounds.map(r => r.rollbackPlain))]
  ]))
}
