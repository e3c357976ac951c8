/**
 * Section 4 of the rollout report: the runs that stalled and why, and the
 * empty waves against the odds of a hash draw leaving one.
 */
import { section, seconds, wrap } from '../report.js'
import { CANARY_NODES, NODES, SOAK_MS, STALL_MS, WAVES, opts } from './options.js'
import { out } from './output.js'
import { emptyWaveChance } from './waves.js'
import type { Run } from './run.js'

export function printStalls (runs: Run[]): void {
  out(section('4. Stalls and empty waves'))
  const stuck = runs.filter(r => r.stalls.some(x => x.startsWith('node-')))
  const missing = stuck.flatMap(r => r.stalls.filter(x => x.startsWith('node-') && /no peer holds metadata\/\d+\.rollouts\.json/.test(x)))
  const notAsked = missing.filter(x => x.includes('the publisher not among them')).length
  const suspecting = missing.filter(x => x.includes('had logged at')).length
  out(wrap(`Stuck nodes: ${stuck.length} of ${runs.length} rollouts had a node still on the old version ${seconds(STALL_MS)} after its wave opened (each is listed under 1. with the node's last follower error; the run was given up, its rollout halted if still running, and left out of the medians).${missing.length > 0 ? ` ${missing.length} of these nodes had logged "could not read the rollout ... no peer holds metadata/N.rollouts.json": every peer it asked answered NOT_FOUND for the rollouts role's metadata, and for ${notAsked} of them the publisher was not among the peers asked${suspecting > 0 ? ` (${suspecting} had earlier logged "not believing" the publisher: a follower does not ask, for 10 minutes, peers that served metadata that did not verify)` : ''}. Followers mirror for their peers only the metadata that the refresh itself downloaded (Follower.round mirrors fetcher.downloaded() before follow()), and the delegated rollouts role is downloaded later, by getTargetInfo in fetchRollout, so only the publisher serves it; and MeshFetcher asks at most 8 peers per file (DEFAULT_MAX_PEERS_PER_FILE; the peer that announced first, then the connected peers in order), so a node whose 8 candidates leave out the publisher keeps the previous document, and as it already trusts the new timestamp it does not try again before the next timestamp or its periodic check (60 s).` : ''}`))
  const early = runs.filter(r => r.early.length > 0)
  if (early.length > 0) {
    out()
    out(wrap(`Installed before the rollout: in ${early.length} of ${runs.length} rollouts some node had installed the version before \`rollout start\` (listed under 1.; left out of the medians). A node that has never verified a rollout document (the same missing rollouts metadata) is not governed: NodeRollouts.governs() is false without a document or the governed mark, so plain autoUpdate installs each release as soon as it is held, outside any wave.`))
  }
  out()
  const hashed = NODES - CANARY_NODES - WAVES.slice(1).reduce((sum, w) => sum + (w.count ?? 0), 0) - Math.max(0, (WAVES[0]?.count ?? 0) - CANARY_NODES)
  const p = emptyWaveChance(WAVES, hashed)
  const draws = runs.filter(r => r.variant === 'waves' && r.sizes.length > 0)
  const withEmpty = draws.filter(r => r.sizes.some(x => x === 0))
  const byHand = draws.filter(r => r.stalls.some(x => !x.startsWith('node-')))
  out(wrap(`Empty waves: with "${opts.waves}" on ${NODES} nodes (${CANARY_NODES} tagged canary, ${hashed} placed by the hash of peer id and rollout id), the chance that a rollout leaves some percentage wave with no node is ${(p * 100).toFixed(1)} %. The coordinator passes such a wave once its soak time is over (a soak and a tick with nothing installed); the benchmark would promote it by hand had the coordinator not moved on ${seconds(SOAK_MS + STALL_MS)} after it opened. In this benchmark: ${withEmpty.length} of ${draws.length} waves rollouts had an empty wave (wave sizes ${draws.map(r => r.sizes.join('/')).join(', ') || '-'}); ${byHand.length} needed the operator.`))
  for (const r of draws) for (const g of r.emptyGates) out(wrap(`- round ${r.round} (rollout ${r.id ?? '?'}), the gate of a wave predicted empty passed at ${g}`, 116, '    '))
}
