/**
 * Part 1's report: the baselines, `release add`, each node's traffic and
 * CPU time, and how long every follower took to hold the release.
 */
import { ms, section, seconds, summarize, table, wrap } from '../report.js'
import { FOLLOWERS, POLL_MS } from './options.js'
import { mib, out, rate, times } from './output.js'
import type { Baselines, FanOut } from './fan-out.js'

export function printFanOut (base: Baselines | undefined, fan: FanOut): void {
  out(section(`1. Fan-out: one ${mib(fan.size)} release to ${FOLLOWERS} followers (publisher + ${FOLLOWERS} followers + bootstrap node, loopback)`))
  if (base != null) {
    out(wrap(`Baselines, same run, same file (median of 3 after 1 warm-up): the CLI's fixed cost is \`umesh release list --repo DIR --json\` (process start, bundle load, repository open). The file's sha256 (the same every run): ${base.sha256.slice(0, 16)}...`))
    out()
    out(table(['', 'median', 'min', 'max', 'throughput'], [
      ['sha256 of the file (read + hash, this process)', ms(summarize(base.sha256Ms)?.median), ms(summarize(base.sha256Ms)?.min), ms(summarize(base.sha256Ms)?.max), rate(fan.size, summarize(base.sha256Ms)?.median ?? NaN)],
      ['local copy of the file (fs.copyFile)', ms(summarize(base.copyMs)?.median), ms(summarize(base.copyMs)?.min), ms(summarize(base.copyMs)?.max), rate(fan.size, summarize(base.copyMs)?.median ?? NaN)],
      ['umesh release list (CLI fixed cost)', ms(summarize(base.listMs)?.median), ms(summarize(base.listMs)?.min), ms(summarize(base.listMs)?.max), '']
    ]))
    out()
  }
  if (fan.add == null) {
    out(`  not measured: ${fan.error ?? 'release add did not run'}`)
    return
  }
  const j = fan.add.json
  out(table(['release add (umesh CLI process, spawn to exit)', 'time', 'throughput'], [
    [`umesh release add: ${mib(j.totalSize)} in ${String(j.chunks)} chunks (${String(j.newChunks)} new, ${mib(j.newBytes)})`, ms(fan.add.ms), rate(j.totalSize, fan.add.ms)],
    ['  of which the timestamp was written at (from spawn)', ms(fan.add.ms - (fan.add.endWall - fan.add.writtenWall)), ''],
    ['  minus the CLI fixed cost (~ chunk + store + sign)', ms(fan.add.ms - (summarize(base?.listMs ?? [])?.median ?? NaN)), rate(j.totalSize, fan.add.ms - (summarize(base?.listMs ?? [])?.median ?? NaN))]
  ]))
  out()
  const rec = fan.timestampVersion == null ? undefined : fan.recipients?.get(fan.timestampVersion)
  out(`  followers connected to the publisher before the release: ${String(fan.connectedToPublisher)} of ${FOLLOWERS}; gossip recipients of the announcement (publisher's log): ${rec?.join(', ') ?? '-'}`)
  out()
  const heldMs = fan.fetches.filter(f => f.heldAt != null).map(f => f.heldAt! - fan.add!.endWall)
  const rows: string[][] = []
  for (const n of fan.nodes) {
    const f = fan.fetches.find(x => x.name === n.name)
    const bytesIn = (n.after?.bytesIn ?? NaN) - (n.before?.bytesIn ?? NaN)
    const bytesOut = (n.after?.bytesOut ?? NaN) - (n.before?.bytesOut ?? NaN)
    const cpu = (n.after?.cpuMs ?? NaN) - (n.before?.cpuMs ?? NaN)
    rows.push([
      n.name,
      f == null ? '' : f.seenAt == null ? '-' : seconds(f.seenAt - fan.add.endWall),
      f == null ? '' : f.heldAt == null ? 'not held' : seconds(f.heldAt - fan.add.endWall),
      mib(bytesIn), times(bytesIn / fan.size), mib(bytesOut), times(bytesOut / fan.size), seconds(cpu)
    ])
  }
  out(wrap(`Per node, from just before \`release add\` to every follower holding the release (traffic from status: every byte on every connection, Noise and Yamux framing included; "seen" and "held" are the first poll, every ${POLL_MS} ms, that listed the release, and that showed it held, from \`release add\` returning; CPU is the daemon's user + system time over the same span).`))
  out()
  out(table(['node', 'seen', 'held', 'bytes in', 'in / size', 'bytes out', 'out / size', 'CPU'], rows))
  out()
  const pub = fan.nodes.find(n => n.name === 'publisher')
  const pubOut = (pub?.after?.bytesOut ?? NaN) - (pub?.before?.bytesOut ?? NaN)
  const followerOut = fan.nodes.filter(n => n.name.startsWith('follower-')).reduce((sum, n) => sum + ((n.after?.bytesOut ?? NaN) - (n.before?.bytesOut ?? NaN)), 0)
  const all = summarize(heldMs)
  out(table(['summary', 'value'], [
    [`every follower holding it, from release add returning (${heldMs.length}/${FOLLOWERS} held)`, fan.notHeld.length === 0 ? seconds(all?.max) : `not reached (${fan.notHeld.join(', ')})`],
    ['  first / median follower holding it', `${seconds(all?.min)} / ${seconds(all?.median)}`],
    ['  from the timestamp being written to the last follower holding it', fan.notHeld.length === 0 ? seconds((all?.max ?? NaN) + fan.add.endWall - fan.add.writtenWall) : '-'],
    ['  from release add starting (spawn) to the last follower holding it', fan.notHeld.length === 0 ? seconds((all?.max ?? NaN) + fan.add.ms) : '-'],
    ['publisher bytes out, as a multiple of the release size', times(pubOut / fan.size)],
    ['all followers\' bytes out together, as a multiple of the release size', times(followerOut / fan.size)],
    ['aggregate delivery rate (followers x size / time to the last holding it)', rate(FOLLOWERS * fan.size, all?.max ?? NaN)]
  ]))
  if (fan.error != null) out(`\n  error: ${fan.error}`)
}
