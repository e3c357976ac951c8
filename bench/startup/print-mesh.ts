/**
 * Part 2's report: what "full discovery" means here, how long the mesh took
 * to start and to reach it, and each node's peers at the end.
 */
import { mb, ms, section, seconds, summarize, table, wrap } from '../report.js'
import { DISCOVERY_TIMEOUT_MS, NODES, POLL_MS, STALL_MS, TARGET_PEERS } from './options.js'
import { out } from './output.js'
import type { MeshResult } from './mesh-run.js'

export function printMesh (m: MeshResult | undefined, meshError: string | undefined): void {
  out(section(`2. Mesh: ${NODES} node processes + 1 bootstrap node to full discovery`))
  out(`  "full discovery": every one of the ${NODES} regular nodes reports, in its own status response, open connections to at`)
  out(`  least min(targetPeers = ${TARGET_PEERS}, ${NODES}) = ${Math.min(TARGET_PEERS, NODES)} distinct other members of the mesh (regular nodes or the bootstrap node:`)
  out('  the peer keeper\'s own target; the benchmark\'s status client does not count). "regular" below means member. Observed by polling every node\'s status from one in-process client (3 s timeout per')
  out(`  request, the connection closed after each so the client takes no place in the nodes' peer budget), ${POLL_MS} ms between`)
  out('  rounds; a time is the end of the first round that saw it, so it is late by up to one round. LocalMesh: 127.0.0.1,')
  out('  mDNS off, one bootstrap.json naming the bootstrap node; the bootstrap node starts and is ready before the nodes spawn.')
  out(`  Polling gives up ${seconds(DISCOVERY_TIMEOUT_MS)} after all ready (--discovery-timeout), or once no node's counts changed for ${seconds(STALL_MS)} (--stall).`)
  out()
  if (meshError != null) { out(`  mesh run failed: ${meshError}`); return }
  if (m == null) return
  if (m.startError != null) { out(`  the mesh did not start: ${m.startError}`); return }
  const readyS = summarize(m.nodeReadyMs)
  const roundS = summarize(m.roundMs)
  const rows: string[][] = [
    ['bootstrap node: mesh.start() -> ready (incl. its key creation)', seconds(m.bootstrapReadyMs)],
    [`each node: spawn -> ready, ${NODES} starting at once (min / median / max)`, `${seconds(readyS?.min)} / ${seconds(readyS?.median)} / ${seconds(readyS?.max)}`],
    ['first node spawn -> all nodes ready', seconds(m.allReadyFromFirstNodeMs)],
    ['mesh.start() (first spawn, the bootstrap node) -> all ready', seconds(m.allReadyMs)]
  ]
  if (m.converged) {
    rows.push(['mesh.start() (first spawn) -> full discovery', seconds(m.discoveryFromStartMs)])
    rows.push(['first node spawn -> full discovery', seconds(m.discoveryFromFirstNodeMs)])
    rows.push(['all ready -> full discovery', seconds(m.discoveryFromReadyMs)])
  } else {
    rows.push(['full discovery', `NOT reached: ${m.gaveUp ?? 'gave up'}`])
  }
  rows.push([`all ready -> every node has >= ${Math.min(TARGET_PEERS, NODES)} peers of any kind (the keeper's own target)`, m.targetFromReadyMs == null ? 'not reached' : seconds(m.targetFromReadyMs)])
  const per = summarize(m.perNodeFromReadyMs)
  rows.push([`all ready -> a node first has >= ${m.need} regular peers (min / median / max, ${m.perNodeFromReadyMs.length} of ${NODES} nodes ever did)`, per == null ? '-' : `${seconds(per.min)} / ${seconds(per.median)} / ${seconds(per.max)}`])
  rows.push(['poll rounds / round duration (median, max)', `${m.rounds} / ${ms(roundS?.median)}, ${ms(roundS?.max)}`])
  const failed = [...m.failures.values()].reduce((a, b) => a + b, 0)
  rows.push(['status requests without an answer (3 s timeout)', `${failed} of ${m.requests}`])
  rows.push([`stop all ${NODES + 1} processes (SIGTERM -> all exited)`, seconds(m.stopMs)])
  out(table(['', 'measured'], rows))
  const regularS = summarize(m.final.map(c => c.regular))
  const anyS = summarize(m.final.map(c => c.any))
  out(`\n  at the ${m.converged ? 'converged' : 'last'} round: distinct regular peers per node min ${regularS?.min ?? '-'} / median ${regularS?.median ?? '-'} / max ${regularS?.max ?? '-'}; peers of any kind min ${anyS?.min ?? '-'} / median ${anyS?.median ?? '-'} / max ${anyS?.max ?? '-'}` +
    (m.bootstrap != null ? `; bootstrap node connected to ${m.bootstrap.connections}` : ''))
  out(`  timeline after all ready (regular peers per node min/median/max, fewest peers of any kind), at each change:`)
  const steps = m.timeline.map(t => `+${(t.atMs / 1000).toFixed(1)}s ${t.min}/${t.median}/${t.max} (${t.any})${t.noAnswer > 0 ? ` [${t.noAnswer} no answer]` : ''}`)
  for (let i = 0; i < steps.length; i += 6) out('    ' + steps.slice(i, i + 6).join(', '))
  if (failed > 0) out(wrap(`why requests got no answer: ${[...m.failures.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([e, n]) => `${n} x "${e}"`).join('; ')}`, 116, '    '))
  out(`  per node at the ${m.converged ? 'converged' : 'last'} round (regular peers / peers of any kind, RSS; * = below ${m.need}):`)
  const cells = m.final.map(c => `${c.name} ${c.regular}/${c.any}${c.regular < m.need ? '*' : ''} ${mb(c.rssBytes)}${c.error != null ? ` (${c.error})` : ''}`)
  for (let i = 0; i < cells.length; i += 5) out('    ' + cells.slice(i, i + 5).join(', '))
  const below = m.final.filter(c => c.error == null && c.regular < m.need)
  if (below.length > 0 && below.every(c => c.any >= Math.min(TARGET_PEERS, NODES))) {
    out(wrap(`Every node below ${m.need} regular peers has ${below.map(c => c.any).join(', ')} peers of any kind, which meets targetPeers = ${TARGET_PEERS}: PeerKeeper counts every connected peer (the bootstrap node included) toward its target, so such a node does not dial more, and full discovery as defined here can only come from other nodes dialling it.`))
  }
}
