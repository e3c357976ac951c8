/**
 * Wave membership, staggering, tallies and the coordinator's gate.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { chooseCountPeers, gateDecision, installSlot, nodePosition, waveOf, waveTally } from '../../../src/rollout/waves.js'
import type { WaveTally } from '../../../src/rollout/waves.js'
import { rolloutDoc } from '../../helpers/rollout-doc.js'
import type { RolloutDocument } from '../../../src/rollout/types.js'

const ROLLOUT = 'a1b2c3d4e5f60718'
const ids = (n: number, prefix = 'peer'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

function doc (waves: string, extra: Partial<RolloutDocument> = {}): RolloutDocument {
  return rolloutDoc('my-app', '1.0.0', waves, { id: ROLLOUT, ...extra })
}

describe('node positions', () => {
  it('are the first 6 bytes of sha256(rolloutId \\n peerId) over 2^48', () => {
    const digest = createHash('sha256').update(`${ROLLOUT}\npeer0`).digest()
    assert.equal(nodePosition('peer0', ROLLOUT), digest.readUIntBE(0, 6) / 2 ** 48)
    assert.equal(nodePosition('peer0', ROLLOUT), nodePosition('peer0', ROLLOUT))
  })

  it('are uniform in [0,1), and drawn afresh for each rollout', () => {
    const positions = ids(10_000).map(id => nodePosition(id, ROLLOUT))
    assert.ok(positions.every(p => p >= 0 && p < 1))
    for (let decile = 0; decile < 10; decile++) {
      const share = positions.filter(p => p >= decile / 10 && p < (decile + 1) / 10).length / positions.length
      assert.ok(share >= 0.08 && share <= 0.12, `share in decile ${decile}: ${share}`)
    }
    const other = ids(10_000).map(id => nodePosition(id, 'another-rollout'))
    const bothLow = positions.filter((p, i) => p < 0.1 && other[i] < 0.1).length
    // independent draws: about 1% are in the first 10% of both
    assert.ok(bothLow > 50 && bothLow < 150, `in the first 10% of both rollouts: ${bothLow}`)
  })
})

describe('waveOf', () => {
  it('puts canary-tagged nodes first and last-tagged nodes last, whatever their hash', () => {
    const d = doc('10%,50%,100%')
    for (const id of ids(50)) {
      assert.equal(waveOf({ peerId: id, tags: ['canary'], doc: d }), 0)
      assert.equal(waveOf({ peerId: id, tags: ['eu', 'last'], doc: d }), 2)
      assert.equal(waveOf({ peerId: id, tags: ['last', 'canary'], doc: d }), 0)
    }
  })

  it('puts a listed peer in the first wave listing it', () => {
    const d = doc('canary:1,10%,50%,100%')
    d.waves[0].peers = ['peer7']
    d.waves[2].peers = ['peer8']
    assert.equal(waveOf({ peerId: 'peer7', tags: [], doc: d }), 0)
    assert.equal(waveOf({ peerId: 'peer8', tags: [], doc: d }), 2)
  })

  it('places the rest by hash over the percentage waves, in the proportions given', () => {
    const d = doc('10%,50%,100%')
    const counts = [0, 0, 0]
    for (const id of ids(1000)) {
      const w = waveOf({ peerId: id, tags: [], doc: d })
      const p = nodePosition(id, ROLLOUT)
      assert.equal(w, p < 0.1 ? 0 : p < 0.5 ? 1 : 2, `${id} at ${p}`)
      counts[w]++
    }
    assert.ok(counts[0] >= 70 && counts[0] <= 130, `first 10%: ${counts[0]}`)
    assert.ok(counts[1] >= 350 && counts[1] <= 450, `10% to 50%: ${counts[1]}`)
    assert.ok(counts[2] >= 450 && counts[2] <= 550, `the rest: ${counts[2]}`)
  })

  it('keeps unlisted nodes out of count waves, and pinned nodes do not shift the others', () => {
    const plain = doc('canary:2,10%,50%,100%')
    const before = ids(1000).map(id => waveOf({ peerId: id, tags: [], doc: plain }))
    assert.ok(!before.includes(0), 'an unlisted, untagged node is in a count wave')
    const pinned = doc('canary:2,10%,50%,100%')
    pinned.waves[0].peers = ['peer1', 'peer2']
    pinned.waves[3].peers = ['peer3']
    const after = ids(1000).map(id => waveOf({ peerId: id, tags: id === 'peer4' ? ['canary'] : [], doc: pinned }))
    assert.deepEqual([after[1], after[2], after[3], after[4]], [0, 0, 3, 0])
    for (let i = 5; i < 1000; i++) assert.equal(after[i], before[i], `peer${i} moved`)
    // the first percentage wave after the count wave gets the first 10% by hash
    assert.equal(waveOf({ peerId: 'x', tags: [], doc: doc('canary:1,100%') }), 1)
  })
})

describe('chooseCountPeers', () => {
  const known = ids(40).map(id => ({ peerId: id, tags: [] as string[] }))
  const byPosition = (list: string[]): string[] => [...list].sort((a, b) => nodePosition(a, ROLLOUT) - nodePosition(b, ROLLOUT))

  it('fills the canary wave with canary-tagged nodes first, then the lowest positions, never last-tagged ones', () => {
    const lowest = byPosition(ids(40))
    const tagged = [
      ...known.filter(n => n.peerId !== lowest[0] && n.peerId !== 'peer30' && n.peerId !== 'peer31'),
      { peerId: lowest[0], tags: ['last'] },
      { peerId: 'peer30', tags: ['canary'] },
      { peerId: 'peer31', tags: ['canary', 'eu'] }
    ]
    const d = doc('canary:3,pilot:2,50%,100%')
    const waves = chooseCountPeers(tagged, d)
    assert.deepEqual(waves[0].peers, [...byPosition(['peer30', 'peer31']), lowest[1]])
    // canary-tagged nodes belong to wave 0 by their tag, so pilot takes neither them nor the last-tagged node
    assert.deepEqual(waves[1].peers, [lowest[2], lowest[3]])
    assert.deepEqual(waves[2].peers, [])
    assert.deepEqual(waves[3].peers, [])
    assert.deepEqual(d.waves.map(w => w.peers), [[], [], [], []], 'the document was changed')
    assert.deepEqual(waves.map(w => w.name), ['canary', 'pilot', 'wave-3', 'wave-4'])
  })

  it('keeps listed peers, skips duplicates, and fills what it can', () => {
    const d = doc('canary:2,pilot:5,100%')
    d.waves[0].peers = ['peer5']
    const few = [{ peerId: 'peer1', tags: [] }, { peerId: 'peer1', tags: [] }, { peerId: 'peer5', tags: [] }, { peerId: 'peer2', tags: ['last'] }, { peerId: 'peer3', tags: [] }]
    const waves = chooseCountPeers(few, d)
    assert.equal(waves[0].peers[0], 'peer5')
    assert.equal(waves[0].peers.length, 2)
    assert.deepEqual([...waves[0].peers, ...waves[1].peers].sort(), ['peer1', 'peer3', 'peer5'])
    assert.equal(waves[1].peers.length, 1)
  })
})

describe('installSlot', () => {
  const wave = { name: 'w', fraction: 0.5, peers: [] }
  it('ranks a node by its position within the wave, maxParallel to a slot', () => {
    const slot = (position: number, maxParallel = 10): number => installSlot({ position, wave, previousFraction: 0.1, expectedNodes: 100, maxParallel })
    assert.equal(slot(0.1), 0)
    assert.equal(slot(0.139), 0) // rank 9
    assert.equal(slot(0.141), 1) // rank 10
    assert.equal(slot(0.31), 5) // rank 52
    assert.equal(slot(0.4999), 9) // rank 99
    assert.equal(slot(0.31, 1), 52)
    assert.equal(slot(0.3, 1000), 0)
    // a pinned node outside the wave's range uses its position as a share of the wave
    assert.equal(slot(0.95), 9)
    assert.equal(installSlot({ position: 0.3, wave, previousFraction: 0.1, expectedNodes: 0, maxParallel: 1 }), 0)
  })

  it('ranks a count wave by the peers list', () => {
    const count = { name: 'canary', count: 6, peers: ['a', 'b', 'c', 'd', 'e', 'f'] }
    assert.equal(installSlot({ position: 0.9, wave: count, previousFraction: 0, expectedNodes: 6, maxParallel: 2, peerId: 'a' }), 0)
    assert.equal(installSlot({ position: 0.1, wave: count, previousFraction: 0, expectedNodes: 6, maxParallel: 2, peerId: 'f' }), 2)
    // not listed (a tagged canary): after the listed ones
    assert.equal(installSlot({ position: 0.5, wave: count, previousFraction: 0, expectedNodes: 8, maxParallel: 2, peerId: 'z' }), 3)
  })

  it('spreads a wave of nodes evenly over its slots', () => {
    const d = doc('10%,50%,100%')
    const members = ids(2000).filter(id => waveOf({ peerId: id, tags: [], doc: d }) === 1)
    const slots = new Map<number, number>()
    for (const id of members) {
      const s = installSlot({ position: nodePosition(id, ROLLOUT), wave: d.waves[1], previousFraction: 0.1, expectedNodes: members.length, maxParallel: 100 })
      slots.set(s, (slots.get(s) ?? 0) + 1)
    }
    const batches = Math.ceil(members.length / 100)
    assert.ok(Math.max(...slots.keys()) < batches)
    // every full slot holds about maxParallel nodes (the last holds the remainder)
    for (const [slot, n] of slots) if (slot < batches - 1) assert.ok(n >= 60 && n <= 140, `slot ${slot} of ${n} nodes`)
    assert.equal([...slots.values()].reduce((a, b) => a + b, 0), members.length)
  })
})

describe('waveTally', () => {
  it('counts each node once, in the wave it reports, by outcome', () => {
    const d = doc('canary:1,50%,100%')
    const tally = waveTally(d, [
      { peerId: 'a', wave: 0, outcome: 'installing' },
      { peerId: 'a', wave: 0, outcome: 'healthy' },
      { peerId: 'b', wave: 1, outcome: 'failed' },
      { peerId: 'c', wave: 1, outcome: 'waiting' },
      { peerId: 'd', wave: 1, outcome: 'fetched' },
      { peerId: 'e', wave: 1, outcome: 'deferred' },
      { peerId: 'f', wave: 1, outcome: 'refused' },
      { peerId: 'g', wave: 1, outcome: 'installing' },
      { peerId: 'h', wave: 2, outcome: 'rolled-back' },
      { peerId: 'i', wave: 2, outcome: 'healthy' },
      { peerId: 'j', wave: -1, outcome: 'waiting' },
      { peerId: 'k', wave: 3, outcome: 'healthy' }
    ])
    assert.deepEqual(tally, [
      { nodes: 1, healthy: 1, failed: 0, installing: 0, pending: 0, rolledBack: 0 },
      { nodes: 6, healthy: 0, failed: 1, installing: 1, pending: 4, rolledBack: 0 },
      { nodes: 2, healthy: 1, failed: 0, installing: 0, pending: 0, rolledBack: 1 }
    ])
  })
})

describe('gateDecision', () => {
  const t = (healthy: number, failed: number, other = 0): WaveTally => ({ nodes: healthy + failed + other, healthy, failed, installing: 0, pending: other, rolledBack: 0 })
  const NOW = 1_000_000_000
  const decide = (d: RolloutDocument, tally: WaveTally, opts: { since?: number, expected?: number } = {}): ReturnType<typeof gateDecision> =>
    gateDecision({ doc: d, tally, waveOpenedAt: NOW - 600_000, lastChangeAt: NOW - (opts.since ?? 120_000), now: NOW, expectedNodes: opts.expected ?? 0 })

  it('promotes when enough nodes are healthy and the wave soaked', () => {
    const r = decide(doc('10%,50%,100%'), t(20, 0))
    assert.equal(r.action, 'promote')
    assert.match(r.reason, /20 of 20 nodes of wave wave-1 healthy \(100%, need 95%\), soaked 60 s/)
    // 19 of 20 is exactly 95%
    assert.equal(decide(doc('10%,50%,100%', { abort: 0.1 }), t(19, 1)).action, 'promote')
  })

  it('waits for health, naming how many are healthy', () => {
    const r = decide(doc('10%,50%,100%'), t(2, 0, 3))
    assert.deepEqual(r, { action: 'wait', reason: '2 of 5 nodes of wave wave-1 healthy, need 95%' })
    // nodes expected but not yet reported count as not healthy
    const e = decide(doc('10%,50%,100%'), t(5, 0), { expected: 8 })
    assert.equal(e.action, 'wait')
    assert.match(e.reason, /5 of 8 nodes/)
  })

  it('waits for a wave with no reports', () => {
    assert.deepEqual(decide(doc('10%,50%,100%'), t(0, 0)), { action: 'wait', reason: 'no node of wave wave-1 has reported yet' })
  })

  it('waits out the soak time from the last change', () => {
    const r = decide(doc('10%,50%,100%'), t(5, 0), { since: 20_000 })
    assert.equal(r.action, 'wait')
    assert.match(r.reason, /^soaking, 40 s left/)
    // the soak also runs from the wave's opening when that is later
    const opened = gateDecision({ doc: doc('10%,50%,100%'), tally: t(5, 0), waveOpenedAt: NOW - 1_000, lastChangeAt: NOW - 600_000, now: NOW, expectedNodes: 5 })
    assert.match(opened.reason, /^soaking, 59 s left/)
  })

  it('halts when failures reach the abort share, even in a manual rollout', () => {
    const r = decide(doc('10%,50%,100%'), t(8, 1, 1))
    assert.equal(r.action, 'halt')
    assert.match(r.reason, /1 of 10 nodes of wave wave-1 failed \(10%\), at or above the abort threshold of 10%/)
    assert.equal(decide(doc('10%,50%,100%', { manual: true }), t(8, 1, 1)).action, 'halt')
    assert.equal(decide(doc('10%,50%,100%', { abort: 0.2 }), t(8, 1, 1)).action, 'wait')
    // abort 0: the first failure halts; no failure never does
    assert.equal(decide(doc('10%,50%,100%', { abort: 0 }), t(99, 1)).action, 'halt')
    assert.equal(decide(doc('10%,50%,100%', { abort: 0 }), t(10, 0)).action, 'promote')
  })

  it('judges the abort share against the whole wave, as the gate does: an early failure does not halt a large wave', () => {
    // 1 failed among the first 8 reports of a wave of 50: 2 %, under 10 %
    const early = decide(doc('10%,50%,100%'), t(6, 1, 1), { expected: 50 })
    assert.equal(early.action, 'wait')
    assert.match(early.reason, /6 of 50 nodes of wave wave-1 healthy/)
    // 5 of 50 is 10 %: halt, however many have reported
    const r = decide(doc('10%,50%,100%'), t(3, 5), { expected: 50 })
    assert.equal(r.action, 'halt')
    assert.match(r.reason, /5 of 50 nodes of wave wave-1 failed \(10%\)/)
    // more reports than expected: the reports are the wave
    assert.equal(decide(doc('10%,50%,100%'), t(8, 1, 1), { expected: 4 }).action, 'halt')
  })

  it('waits for `umesh rollout promote` in a manual rollout', () => {
    const r = decide(doc('10%,50%,100%', { manual: true }), t(10, 0))
    assert.equal(r.action, 'wait')
    assert.match(r.reason, /manual: waiting for `umesh rollout promote`/)
  })

  it('completes when the last wave passes its gate, manual or not', () => {
    for (const manual of [false, true]) {
      const r = decide(doc('10%,50%,100%', { open: 2, manual }), t(10, 0))
      assert.equal(r.action, 'complete')
      assert.match(r.reason, /last wave/)
    }
    assert.equal(decide(doc('10%,50%,100%', { open: 2 }), t(5, 0, 5)).action, 'wait')
  })

  it('does nothing unless the rollout runs and a wave is open', () => {
    for (const state of ['paused', 'halted', 'completed'] as const) {
      assert.deepEqual(decide(doc('10%,50%,100%', { state }), t(10, 5)), { action: 'wait', reason: `the rollout is ${state}` })
    }
    assert.equal(decide(doc('10%,50%,100%', { open: -1 }), t(10, 0)).action, 'wait')
  })
})
