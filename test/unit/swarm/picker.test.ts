/**
 * The piece picker choosing which piece to ask a peer for: random first
 * pieces until a few are held, then rarest first with random tie-breaks, and
 * the fetching hints of other peers counted as pieces they will soon hold.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Bitfield } from '../../../protocols/shared/index.js'
import { PiecePicker } from '../../../src/swarm/picker.js'
import { all, bits, drain, range, seeded, staircase } from '../../helpers/picker-fixtures.js'

describe('PiecePicker', () => {
  describe('random first pieces', () => {
    it('while fewer than randomFirst pieces are held, picks are spread over every piece, not the rarest', () => {
      const firsts = new Map<number, number>()
      for (let seed = 1; seed <= 400; seed++) {
        const picker = staircase({ randomFirst: 4, random: seeded(seed) })
        const p = picker.pick('x', all(8))!
        firsts.set(p, (firsts.get(p) ?? 0) + 1)
      }
      assert.equal(firsts.size, 8, `every piece comes first sometimes: ${JSON.stringify([...firsts])}`)
      for (const [piece, n] of firsts) assert.ok(n > 25 && n < 80, `piece ${piece} first ${n} times of 400, about 50 expected`)
      // one download: its first four picks are not the four rarest in order
      const picker = staircase({ randomFirst: 4, random: seeded(7) })
      assert.notDeepEqual(drain(picker, 'x', all(8)).slice(0, 4), [0, 1, 2, 3])
    })

    it('with randomFirst - 1 pieces held the picks are still random; with randomFirst held, always the rarest', () => {
      const seen = new Set<number>()
      for (let seed = 1; seed <= 50; seed++) {
        seen.add(staircase({ randomFirst: 4, random: seeded(seed) }, bits(8, [5, 6, 7])).pick('x', all(8))!)
      }
      assert.ok(seen.size >= 4, `three held: random picks among 0-4, saw ${[...seen].join(',')}`)
      for (let seed = 1; seed <= 50; seed++) {
        const picker = staircase({ randomFirst: 4, random: seeded(seed) }, bits(8, [4, 5, 6, 7]))
        assert.deepEqual(drain(picker, 'x', all(8)), [0, 1, 2, 3], `seed ${seed}: rarest first once four are held`)
      }
    })

    it('randomFirst 0 is rarest first from the start', () => {
      for (let seed = 1; seed <= 20; seed++) {
        assert.deepEqual(drain(staircase({ randomFirst: 0, random: seeded(seed) }), 'x', all(8)), range(0, 8))
      }
    })
  })

  describe('rarest first', () => {
    // availability from three peers: 0:3 1:3 2:2 3:2 4:2 5:1
    function swarm (random: () => number): PiecePicker {
      const picker = new PiecePicker(6, undefined, { randomFirst: 0, random })
      picker.peerAdded(all(6))
      picker.peerAdded(bits(6, [0, 1, 2, 3]))
      picker.peerAdded(bits(6, [0, 1, 4]))
      assert.deepEqual(range(0, 6).map(i => picker.holders(i)), [3, 3, 2, 2, 2, 1])
      return picker
    }

    it('picks the rarest piece the asking peer has, counting bitfields and later peerHas', () => {
      const picker = swarm(seeded(1))
      assert.equal(picker.pick('r', all(6)), 5, 'the only piece one peer holds')
      const q = bits(6, [0, 1, 2, 3, 4])
      picker.peerHas(2)
      picker.peerHas(4)
      assert.equal(picker.holders(2), 3)
      assert.equal(picker.pick('q', q), 3, 'q lacks piece 5; of 2, 3, 4 only 3 is still held by two')
      picker.peerHas(3)
      picker.peerHas(3)
      assert.notEqual(picker.pick('q', q), 3, 'now 3 is the most common')
      picker.peerHas(99)
      picker.peerHas(-1)
      assert.deepEqual(range(0, 6).map(i => picker.holders(i)), [3, 3, 3, 4, 3, 1], 'peerHas out of range is ignored')
    })

    it('breaks ties with `random`, each tied piece equally likely, never a more common one', () => {
      const tied = bits(6, [2, 3, 4])
      assert.equal(swarm(() => 0.99).pick('q', tied), 2, 'random never below 1/k: the first of the tie stays')
      assert.equal(swarm(() => 0).pick('q', tied), 4, 'random always 0: each later tie replaces it')
      const draws = [0.99, 0.3]
      assert.equal(swarm(() => draws.shift()!).pick('q', tied), 4, '0.99 * 2 >= 1 keeps 2, then 0.3 * 3 < 1: the third replaces')
      const q = bits(6, [0, 1, 2, 3, 4])
      const counts = new Map<number, number>()
      const random = seeded(42)
      for (let n = 0; n < 3000; n++) {
        const p = swarm(random).pick('q', q)!
        counts.set(p, (counts.get(p) ?? 0) + 1)
      }
      assert.deepEqual([...counts.keys()].sort(), [2, 3, 4])
      for (const [p, n] of counts) assert.ok(n > 870 && n < 1130, `piece ${p} picked ${n} of 3000 times`)
    })

    it('never picks a piece the peer lacks or this node holds', () => {
      const picker = new PiecePicker(6, bits(6, [5]), { randomFirst: 0, random: seeded(3) })
      picker.peerAdded(all(6))
      picker.peerAdded(bits(6, [0, 1, 2, 3]))
      picker.peerAdded(bits(6, [0, 1, 4]))
      // piece 5 (rarest) is held here, pieces 3 and 4 are rarer than 0 and 1 but the peer lacks them
      assert.deepEqual(drain(picker, 'p', bits(6, [0, 1, 5])).sort(), [0, 1])
      assert.equal(picker.pick('e', new Bitfield(6)), undefined, 'a peer with nothing')
      assert.equal(picker.missing, 5)
    })

    it('peerRemoved and peerLost lower availability, and the pick follows', () => {
      const picker = new PiecePicker(4, undefined, { randomFirst: 0, random: seeded(5) })
      const leaver = bits(4, [0, 1])
      picker.peerAdded(all(4))
      picker.peerAdded(leaver)
      picker.peerAdded(bits(4, [0, 1, 2]))
      assert.deepEqual(range(0, 4).map(i => picker.holders(i)), [3, 3, 2, 1])
      const q = bits(4, [0, 1, 2])
      assert.equal(picker.pick('q', q), 2)
      picker.peerRemoved(leaver)
      assert.deepEqual(range(0, 4).map(i => picker.holders(i)), [2, 2, 2, 1])
      picker.peerLost(0)
      assert.deepEqual(range(0, 4).map(i => picker.holders(i)), [1, 2, 2, 1])
      assert.equal(picker.pick('q', q), 0, 'piece 0 is now the rarest q has')
      picker.peerLost(0)
      picker.peerLost(0)
      assert.equal(picker.holders(0), 0, 'never below zero')
      picker.peerRemoved(all(4))
      picker.peerRemoved(all(4))
      assert.deepEqual(range(0, 4).map(i => picker.holders(i)), [0, 0, 0, 0])
      picker.peerLost(7)
    })
  })

  describe('fetching hints', () => {
    it('counts pieces other peers said they are fetching as held by them: a seed is asked for the others first', () => {
      // one seed holds all 6 pieces; peers said they fetch 0, 1, 2 and 3 (3 twice)
      const fetching = [1, 1, 1, 2, 0, 0]
      const picker = new PiecePicker(6, undefined, { randomFirst: 0, random: seeded(3), fetching: i => fetching[i] })
      picker.peerAdded(all(6))
      assert.deepEqual(range(0, 6).map(i => picker.expected(i)), [2, 2, 2, 3, 1, 1])
      const first = drain(picker, 'seed', all(6))
      assert.deepEqual(first.slice(0, 2).sort(), [4, 5], 'the pieces nobody fetches go first')
      assert.equal(first[5], 3, 'the piece two peers fetch goes last')
    })

    it('applies them in the random first pieces too: a new node starts where no one else does', () => {
      const fetching = [1, 1, 0, 1, 1, 1, 1, 1]
      for (let seed = 0; seed < 20; seed++) {
        const picker = new PiecePicker(8, undefined, { randomFirst: 4, random: seeded(seed), fetching: i => fetching[i] })
        picker.peerAdded(all(8))
        assert.equal(picker.pick('seed', all(8)), 2)
      }
    })
  })
})
