/**
 * Section 3 of the install benchmark's output: each install end to end, and
 * its steps' times.
 */
import { section, table, wrap } from '../report.js'
import { CHANGED, FILES, RUNS, VERSIONS } from './options.js'
import { fmtMs, med, out, rate, spread } from './output.js'
import type { InstallRound } from './install-round.js'

export function printInstalls (rounds: InstallRound[], pkgSize: number): void {
  const changed = `${+(CHANGED / FILES * 100).toFixed(1)}%`
  const labels = [`${VERSIONS[0]} (first install)`, `${VERSIONS[0]} -> ${VERSIONS[1]} (${changed} changed)`, `${VERSIONS[1]} -> ${VERSIONS[2]} (${changed}, + state path)`]
  out(section(`3. End to end: Installer.install(), no activate hook, no health check (median (min - max) of ${RUNS} rounds)`))
  out(wrap(`Wall time of installer.install(v, { kind: 'upgrade' }) on a fresh install root each round: ${labels.join('; ')}. The last one saves a state path (a folder with a 256 KiB file and a 24-byte file) as a rollback point, for section 4; the first two have no state paths. Step times are from the installer's progress lines (each line is said when its step starts, after the journal write that opens it), so a step's time includes the journal write (atomic, fsynced) that opens the next one.`))
  out()
  out(table(['install', 'total', 'throughput (package size)', 'stage reported'], rounds[0].installs.map((_, i) => {
    const v = rounds.map(r => r.installs[i].total)
    return [labels[i], spread(v), rate(pkgSize, med(v)), rounds[0].installs[i].stageLine]
  })))
  out()
  const stepNames = [...rounds[0].installs[0].steps.keys()]
  out(table(['step (median)', ...VERSIONS], stepNames.map(s => [s, ...rounds[0].installs.map((_, i) => fmtMs(med(rounds.map(r => r.installs[i].steps.get(s) ?? NaN))))])))
}
