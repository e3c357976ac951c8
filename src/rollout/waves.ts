/**
 * Which wave a node is in, when it installs within its wave, and how the
 * coordinator judges a wave. Pure functions: every node computes its own
 * wave from the signed document, and all agree without asking anyone.
 *
 * Wave membership (waveOf), in this order:
 *   1. tag `canary`: wave 0 (the first);
 *   2. tag `last`: the last wave (a node with both tags is a canary);
 *   3. listed in some wave's `peers`: the first wave listing it;
 *   4. otherwise by hash: the node's position p = nodePosition(peerId,
 *      rolloutId), uniform in [0,1), puts it in the first wave given as a
 *      percentage whose cumulative fraction exceeds p. Count waves are
 *      skipped: they hold only the nodes listed in them (and tagged canaries
 *      for wave 0). The last wave is 100%, so every node lands somewhere.
 * Pinned nodes (1-3) do not shift anyone else: a node's hash wave depends
 * only on its position and the percentages, never on who else is pinned, so
 * a pinned node leaves its hash slot empty rather than pushing others along.
 * The rollout id is part of the hash, so each rollout draws a fresh order.
 *
 * Staggering (installSlot): within its wave a node estimates its rank from
 * its position (or, in a count wave, its index in `peers`) and waits
 * `slot = floor(rank / maxParallel)` slot lengths after the wave opens,
 * without a lock service. See installSlot.
 *
 * The gate (gateDecision), judged on the open wave only:
 *   halt     failed > 0 and failed / max(nodes, expectedNodes) >= abort (also
 *            in a manual rollout): a share of the whole wave, like the gate's,
 *            so the first failure among the first few reports of a large wave
 *            does not halt it (with abort 10 %, 1 failed of the first 8 of 50
 *            did, at 12.5 %);
 *   wait     the rollout is not running, or no node of the wave reported,
 *            or healthy / max(nodes, expectedNodes) < gate.success,
 *            or the wave changed less than gate.soakMs ago;
 *   complete the gate passed and the open wave is the last (manual or not);
 *   wait     the gate passed and the rollout is manual (`umesh rollout promote`);
 *   promote  otherwise.
 */
import { createHash } from 'node:crypto'
import type { NodeOutcome, RolloutDocument, WaveSpec } from './types.js'
import { matches, parseSelector, whyNotSelected } from './selector.js'
import type { Labels } from './labels.js'
import type { Selector } from './selector.js'

export const CANARY_TAG = 'canary'
export const LAST_TAG = 'last'

/** the node's place in the rollout's order, uniform in [0,1): sha256 of `${rolloutId}\n${peerId}`, first 6 bytes / 2^48 */
export function nodePosition (peerId: string, rolloutId: string): number {
  const digest = createHash('sha256').update(`${rolloutId}\n${peerId}`).digest()
  return digest.readUIntBE(0, 6) / 2 ** 48
}

const parsedSelectors = new Map<string, Selector>()

/** a document's selector, parsed once (documents carry it checked and canonical) */
function selectorOf (text: string): Selector {
  let selector = parsedSelectors.get(text)
  if (selector == null) {
    selector = parseSelector(text)
    if (parsedSelectors.size >= 64) parsedSelectors.clear()
    parsedSelectors.set(text, selector)
  }
  return selector
}

/**
 * Does the rollout select a node with these labels? A rollout without a
 * selector selects every node. Waves are formed over the selected nodes
 * only: a node not selected is in no wave and never installs the rollout.
 */
export function isSelected (doc: Pick<RolloutDocument, 'selector'>, labels: Labels): boolean {
  return doc.selector == null || matches(selectorOf(doc.selector), labels)
}

/** why the rollout does not select a node with these labels (`not selected: region=eu-west (this node: region=us-east)`), or undefined */
export function notSelectedReason (doc: Pick<RolloutDocument, 'selector'>, labels: Labels): string | undefined {
  return doc.selector == null ? undefined : whyNotSelected(selectorOf(doc.selector), labels)
}

