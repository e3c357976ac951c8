/**
 * Part 3's report: what each follower fetched for v2, against the new bytes
 * `release add` found at chunk level and the background of an idle window.
 */
import { ms, section, seconds, summarize, table, wrap } from '../report.js'
import { INSERT_BYTES, POLL_MS } from './options.js'
import { mib, out, pct, times } from './output.js'
import type { Delta } from './delta.js'

export function printDelta (d: Delta | undefined): void {
  out(section(`3. Delta: v2 = v1 with ${mib(INSERT_BYTES)} of new bytes inserted in the middle`))
  if (d == null || d.add == null) {
    out(`  not measured: ${d?.error ?? 'part 1 did not reach it'}`)
    return
  }
  const j = d.add.json
  const newFrac = j.newBytes / j.totalSize
  out(wrap(`release add for v2 took ${ms(d.add.ms)}: ${mib(j.totalSize)} in ${String(j.chunks)} chunks, ${String(j.newChunks)} new (${mib(j.newBytes)} = ${pct(newFrac)} of the release; the inserted bytes alone are ${pct(INSERT_BYTES / j.totalSize)}). Seen and held: the first poll (every ${POLL_MS} ms) that listed v2, and that showed it held, from release add returning. Bytes in per follower, from just before release add to the poll that first showed v2 held, from status (all traffic, framing and these polls included). Idle = the same follower's bytes in over ${seconds(d.idle?.ms)} of the same polling before v2, scaled to that follower's fetch time: the background the figure carries.`))
  out()
  const rows: string[][] = []
  d.fetches.forEach((f, i) => {
    const n = d.nodes.find(x => x.name === f.name)
    const bytesIn = (f.heldBytesIn ?? NaN) - (n?.before?.bytesIn ?? NaN)
    const took = (f.heldAt ?? NaN) - d.add!.endWall
    const idle = (d.idle?.bytesIn[i] ?? NaN) / (d.idle?.ms ?? NaN) * Math.max(0, took + d.add!.ms)
    rows.push([f.name, f.seenAt == null ? '-' : seconds(f.seenAt - d.add!.endWall), f.heldAt == null ? 'not held' : seconds(took), mib(bytesIn), pct(bytesIn / j.totalSize), times(bytesIn / j.newBytes), mib(idle)])
  })
  const rec = d.timestampVersion == null ? undefined : d.recipients?.get(d.timestampVersion)
  out(`  gossip recipients of the announcement (publisher's log): ${rec?.join(', ') ?? '-'}`)
  out()
  out(table(['follower', 'seen', 'held', 'bytes in', 'of release size', 'vs newBytes', 'idle (est.)'], rows))
  out()
  const fractions = d.fetches.map(f => ((f.heldBytesIn ?? NaN) - (d.nodes.find(x => x.name === f.name)?.before?.bytesIn ?? NaN)) / j.totalSize).filter(Number.isFinite)
  const s = summarize(fractions)
  const pub = d.nodes.find(n => n.name === 'publisher')
  const pubOut = (pub?.after?.bytesOut ?? NaN) - (pub?.before?.bytesOut ?? NaN)
  out(table(['summary', 'value'], [
    ['bytes fetched for v2 / v2 size, median (min - max) over followers', `${pct(s?.median)} (${pct(s?.min)} - ${pct(s?.max)})`],
    ['new bytes at chunk level (release add newBytes) / v2 size', pct(newFrac)],
    ['inserted bytes / v2 size', pct(INSERT_BYTES / j.totalSize)],
    [`publisher bytes out for v2, as a multiple of newBytes (${d.fetches.length} followers)`, times(pubOut / j.newBytes)]
  ]))
  if (d.notHeld.length > 0) out(`\n  not held within the time limit: ${d.notHeld.join(', ')}`)
  if (d.error != null) out(`\n  error: ${d.error}`)
}
