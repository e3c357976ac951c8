/**
 * Follow benchmark: prints figures, asserts nothing.
 *
 *   npm run bench:follow          (npm run build && node dist/bench/follow/main.js)
 *   node dist/bench/follow/main.js [--mib 256] [--files 32] [--idle 20] [--after 60] [--serve-followers 4]
 *       [--sample-ms 500] [--parts 1,2] [--plain-baseline 1|0] [--node-flags="FLAGS"]
 *
 * Real `umesh node` daemons (the bundle, dist/umesh.mjs) on loopback, mDNS
 * off, JSON logs: a publisher (--repo) and followers that reach it through
 * --bootstrap-peer. Each daemon's RSS and CPU (utime + stime) are read from
 * /proc every --sample-ms; heap, external and array buffer figures come from
 * its status (the status protocol).
 *
 * 1. one follower with install settings for the package (defaults: auto
 *    update, no hook, no health check), ready, connected and idle for
 *    --idle s (its idle RSS: the median of the last 5 s of that); then
 *    `umesh release add` of --mib MiB in --files files. From the
 *    follower's log (DEBUG=umesh:follower,umesh:install,...): announcement
 *    seen, index verified, held, staging, staged, installed healthy, and
 *    the daemon's one collection once the transfer is over; the
 *    time and MiB/s from the announcement to installed, the follower's CPU
 *    per MiB (fetch and install apart), and its RSS from before the
 *    announcement to --after s after the install (idle, peak, +20 s,
 *    +60 s). Baselines of the same run: sha256 and a read + write + fsync
 *    copy of the same files; and (--plain-baseline 1, the default) the
 *    same part first with a follower started as a plain `umesh node`, i.e.
 *    without the memory settings the daemons get from their launcher
 *    (src/util/memory-settings.ts: MALLOC_MMAP_THRESHOLD_ and node's
 *    --max-semi-space-size), with a release of its own (another package,
 *    other bytes) and its own data dir.
 * 2. the publisher serves the release --serve-followers times (1 GiB at the
 *    defaults) to fresh followers started one after another, each stopped
 *    before the next starts so every byte comes from the publisher; the
 *    publisher's RSS start, min, max and end, after each follower and
 *    every 5 s.
 *
 * Every process it starts is stopped (finally, SIGINT, SIGTERM, a hard
 * limit) and its temp dir removed.
 */
import '../../src/polyfill.js'
import { mkdtempSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { CLI_PATH } from '../../src/demo/local-mesh.js'
import { createClientNode } from '../../src/network/client-node.js'
import { umeshOk } from '../cli-runs.js'
import { machine } from '../machine.js'
import { runBenchmark, track, trackDir } from '../procs.js'
import { section, table } from '../report.js'
import { startDaemon } from './daemons.js'
import { followRun } from './follow-run.js'
import { daemonEnv, MMAP_THRESHOLD_ENV } from '../../src/util/memory-settings.js'
import { BASELINE_PACKAGE, FILES, HARD_LIMIT_MS, MiB, NODE_FLAGS, PACKAGE, PARTS, PLAIN_BASELINE, RELEASE_MIB } from './options.js'
import { out, progress } from './output.js'
import { printFollow, printPlainBaseline, printServe } from './print.js'
import type { FollowRound, FollowRun } from './follow-run.js'
import { onePass, writeReleaseTree } from './release.js'
import { serveRun } from './serve-run.js'
import type { Verdict } from './print.js'

async function main (): Promise<number> {
  const t0 = performance.now()
  const root = mkdtempSync(join(tmpdir(), 'umesh-bench-follow-'))
  trackDir(root)
  const argv = process.argv.slice(2)
  out('update-mesh follow benchmark: memory and speed of fetching and installing a release (figures only; nothing is asserted)')
  out(`command: node dist/bench/follow/main.js${argv.length > 0 ? ' ' + argv.join(' ') : ''}   (npm run bench:follow = npm run build && node dist/bench/follow/main.js)`)
  for (const line of machine(CLI_PATH)) out(line)
  out(`temp dir: ${root} (removed at the end); MiB = 2^20 bytes, MB = 10^6 bytes`)

  const client = await createClientNode()
  track({ stop: async () => { await client.stop() }, kill: () => {} })
  const repo = join(root, 'repo')
  progress(`writing the release: ${RELEASE_MIB} MiB in ${FILES} files; repo init`)
  const tree = writeReleaseTree(join(root, 'src'), RELEASE_MIB, FILES, 'umesh-bench-follow v1')
  await umeshOk(['repo', 'init', '--repo', repo])
  progress('baselines: sha256 and a read + write + fsync copy of the release\'s files')
  const pass = onePass(tree, join(root, 'scratch'))
  const threshold = daemonEnv()[MMAP_THRESHOLD_ENV] ?? process.env[MMAP_THRESHOLD_ENV] ?? 'set through GLIBC_TUNABLES'
  out(`daemons start as src/demo/local-mesh.ts starts them: node ${NODE_FLAGS.join(' ')}, ${MMAP_THRESHOLD_ENV}=${threshold}${PLAIN_BASELINE ? ' (part 1\'s baseline follower without either)' : ''}`)

  const verdicts: Verdict[] = []
  progress('starting the publisher')
  const publisher = await startDaemon({ dir: root, name: 'publisher', args: ['--repo', repo], nodeFlags: NODE_FLAGS })
  try {
    if (PARTS.has('1')) {
      const rounds: FollowRound[] = []
      if (PLAIN_BASELINE) {
        progress(`writing a second release, of another package, for the baseline follower: ${RELEASE_MIB} MiB of other bytes`)
        const other = writeReleaseTree(join(root, 'src-baseline'), RELEASE_MIB, FILES, 'umesh-bench-follow baseline')
        rounds.push({ name: 'follower-plain', package: BASELINE_PACKAGE, label: 'follower started as a plain umesh node, no memory settings (baseline)', version: '1.0.0', tree: other.dir, env: { [MMAP_THRESHOLD_ENV]: undefined, GLIBC_TUNABLES: undefined }, nodeFlags: [] })
      }
      rounds.push({ name: 'follower', package: PACKAGE, label: `follower with the memory settings (${MMAP_THRESHOLD_ENV}=${threshold}, node ${NODE_FLAGS.join(' ')})`, version: '1.0.0', tree: tree.dir, nodeFlags: NODE_FLAGS })
      const runs: FollowRun[] = []
      for (const round of rounds) runs.push(await followRun(root, client, repo, round, publisher))
      for (const run of runs) {
        const v = printFollow(run, tree.bytes, FILES, pass)
        if (run === runs.at(-1)) verdicts.push(...v)
      }
      if (runs.length > 1) printPlainBaseline(runs[0], runs[1], tree.bytes)
    } else {
      progress('umesh release add (part 1 not run)')
      await umeshOk(['release', 'add', tree.dir, '--repo', repo, '--package', PACKAGE, '--version', '1.0.0'], 180_000)
    }
    if (PARTS.has('2')) {
      const run = await serveRun(root, client, repo, publisher)
      verdicts.push(...printServe(run, tree.bytes))
    }
  } finally {
    await publisher.stop()
  }

  out(section('Summary against the targets'))
  out(table(['what', 'figure', 'target', 'verdict'], verdicts))
  out(`\nrelease ${tree.bytes / MiB} MiB; benchmark wall time ${((performance.now() - t0) / 1000).toFixed(1)} s; load average at the end ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
  return 0
}

await runBenchmark(main, HARD_LIMIT_MS)