/** the index of the node's wave (rules in the file header); for a selected node: see isSelected */
export function waveOf (opts: { peerId: string, tags: string[], doc: Pick<RolloutDocument, 'id' | 'waves'> }): number {
  const { peerId, tags, doc } = opts
  const last = doc.waves.length - 1
  if (last < 0) throw new Error('a rollout has at least one wave')
  if (tags.includes(CANARY_TAG)) return 0
  if (tags.includes(LAST_TAG)) return last
  const listed = doc.waves.findIndex(w => w.peers.includes(peerId))
  if (listed !== -1) return listed
  const position = nodePosition(peerId, doc.id)
  const byHash = doc.waves.findIndex(w => w.fraction != null && w.fraction > position)
  // a parsed document ends with 100%, so byHash is found; the last wave is the safe answer otherwise
  return byHash === -1 ? last : byHash
}

/**
 * For the coordinator at the start of a rollout: the waves with each count
 * wave's `peers` filled up to its count from `known` nodes. Wave 0 takes
 * nodes tagged `canary` first, then (like every other count wave) the
 * lowest positions. Never chosen: nodes tagged `last` (they belong to the
 * last wave), nodes tagged `canary` for a wave other than 0 (their tag puts
 * them in wave 0 whatever the list says), and nodes already listed in any
 * wave. Peers a wave lists already are kept. With a selector, only the
 * selected nodes are chosen (their labels as `known` gives them). The
 * document is not changed.
 */
export function chooseCountPeers (known: Array<{ peerId: string, tags: string[], labels?: Labels }>, doc: Pick<RolloutDocument, 'id' | 'waves' | 'selector'>): WaveSpec[] {
  const taken = new Set(doc.waves.flatMap(w => w.peers))
  const unique = new Map<string, { peerId: string, tags: string[], position: number }>()
  for (const n of known) {
    if (!isSelected(doc, n.labels ?? {})) continue
    if (!unique.has(n.peerId)) unique.set(n.peerId, { peerId: n.peerId, tags: n.tags, position: nodePosition(n.peerId, doc.id) })
  }
  const candidates = [...unique.values()]
    .filter(n => !n.tags.includes(LAST_TAG))
    .sort((a, b) => a.position - b.position || (a.peerId < b.peerId ? -1 : 1))
  return doc.waves.map((w, i) => {
    const peers = [...w.peers]
    if (w.count == null || peers.length >= w.count) return { ...w, peers }
    const isCanary = (n: { tags: string[] }): boolean => n.tags.includes(CANARY_TAG)
    const order = i === 0
      ? [...candidates.filter(isCanary), ...candidates.filter(n => !isCanary(n))]
      : candidates.filter(n => !isCanary(n))
    for (const n of order) {
      if (peers.length >= w.count) break
      if (taken.has(n.peerId)) continue
      taken.add(n.peerId)
      peers.push(n.peerId)
    }
    return { ...w, peers }
  })
}

/**
 * The node's batch within its wave: it may start installing `slot` slot
 * lengths after the wave opens, so that about `maxParallel` nodes start at a
 * time without a lock service (nodes also hold back while they see
 * maxParallel of their wave installing in the reports).
 *
 *   count wave, node listed:  rank = its index in `peers`
 *   count wave, not listed (a tagged canary, a `last` node):
 *                             rank = peers.length + floor(position * max(1, expectedNodes - peers.length))
 *   fraction wave:            rank = floor((position - previousFraction) / (fraction - previousFraction) * expectedNodes),
 *                             where a position outside [previousFraction, fraction) (a pinned node)
 *                             is used as it is, as a share of the whole wave
 *   slot = floor(rank / maxParallel)
 *
 * `previousFraction` is the fraction of the last percentage wave before this
 * one (0 for none); `expectedNodes` the nodes expected in the wave (at least 1).
 */
export function installSlot (opts: { position: number, wave: WaveSpec, previousFraction: number, expectedNodes: number, maxParallel: number, peerId?: string }): number {
  const { position, wave, previousFraction } = opts
  const expected = Math.max(1, Math.floor(opts.expectedNodes))
  const maxParallel = Math.max(1, Math.floor(opts.maxParallel))
  const clamp = (share: number): number => Math.min(Math.max(share, 0), 1 - Number.EPSILON)
  let rank: number
  if (wave.fraction == null) {
    const index = opts.peerId == null ? -1 : wave.peers.indexOf(opts.peerId)
    rank = index !== -1 ? index : wave.peers.length + Math.floor(clamp(position) * Math.max(1, expected - wave.peers.length))
  } else {
    const width = wave.fraction - previousFraction
    const inside = width > 0 && position >= previousFraction && position < wave.fraction
    rank = Math.floor(clamp(inside ? (position - previousFraction) / width : position) * expected)
  }
  return Math.floor(rank / maxParallel)
}

