/**
 * Part 2's report: announcement latency percentiles over every (follower,
 * release) sample, an unreached sample counted as the slowest.
 */
import { ms, section, seconds, summarize, table, wrap } from '../report.js'
import { ANNOUNCE_FOLLOWERS, ANNOUNCE_POLL_MS, CONTROL_FOLLOWERS, RELEASES, RELEASE_WAIT_MS, STRAGGLER_WAIT_MS } from './options.js'
import { out, percentile } from './output.js'
import type { AnnounceRound, Sample } from './announcements.js'

/** percentiles where an unreached sample counts as slower than any reached one; shown as "> its watch window" */
export function censored (values: Array<number | undefined>, windows: number[], p: number): string {
  const all = values.map((v, i) => ({ v: v ?? Infinity, w: windows[i] }))
  if (all.length === 0) return '-'
  const x = p >= 100 ? Math.max(...all.map(a => a.v)) : percentile(all.map(a => a.v), p)
  if (Number.isFinite(x)) return ms(x)
  return `> ${seconds(Math.min(...all.filter(a => !Number.isFinite(a.v)).map(a => a.w)))}`
}

export function printAnnounceRound (a: AnnounceRound): void {
  out()
  out(`  -- ${a.label}: publisher + ${a.followers} followers + bootstrap node --`)
  if (a.startMs == null) {
    out(`  not measured: ${a.error ?? a.skipped ?? 'did not start'}`)
    return
  }
  const fp = summarize(a.followerPeers)
  out(wrap(`mesh start to all ready ${seconds(a.startMs)}; every follower holding the first release ${a.initialMissing.length === 0 ? `after ${seconds(a.initialSyncMs)} more` : `not reached in ${seconds(a.initialSyncMs)} (${a.initialMissing.length} behind)`}; connected mesh peers, all on 127.0.0.1: publisher ${String(a.publisherPeers)}, followers ${String(fp?.min)} / ${String(fp?.median)} / ${String(fp?.max)} (min / median / max). addRelease (in this process, 4 KiB) took ${ms(summarize(a.releases.map(r => r.addMs))?.median)} (median) and returned ${ms(summarize(a.releases.map(r => r.writtenToReturnMs))?.median)} after timestamp.json was written.`))
  out()
  const windows = a.samples.map(x => (a.endWall ?? NaN) - x.written)
  const rows: string[][] = []
  for (const [label, pick] of [['trusts the new timestamp (polled)', (x: Sample) => x.polled], ['refresh done (node clock)', (x: Sample) => x.nodeClock], ['holds the release (polled)', (x: Sample) => x.held]] as const) {
    const v = a.samples.map(pick)
    rows.push([label, `${v.filter(x => x != null).length}/${v.length}`, censored(v, windows, 50), censored(v, windows, 90), censored(v, windows, 99), censored(v, windows, 100)])
  }
  out(table(['(follower, release) samples, from timestamp written', 'reached', 'p50', 'p90', 'p99', 'max'], rows))
  out()
  const per: string[][] = a.releases.map((r, i) => {
    const s = a.samples.filter(x => x.release === i + 1)
    const polled = s.map(x => x.polled)
    const w = s.map(x => (a.endWall ?? NaN) - x.written)
    const rec = a.recipients.get(r.timestampVersion)
    return [r.version, String(r.timestampVersion), rec == null ? '-' : rec.join(', '), `${polled.filter(x => x != null).length}/${s.length}`, censored(polled, w, 0), censored(polled, w, 50), censored(polled, w, 100), censored(s.map(x => x.held), w, 100)]
  })
  out(table(['release', 'timestamp v', 'gossip recipients', 'trusted by', 'first', 'median', 'last', 'last held'], per))
  const counts = a.releases.flatMap(r => a.recipients.get(r.timestampVersion) ?? [])
  const peers = a.publisherPeers ?? NaN
  if (counts.length > 0 && counts.every(c => c === 0) && peers > 10) {
    out()
    out(wrap(`note: no announcement reached a gossip peer, though the publisher had ${peers} peers, all on 127.0.0.1. gossipsub's default peer score adds -5 x (peers on one IP address - 10)^2 (IP colocation; ${-5 * (peers - 10) ** 2} here), below its publish (-50) and graylist (-80) thresholds; check that the daemon still sets IPColocationFactorWeight to 0 (src/network/create-node.ts). Followers then hear of a release only through differential sync (a new connection to a peer with a newer timestamp) or their periodic check (every 60 s), which refreshes from whichever peer answers first.`))
  }
  if (a.skipped != null) out(`  ${a.skipped}`)
  if (a.error != null) out(`  error: ${a.error}`)
}

export function printAnnouncements (rounds: AnnounceRound[]): void {
  out(section(`2. Announcement latency: ${RELEASES} tiny releases, one at a time, to ${ANNOUNCE_FOLLOWERS} followers${CONTROL_FOLLOWERS > 0 ? ` (and, for comparison, ${CONTROL_FOLLOWERS})` : ''}`))
  out(wrap(`Origin: the new timestamp.json being written (its mtime); the next release follows when every follower trusts and holds this one, or after ${RELEASE_WAIT_MS / 1000} s, then ${STRAGGLER_WAIT_MS / 1000} s more at the end for followers still behind. "trusts": the first status answer (every ${ANNOUNCE_POLL_MS} ms) whose trust.timestampVersion reached the new version: announcement + timestamp verification, over-read by up to one poll; "refresh done": the follower's own trust.lastRefreshMs (end of the refresh that verified timestamp, snapshot and targets; same machine clock, no poll error); "holds": the first poll showing that release or a newer one held. Percentiles are over all (follower, release) samples; an unreached sample counts as the slowest, shown as "> the time it was watched". Gossip recipients: the publisher's own count for each publish of that timestamp, from its log; it re-publishes the same bytes every 30 s, and such a re-publish counts 0 (gossipsub takes it for a duplicate of a message it has seen). The publisher checks timestamp.json every 500 ms, so up to 500 ms of every figure is that check.`))
  for (const r of rounds) printAnnounceRound(r)
}
