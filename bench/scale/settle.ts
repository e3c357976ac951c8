/**
 * Waits, after the last batch is ready, for the mesh to settle before the
 * first release goes out: what this benchmark measures is a rollout, not a
 * mesh forming. On 2 cores, 52 freshly started daemons spend minutes dialling
 * and identifying each other (in one 50-node start the machine's load went
 * from 57 to 8 over the 5 minutes after the last node was ready), and a
 * release sent into that found nodes with one or two peers whose handshakes
 * ran out of time.
 *
 * Settled: every node answers its status and has at least `minConnections` connections, the fleet's
 * connection count moved less than 5 % over the last `windowMs`, and the
 * fleet's CPU rate (from /proc) over the last window is no higher than over
 * the window before plus a tenth: the dialling is over and the CPU no longer
 * falling. Bounded by `timeoutMs`; a fleet that does not settle in time goes
 * on, and the report says so.
 */
import { performance } from 'node:perf_hooks'
import { loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { summarize } from '../report.js'
import { tryStatus } from './observe.js'
import type { Fleet, Member } from './fleet.js'
import type { Libp2p } from '@libp2p/interface'

export interface Settled {
  /** ms from the fleet ready to settled (or to the timeout) */
  ms: number
  settled: boolean
  connections: { min: number, median: number, max: number }
  /** the fleet's CPU over the last window, in cores */
  cores: number
  load: number
}

export interface SettleOptions {
  minConnections: number
  timeoutMs: number
  /** default 30 s */
  windowMs?: number
  /** default 10 s */
  pollMs?: number
  progress?: (line: string) => void
}

/** `connections` and `total` count the nodes that answered; `unanswered` did not (within 10 s) */
interface Poll { at: number, total: number, connections: { min: number, median: number, max: number }, unanswered: number, cpuMs: number }

function fleetCpuMs (members: Member[]): number {
  let sum = 0
  for (const m of members) sum += m.sampler.samples.at(-1)?.cpuMs ?? 0
  return sum
}

/** the fleet's CPU from poll `a` to poll `p`, in cores */
function cores (a: Poll, p: Poll): number {
  return (p.cpuMs - a.cpuMs) / (p.at - a.at)
}

/** a poll at least `windowMs` older than `p`, the latest such */
function before (polls: Poll[], p: Poll, windowMs: number): Poll | undefined {
  for (let i = polls.length - 1; i >= 0; i--) if (p.at - polls[i].at >= windowMs) return polls[i]
  return undefined
}

/** whether the latest poll shows a settled fleet */
function isSettled (polls: Poll[], minConnections: number, windowMs: number): boolean {
  const now = polls.at(-1)
  if (now == null || now.unanswered > 0 || now.connections.min < minConnections) return false
  const a = before(polls, now, windowMs)
  if (a == null) return false
  const b = before(polls, a, windowMs)
  if (b == null) return false
  if (Math.abs(now.total - a.total) > 0.05 * Math.max(1, a.total)) return false
  return cores(a, now) <= cores(b, a) * 1.1
}

export async function settle (client: Libp2p, fleet: Fleet, options: SettleOptions): Promise<Settled> {
  const windowMs = options.windowMs ?? 30_000
  const pollMs = options.pollMs ?? 10_000
  const members = [fleet.bootstrap, fleet.publisher, ...fleet.nodes]
  const t0 = performance.now()
  const polls: Poll[] = []
  let settled = false
  while (true) {
    const statuses = await Promise.all(fleet.nodes.map(async m => await tryStatus(client, m, 10_000)))
    // a node that does not answer is not counted as one with no connections: on a saturated machine most did not
    const counts = statuses.flatMap(s => s == null ? [] : [s.connections])
    const poll = { at: performance.now(), total: counts.reduce((x, y) => x + y, 0), connections: summarize(counts) ?? { min: 0, median: 0, max: 0 }, unanswered: statuses.length - counts.length, cpuMs: fleetCpuMs(members) }
    polls.push(poll)
    settled = isSettled(polls, options.minConnections, windowMs)
    const a = before(polls, poll, windowMs)
    options.progress?.(`  settling ${((poll.at - t0) / 1000).toFixed(0)} s: connections min ${poll.connections.min}, median ${poll.connections.median}, total ${poll.total} over the ${counts.length} nodes that answered (${poll.unanswered} did not); fleet CPU ${a == null ? '-' : cores(a, poll).toFixed(2)} cores over the last ${windowMs / 1000} s; load ${loadavg()[0].toFixed(1)}`)
    if (settled || poll.at - t0 >= options.timeoutMs) break
    await sleep(pollMs)
  }
  const last = polls.at(-1)!
  const a = before(polls, last, windowMs)
  const { min, median, max } = last.connections
  return { ms: last.at - t0, settled, connections: { min, median, max }, cores: a == null ? 0 : cores(a, last), load: loadavg()[0] }
}
