/**
 * Install benchmark: prints figures, asserts nothing.
 *
 *   npm run bench:install                  (npm run build && node dist/bench/install/main.js)
 *   node dist/bench/install/main.js [--mib 200] [--runs 5] [--swaps 200]    (BENCH_MIB sets --mib's default)
 *
 * In this process, no network, no daemon. A package of --mib files of 1 MiB
 * each (seeded pseudo-random bytes, src/util/pseudo-random.ts) is chunked
 * into a chunk store and described by release indexes built here (unsigned:
 * the Installer takes the indexes it is given as verified). Versions 1.1.0
 * and 1.2.0 each rewrite 1% of the files, other files each time. The install
 * engine (Installer, stageVersion, switchCurrent) is driven directly, with no
 * activate hook and no health check, keepVersions 3.
 *
 * 1. symlink swap: switchCurrent between two version folders, --swaps times,
 *    interleaved with its two parts alone (symlink + rename; fsync of the
 *    install root), so the figures share the machine's state;
 * 2. staging throughput: stageVersion alone, the whole package into a fresh
 *    staging folder (every file written from chunks), and 1.1.0 beside 1.0.0
 *    (unchanged files hashed and hard-linked); baselines in the same rounds:
 *    `cp -r` of the source tree, a read + write + fsync copy of each file,
 *    reading + sha256 of each file, and one link() per file;
 * 3. end to end: Installer.install of 1.0.0 (first install), 1.1.0 and 1.2.0
 *    (the last with one small state path saved as a rollback point), and
 *    each step's share, timed from the installer's progress lines;
 * 4. rollback: Installer.rollback() from 1.2.0 (the state path restored),
 *    then from 1.1.0 (no rollback point: switch back and journal only);
 * 5. disk: real bytes (st.blocks x 512 over unique inodes) of versions/ with
 *    three versions installed, against three full copies of the same trees
 *    written without links, and 3 x the package size.
 *
 * The file system is synced (sync -f) before the swaps and before each
 * round's staging and installs, so writeback of the benchmark's own earlier
 * writes (the package, the no-fsync copies) does not land in the figures.
 * Figures are medians over --runs rounds (the swap: over every swap). The
 * temp folder is removed as it goes, at the end, and on SIGINT/SIGTERM.
 */
import '../../src/polyfill.js'
import { mkdtempSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { openChunkStore } from '../../src/content/chunk-store.js'
import { machine } from '../machine.js'
import { runBenchmark, trackDir } from '../procs.js'
import { fileSystemType } from './disk.js'
import { installRound } from './install-round.js'
import { CHANGED, FILES, HARD_LIMIT_MS, PKG, RUNS, SWAPS, VERSIONS } from './options.js'
import { fmtMs, mib, out, progress } from './output.js'
import { buildPackage } from './package.js'
import { printDisk } from './print-disk.js'
import { printInstalls } from './print-installs.js'
import { printRollback } from './print-rollback.js'
import { printStaging } from './print-staging.js'
import { printSwap } from './print-swap.js'
import { stageRound } from './staging.js'
import { swapBench } from './swap.js'
import { flush } from './timing.js'
import type { InstallRound } from './install-round.js'
import type { StageRound } from './staging.js'

async function main (): Promise<number> {
  const t0 = performance.now()
  const tmp = mkdtempSync(join(tmpdir(), 'umesh-bench-install-'))
  trackDir(tmp)
  out('update-mesh install benchmark (figures only; nothing is asserted)')
  out(`command: node dist/bench/install/main.js --mib ${FILES} --runs ${RUNS} --swaps ${SWAPS}   (npm run bench:install = npm run build && node dist/bench/install/main.js; BENCH_MIB sets --mib)`)
  for (const line of machine()) out(line)
  out(`temp dir: ${tmp} (${fileSystemType(tmp)}; removed at the end); MiB = 2^20 bytes`)

  progress(`writing and chunking the package: ${FILES} files of 1 MiB, and ${CHANGED} rewritten file(s) for each of ${VERSIONS.slice(1).join(', ')}`)
  const store = await openChunkStore(join(tmp, 'chunks'), { fsync: false })
  const srcDir = join(tmp, 'source')
  const tBuild = performance.now()
  const indexes = await buildPackage(store, srcDir, tmp)
  const pkgSize = indexes.get(VERSIONS[0])!.totalSize
  out(`package: ${PKG}, ${FILES} files of 1 MiB (${mib(pkgSize)}), mode 644, in 10 folders; ${VERSIONS[1]} and ${VERSIONS[2]} each rewrite ${CHANGED} file(s) (${(CHANGED / FILES * 100).toFixed(1)}%; other ones each time); chunked into a chunk store (FastCDC defaults) in ${fmtMs(performance.now() - tBuild)}, not measured below. Every read the benchmark makes is served from the page cache (the data was just written, RAM is ample); fsync reaches the disk. The file system is synced (sync -f) before section 1 and before each round's staging and installs, so writeback of earlier writes does not land in the figures.`)

  progress(`1. symlink swap: ${SWAPS} switchCurrent calls, interleaved with symlink+rename and fsync alone`)
  flush(tmp)
  const swap = swapBench(tmp)

  const stages: StageRound[] = []
  const rounds: InstallRound[] = []
  for (let r = 0; r < RUNS; r++) {
    progress(`round ${r + 1}/${RUNS}: staging and baselines`)
    flush(tmp)
    stages.push(await stageRound(tmp, store, srcDir, indexes))
    progress(`round ${r + 1}/${RUNS}: installs ${VERSIONS.join(', ')} and two rollbacks${r === 0 ? ', disk usage' : ''}`)
    flush(tmp)
    rounds.push(await installRound(tmp, r, store, indexes, r === 0))
  }

  printSwap(swap)
  printStaging(stages, pkgSize)
  printInstalls(rounds, pkgSize)
  printRollback(rounds)
  printDisk(rounds[0].disk!, pkgSize)

  out(`\nbenchmark wall time ${((performance.now() - t0) / 1000).toFixed(1)} s; load average at the end ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
  return 0
}

await runBenchmark(main, HARD_LIMIT_MS)
