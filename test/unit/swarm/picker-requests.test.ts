/**
 * The piece picker's requests: one request per piece until a stall or the
 * end-game, a piece back in the pool when its request ends, the peers to
 * cancel when it arrives, and end-game copies up to endgameCopies per piece.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PiecePicker } from '../../../src/swarm/picker.js'
import { all, bits, drain, range, seeded } from '../../helpers/picker-fixtures.js'

describe('PiecePicker', () => {
  describe('requests', () => {
    it('asks for a piece once outside the end-game, and never twice of one peer', () => {
      const picker = new PiecePicker(10, undefined, { randomFirst: 4, random: seeded(11) })
      for (let k = 0; k < 3; k++) picker.peerAdded(all(10))
      const picked: number[] = []
      const ofA: number[] = []
      for (let n = 0; n < 9; n++) {
        const peer = ['a', 'b', 'c'][n % 3]
        const p = picker.pick(peer, all(10))!
        assert.ok(!picked.includes(p), `piece ${p} asked twice before the end-game`)
        assert.equal(picker.endgame, false)
        picker.requested(p, peer)
        picked.push(p)
        if (peer === 'a') ofA.push(p)
      }
      assert.equal(picker.endgame, false, 'one piece is still unrequested')
      const last = picker.pick('a', all(10))!
      assert.ok(!picked.includes(last))
      picker.requested(last, 'a')
      picker.requested(last, 'a') // recorded twice by mistake: still one request
      ofA.push(last)
      assert.equal(picker.endgame, true)
      const again = drain(picker, 'a', all(10))
      assert.deepEqual(again.sort((x, y) => x - y), range(0, 10).filter(i => !ofA.includes(i)), 'in the end-game a is asked once for each piece others have')
      assert.equal(picker.pick('a', all(10)), undefined, 'a has every piece asked of it')
      assert.equal(drain(picker, 'd', all(10)).sort((x, y) => x - y).join(','), ofA.sort((x, y) => x - y).join(','), 'd gets the second copies of the pieces only a was asked for')
    })

    it('a peer that has only requested pieces gets nothing outside the end-game', () => {
      const picker = new PiecePicker(4, undefined, { randomFirst: 0, random: seeded(2) })
      picker.requested(1, 'a')
      assert.equal(picker.pick('b', bits(4, [1])), undefined)
      assert.equal(picker.pick('b', bits(4, [1, 3])), 3)
    })

    it('finished returns a piece to the pool, for any peer', () => {
      const picker = new PiecePicker(3, undefined, { randomFirst: 0, random: seeded(4) })
      picker.requested(0, 'a')
      picker.requested(1, 'a')
      assert.equal(picker.pick('b', bits(3, [0, 1])), undefined)
      picker.finished(1, 'b') // b was never asked: nothing changes
      assert.equal(picker.pick('b', bits(3, [0, 1])), undefined)
      picker.finished(1, 'a')
      assert.equal(picker.pick('b', bits(3, [0, 1])), 1)
      assert.equal(picker.pick('a', bits(3, [0, 1])), 1, 'the peer that failed may be asked again')
      picker.finished(1, 'a') // twice: no effect
      picker.requested(1, 'b')
      picker.requested(2, 'c')
      assert.equal(picker.endgame, true)
      picker.finished(2, 'c')
      assert.equal(picker.endgame, false, 'a piece back in the pool ends the end-game')
    })

    it('stall(i) lets a second peer be asked for piece i, before any rarer unrequested piece', () => {
      const picker = new PiecePicker(5, undefined, { randomFirst: 0, random: seeded(9) })
      picker.peerAdded(all(5))
      picker.peerAdded(bits(5, [0, 1, 2]))
      picker.peerAdded(bits(5, [0]))
      // 0:3 1:2 2:2 3:1 4:1
      picker.requested(0, 'a')
      assert.notEqual(picker.pick('b', all(5)), 0)
      picker.stall(0)
      assert.equal(picker.pick('a', all(5)) !== 0, true, 'never the same peer twice')
      assert.equal(picker.pick('b', all(5)), 0, 'the stalled piece first, though pieces 3 and 4 are rarer')
      picker.requested(0, 'b')
      assert.notEqual(picker.pick('c', all(5)), 0, 'a second request clears the stall: no third copy')
      // with room for three copies, a stall again lets a third peer in
      const wide = new PiecePicker(3, undefined, { randomFirst: 0, endgameCopies: 3, random: seeded(9) })
      wide.requested(2, 'a')
      wide.stall(2)
      assert.equal(wide.pick('b', all(3)), 2)
      wide.requested(2, 'b')
      assert.notEqual(wide.pick('c', all(3)), 2, 'the stall was answered by b')
      wide.stall(2)
      assert.equal(wide.pick('c', all(3)), 2)
    })

    it('received stores the piece, ends its requests and names the other peers to cancel', () => {
      const picker = new PiecePicker(3, undefined, { randomFirst: 0, random: seeded(8) })
      picker.requested(0, 'a')
      picker.stall(0)
      picker.requested(0, 'b')
      assert.deepEqual(picker.received(0, 'b'), ['a'])
      assert.ok(picker.held.has(0))
      assert.equal(picker.missing, 2)
      assert.deepEqual(picker.received(0, 'a'), [], 'a late copy')
      picker.finished(0, 'a') // the cancelled request ending: no effect
      assert.equal(picker.pick('c', all(3)) !== 0, true)
      assert.deepEqual(picker.received(1), [], 'a piece that came another way')
      assert.equal(picker.missing, 1)
      assert.equal(picker.endgame, false)
      picker.requested(2, 'a')
      assert.equal(picker.endgame, true)
      assert.deepEqual(picker.received(2, 'a'), [])
      assert.equal(picker.held.complete, true)
      assert.equal(picker.endgame, false, 'nothing missing: no end-game')
      assert.equal(picker.pick('a', all(3)), undefined)
    })
  })

  describe('end-game', () => {
    it('once every missing piece is asked for, other peers are asked too, at most endgameCopies per piece', () => {
      const picker = new PiecePicker(4, undefined, { randomFirst: 0, random: seeded(12) })
      picker.requested(0, 'a')
      picker.requested(1, 'a')
      picker.requested(2, 'b')
      assert.equal(picker.endgame, false)
      assert.equal(picker.pick('c', bits(4, [0, 1, 2])), undefined, 'piece 3 is unrequested but c lacks it: not the end-game yet')
      picker.requested(3, 'b')
      assert.equal(picker.endgame, true)
      const c = drain(picker, 'c', all(4))
      assert.deepEqual(c.sort(), [0, 1, 2, 3], 'c is asked for every piece once')
      assert.equal(picker.pick('d', all(4)), undefined, 'two copies of each: no third')
      assert.deepEqual(drain(picker, 'a', all(4)), [], 'a is asked for nothing again')
      assert.deepEqual(picker.received(2, 'c').sort(), ['b'])
      assert.deepEqual(picker.received(0, 'a'), ['c'])
      assert.equal(picker.pick('d', all(4)), undefined)
      picker.finished(1, 'c')
      assert.equal(picker.pick('d', all(4)), 1, 'a copy that failed makes room for another')
    })

    it('asks first for the pieces with the fewest requests out', () => {
      const picker = new PiecePicker(3, undefined, { randomFirst: 0, endgameCopies: 3, random: seeded(6) })
      picker.requested(0, 'a')
      picker.requested(0, 'b')
      picker.requested(1, 'a')
      picker.requested(2, 'a')
      picker.requested(2, 'c')
      assert.equal(picker.endgame, true)
      assert.equal(picker.pick('d', all(3)), 1)
      assert.equal(picker.pick('c', all(3)), 1)
      picker.requested(1, 'd')
      assert.ok([1, 2].includes(picker.pick('b', all(3))!), 'all at two: any piece b was not asked for')
      picker.requested(0, 'e')
      assert.equal(picker.pick('e', all(3)) !== 0, true)
      assert.ok([1, 2].includes(picker.pick('f', all(3))!), 'piece 0 has its three copies')
    })

    it('endgameCopies 1 never asks twice', () => {
      const picker = new PiecePicker(2, undefined, { randomFirst: 0, endgameCopies: 1, random: seeded(6) })
      picker.requested(0, 'a')
      picker.requested(1, 'a')
      assert.equal(picker.endgame, true)
      assert.equal(picker.pick('b', all(2)), undefined)
      picker.stall(0)
      assert.equal(picker.pick('b', all(2)), undefined, 'a stall cannot go past the copies either')
    })
  })
})
