/**
 * A model-based run of the piece picker: over many seeded random swarms,
 * random picks, failures, arrivals and stalls, every pick is checked against
 * the rules (random first, rarest first, stalls first, end-game copies).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PiecePicker } from '../../../src/swarm/picker.js'
import { bits, range, seeded } from '../../helpers/picker-fixtures.js'

describe('PiecePicker', () => {
  it('every pick follows the rules, over many seeded random swarms (model check)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const random = seeded(seed)
      const int = (n: number): number => Math.floor(random() * n)
      const size = 1 + int(24)
      const copies = 1 + int(3)
      const randomFirst = int(5)
      const heldAtStart = bits(size, range(0, size).filter(() => random() < 0.2))
      const peers = Array.from({ length: 1 + int(5) }, (_, k) => ({ key: `p${k}`, have: bits(size, range(0, size).filter(() => random() < 0.6)) }))
      const picker = new PiecePicker(size, heldAtStart, { randomFirst, endgameCopies: copies, random: seeded(seed * 7919) })
      const avail = new Array<number>(size).fill(0)
      for (const p of peers) {
        picker.peerAdded(p.have)
        for (let i = 0; i < size; i++) if (p.have.has(i)) avail[i]++
      }
      const held = new Set(range(0, size).filter(i => heldAtStart.has(i)))
      const reqs = new Map<number, Set<string>>()
      const stalled = new Set<number>()
      const ctx = (op: string): string => `seed ${seed}, ${op}`

      for (let step = 0; step < 150; step++) {
        const missing = range(0, size).filter(i => !held.has(i))
        const endgame = missing.length > 0 && missing.every(i => (reqs.get(i)?.size ?? 0) > 0)
        assert.equal(picker.endgame, endgame, ctx(`step ${step}: endgame`))
        assert.equal(picker.missing, missing.length, ctx('missing'))
        const outstanding = [...reqs].flatMap(([i, by]) => [...by].map(peer => ({ i, peer })))
        const op = int(10)
        if (op < 5) {
          const peer = peers[int(peers.length)]
          const got = picker.pick(peer.key, peer.have)
          const candidates = missing.filter(i => peer.have.has(i) && reqs.get(i)?.has(peer.key) !== true && (reqs.get(i)?.size ?? 0) < copies)
          const firstTier = candidates.filter(i => (reqs.get(i)?.size ?? 0) === 0 || stalled.has(i))
          const randomPhase = held.size < randomFirst
          let allowed: number[]
          if (firstTier.length > 0) {
            const score = (i: number): number => stalled.has(i) && (reqs.get(i)?.size ?? 0) > 0 ? -1 : randomPhase ? 0 : avail[i]
            const best = Math.min(...firstTier.map(score))
            allowed = firstTier.filter(i => score(i) === best)
          } else if (endgame && candidates.length > 0) {
            const best = Math.min(...candidates.map(i => reqs.get(i)!.size))
            allowed = candidates.filter(i => reqs.get(i)!.size === best)
          } else {
            allowed = []
          }
          if (allowed.length === 0) {
            assert.equal(got, undefined, ctx(`pick for ${peer.key} should be empty`))
          } else {
            assert.ok(got !== undefined && allowed.includes(got), ctx(`pick for ${peer.key} gave ${got}, allowed ${allowed.join(',')}`))
            picker.requested(got, peer.key)
            const by = reqs.get(got) ?? new Set<string>()
            by.add(peer.key)
            reqs.set(got, by)
            stalled.delete(got)
          }
        } else if (op < 7 && outstanding.length > 0) {
          const { i, peer } = outstanding[int(outstanding.length)]
          picker.finished(i, peer)
          const by = reqs.get(i)!
          by.delete(peer)
          if (by.size === 0) {
            reqs.delete(i)
            stalled.delete(i)
          }
        } else if (op < 8 && outstanding.length > 0) {
          const { i, peer } = outstanding[int(outstanding.length)]
          const others = picker.received(i, peer)
          assert.deepEqual(others.sort(), [...reqs.get(i)!].filter(p => p !== peer).sort(), ctx(`received ${i} from ${peer}: peers to cancel`))
          reqs.delete(i)
          stalled.delete(i)
          held.add(i)
          assert.ok(picker.held.has(i))
        } else if (op < 9 && outstanding.length > 0) {
          const { i } = outstanding[int(outstanding.length)]
          picker.stall(i)
          stalled.add(i)
        } else if (missing.length > 0) {
          const i = missing[int(missing.length)]
          if (reqs.has(i)) continue
          assert.deepEqual(picker.received(i), [], ctx(`piece ${i} arrived another way`))
          held.add(i)
        }
      }
    }
  })
})