export interface WaveTally {
  /** nodes that reported in this wave */
  nodes: number
  healthy: number
  failed: number
  installing: number
  /** waiting, fetched, deferred, refused: not installed, not failed */
  pending: number
  rolledBack: number
}

export function emptyTally (): WaveTally {
  return { nodes: 0, healthy: 0, failed: 0, installing: 0, pending: 0, rolledBack: 0 }
}

/**
 * Per wave of `doc`, its nodes by outcome, from each node's latest report
 * (one report per peer counts: if a peer appears twice, the later entry).
 * A node is counted in the wave it reports; reports naming no wave of the
 * document (-1, out of range) are left out. `refused` counts as pending: the
 * node is not healthy, but a local policy is not a failure of the release.
 */
export function waveTally (doc: Pick<RolloutDocument, 'waves'>, reports: Array<{ peerId: string, wave: number, outcome: NodeOutcome }>): WaveTally[] {
  const latest = new Map<string, { wave: number, outcome: NodeOutcome }>()
  for (const r of reports) latest.set(r.peerId, r)
  const tally = doc.waves.map(() => emptyTally())
  for (const r of latest.values()) {
    const t = Number.isInteger(r.wave) ? tally[r.wave] : undefined
    if (t == null) continue
    t.nodes++
    switch (r.outcome) {
      case 'healthy': t.healthy++; break
      case 'failed': t.failed++; break
      case 'installing': t.installing++; break
      case 'rolled-back': t.rolledBack++; break
      default: t.pending++
    }
  }
  return tally
}

export interface GateDecision {
  action: 'wait' | 'promote' | 'halt' | 'complete'
  reason: string
}

function percent (share: number): string {
  return `${Number((share * 100).toFixed(1))}%`
}

/** ratios compared with a little slack, so 19 of 20 meets 0.95 whatever the rounding */
function atLeast (count: number, share: number, of: number): boolean {
  return count >= share * of - 1e-9
}

/**
 * What the coordinator does with the open wave (rules in the file header).
 * `lastChangeAt` is when a node of the wave last changed its outcome (or the
 * wave opened, whichever is later): the soak runs from there.
 * `expectedNodes`: how many nodes the wave should have; nodes not yet
 * reported count as not healthy.
 */
export function gateDecision (opts: { doc: RolloutDocument, tally: WaveTally, waveOpenedAt: number, lastChangeAt: number, now: number, expectedNodes: number }): GateDecision {
  const { doc, tally, now } = opts
  if (doc.state !== 'running') return { action: 'wait', reason: `the rollout is ${doc.state}` }
  const wave = doc.waves[doc.open]
  if (wave == null) return { action: 'wait', reason: 'no wave is open yet' }
  const name = `wave ${wave.name}`
  // both shares are of the whole wave: the nodes expected in it, or those that reported when more
  const of = Math.max(tally.nodes, Math.floor(opts.expectedNodes))
  if (tally.failed > 0 && atLeast(tally.failed, doc.abort, of)) {
    return { action: 'halt', reason: `${tally.failed} of ${of} nodes of ${name} failed (${percent(tally.failed / of)}), at or above the abort threshold of ${percent(doc.abort)}` }
  }
  if (tally.nodes < 1) return { action: 'wait', reason: `no node of ${name} has reported yet` }
  if (!atLeast(tally.healthy, doc.gate.success, of)) {
    return { action: 'wait', reason: `${tally.healthy} of ${of} nodes of ${name} healthy, need ${percent(doc.gate.success)}` }
  }
  const since = Math.max(opts.lastChangeAt, opts.waveOpenedAt)
  const left = doc.gate.soakMs - (now - since)
  if (left > 0) return { action: 'wait', reason: `soaking, ${Math.ceil(left / 1000)} s left (${tally.healthy} of ${of} nodes of ${name} healthy)` }
  const passed = `${tally.healthy} of ${of} nodes of ${name} healthy (${percent(tally.healthy / of)}, need ${percent(doc.gate.success)}), soaked ${Math.round(doc.gate.soakMs / 1000)} s`
  if (doc.open === doc.waves.length - 1) return { action: 'complete', reason: `${passed}; it is the last wave` }
  if (doc.manual) return { action: 'wait', reason: `${passed}; manual: waiting for \`umesh rollout promote\`` }
  return { action: 'promote', reason: passed }
}
