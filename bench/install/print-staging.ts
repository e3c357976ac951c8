/**
 * Section 2 of the install benchmark's output: stageVersion's throughput
 * against the copy, hash and link baselines of the same rounds.
 */
import { section, table, wrap } from '../report.js'
import { RUNS, VERSIONS } from './options.js'
import { med, mib, out, rate, spread } from './output.js'
import type { StageRound } from './staging.js'

export function printStaging (stages: StageRound[], pkgSize: number): void {
  out(section(`2. Staging throughput (stageVersion alone; median (min - max) of ${RUNS} rounds)`))
  out(wrap(`stageVersion of the whole package into a fresh staging folder: every file written from its chunks (each chunk read from the store and its CID checked), hashed, fsynced, folders fsynced. MiB/s are of the package size (${mib(pkgSize)}). Baselines are measured in the same rounds over ${VERSIONS[0]}'s source tree.`))
  out()
  const stageRow = (label: string, pick: (s: StageRound) => number): string[] => {
    const v = stages.map(pick)
    return [label, spread(v), rate(pkgSize, med(v))]
  }
  out(table(['what', 'time', 'throughput'], [
    stageRow(`stageVersion ${VERSIONS[0]}, nothing on disk (all written)`, s => s.stageFull),
    stageRow(`stageVersion ${VERSIONS[1]} beside ${VERSIONS[0]} (${stages[0]?.linkedCounts ?? '-'})`, s => s.stageLinked),
    stageRow('baseline: cp -r of the source tree (no fsync)', s => s.cp),
    stageRow('baseline: read + write + fsync per file (no hashing)', s => s.copyFsync),
    stageRow('baseline: read + sha256 of every file', s => s.hashRead),
    stageRow('baseline: one link() per file (no hashing)', s => s.linkOnly)
  ]))
}
