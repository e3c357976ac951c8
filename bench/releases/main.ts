/**
 * Release distribution benchmark: prints figures, asserts nothing.
 *
 *   npm run bench:releases          (npm run build && node dist/bench/releases/main.js)
 *   node dist/bench/releases/main.js [--size 64] [--followers 8] [--announce-followers 20] [--control-followers 10]
 *       [--releases 10] [--release-wait 6] [--straggler-wait 15] [--poll-ms 200] [--announce-poll-ms 150]
 *       [--reconnect-per-poll] [--part-timeout 180] [--parts 1,2,3]
 *
 * All processes are real `umesh` daemons (the bundle, dist/umesh.mjs) on
 * loopback, started with LocalMesh: a bootstrap node, a publisher (--repo)
 * and followers (--trusted-root, --follow app). Node state comes from the
 * status protocol (see statusOf for why the connection stays open); the
 * publisher runs with DEBUG=umesh:publisher so its log says how many gossip
 * peers each announcement reached.
 *
 * 1. fan-out: one file of --size MiB of seeded pseudo-random bytes (AES-CTR
 *    keystream, the same every run) published with `umesh release add` while
 *    the publisher and --followers followers run; the time `release add`
 *    takes, the time from it returning to each follower holding the release,
 *    and each node's bytes in and out (the publisher's bytes out as a
 *    multiple of the release size shows whether followers share with each
 *    other or all fetch from the publisher). Baselines in the same run:
 *    sha256 of the file, a local copy of it, and `umesh release list` (the
 *    CLI's fixed cost).
 * 3. delta: on the same mesh, a second version with 1 MiB of new bytes
 *    inserted in the middle of the file; each follower's bytes in until it
 *    holds it, as a fraction of the release size, beside the new bytes
 *    `release add` reports at chunk level.
 * 2. announcements: a fresh mesh of a publisher and --announce-followers
 *    followers; --releases tiny releases, one at a time, each added in this
 *    process (addRelease); for every (follower, release) the time from the
 *    new timestamp being written to the follower trusting it
 *    (trust.timestampVersion), and to it holding the release; p50/p99/max,
 *    an unreached sample counted as the slowest. Then the same with
 *    --control-followers followers, for comparison: half the processes on
 *    the same 2 cores, and no node with more than 10 gossip peers on one IP
 *    address (where gossipsub's default IP-colocation score would start
 *    to penalise peers, had the daemon not turned it off).
 *
 * Each part is bounded by --part-timeout, the whole run by a hard limit; every
 * process is stopped (finally, SIGINT, SIGTERM) and the temp dir removed.
 */
import '../../src/polyfill.js'
import { mkdtempSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { CLI_PATH } from '../../src/demo/local-mesh.js'
import { createClientNode } from '../../src/network/client-node.js'
import { machine } from '../machine.js'
import { runBenchmark, track, trackDir } from '../procs.js'
import { ms, seconds, summarize } from '../report.js'
import { announceRound } from './announcements.js'
import { fanOutAndDelta } from './fan-out.js'
import { ANNOUNCE_FOLLOWERS, BUDGET_MS, CONTROL_FOLLOWERS, HARD_LIMIT_MS, PARTS, PART_TIMEOUT_MS, RECONNECT, SIZE, budgetEnd } from './options.js'
import { out } from './output.js'
import { printAnnouncements } from './print-announcements.js'
import { printDelta } from './print-delta.js'
import { printFanOut } from './print-fan-out.js'
import { wallNow } from './processes.js'
import { requests } from './status.js'
import type { AnnounceRound } from './announcements.js'

async function main (): Promise<number> {
  const t0 = performance.now()
  const loadStart = loadavg()[0]
  const root = mkdtempSync(join(tmpdir(), 'umesh-bench-releases-'))
  trackDir(root)
  const argv = process.argv.slice(2)
  out('update-mesh release distribution benchmark (figures only; nothing is asserted)')
  out(`command: node dist/bench/releases/main.js${argv.length > 0 ? ' ' + argv.join(' ') : ''}   (npm run bench:releases = npm run build && node dist/bench/releases/main.js)`)
  for (const line of machine(CLI_PATH)) out(line)
  out(`temp dir: ${root} (removed at the end); MiB = 2^20 bytes`)

  const client = await createClientNode()
  track({ stop: async () => { await client.stop() }, kill: () => {} })

  let part13: Awaited<ReturnType<typeof fanOutAndDelta>> | undefined
  const part2: AnnounceRound[] = []
  let failed = false
  if (PARTS.has('1')) {
    try {
      part13 = await fanOutAndDelta(root, client, PARTS.has('3'))
    } catch (err) {
      failed = true
      part13 = { fan: { size: SIZE, fetches: [], nodes: [], notHeld: [], error: (err as Error).message.slice(0, 1500) } }
    }
  }
  if (PARTS.has('2')) {
    const rounds: Array<[string, number]> = [[`${ANNOUNCE_FOLLOWERS} followers`, ANNOUNCE_FOLLOWERS]]
    if (CONTROL_FOLLOWERS > 0) rounds.push([`comparison, ${CONTROL_FOLLOWERS} followers`, CONTROL_FOLLOWERS])
    for (const [label, n] of rounds) {
      const empty: AnnounceRound = { label, followers: n, initialMissing: [], followerPeers: [], releases: [], samples: [], recipients: new Map() }
      const deadline = Math.min(wallNow() + PART_TIMEOUT_MS, budgetEnd)
      // a round needs time to start its mesh and publish a few releases
      if (deadline - wallNow() < 45_000) {
        part2.push({ ...empty, skipped: `skipped: only ${seconds(budgetEnd - wallNow())} of the run's ${seconds(BUDGET_MS)} budget left` })
        continue
      }
      try {
        part2.push(await announceRound(root, client, label, n, deadline))
      } catch (err) {
        failed = true
        part2.push({ ...empty, error: (err as Error).message.slice(0, 1500) })
      }
    }
  }

  if (part13 != null) printFanOut(part13.base, part13.fan)
  if (PARTS.has('2')) printAnnouncements(part2)
  if (PARTS.has('3')) printDelta(part13?.delta)
  out(`\nstatus requests: ${requests.made} (${requests.failed} failed${requests.errors.size > 0 ? ': ' + [...requests.errors].map(([e, c]) => `${c} x ${e}`).join('; ') : ''}); round trip ${RECONNECT ? '(connect + Noise + status + close, --reconnect-per-poll)' : '(on an open connection after the first)'} median ${ms(summarize(requests.ms)?.median)}, max ${ms(summarize(requests.ms)?.max)}`)
  out(`benchmark wall time ${seconds(performance.now() - t0)}; load average at the end ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
  if (loadStart > 1) out(`note: the 1-minute load average was ${loadStart.toFixed(2)} on ${cpus().length} CPU(s) when the benchmark started: other work was running, and the figures include that contention`)
  return failed || part13?.fan.error != null || part2.some(r => r.error != null) ? 1 : 0
}

await runBenchmark(main, HARD_LIMIT_MS)
