/**
 * The piece picker and the bitfield it counts with: random first pieces,
 * rarest first with random tie-breaks, one request per piece until a stall or
 * the end-game, end-game copies and their cancellation, and the wire form of
 * a bitfield. A model-based run checks every pick against the rules over
 * many seeded random swarms.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Bitfield } from '../../src/swarm/bitfield.js'
import { PiecePicker } from '../../src/swarm/picker.js'

/** mulberry32: a small seeded source of numbers in [0, 1) */
function seeded (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function bits (size: number, pieces: Iterable<number>): Bitfield {
  const b = new Bitfield(size)
  for (const i of pieces) assert.ok(b.set(i), `piece ${i} set twice or out of range`)
  return b
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)
const all = (size: number): Bitfield => bits(size, range(0, size))

/** a picker over 8 pieces where piece i is held by i + 1 of 8 peers: the rarest order is 0, 1, 2, ... */
function staircase (options: ConstructorParameters<typeof PiecePicker>[2], held?: Bitfield): PiecePicker {
  const picker = new PiecePicker(8, held, options)
  for (let k = 0; k < 8; k++) picker.peerAdded(bits(8, range(k, 8)))
  for (let i = 0; i < 8; i++) assert.equal(picker.holders(i), i + 1)
  return picker
}

/** picks and records requests for `peer` until the picker has nothing more for it */
function drain (picker: PiecePicker, peer: string, have: Bitfield): number[] {
  const got: number[] = []
  for (let p = picker.pick(peer, have); p !== undefined; p = picker.pick(peer, have)) {
    picker.requested(p, peer)
    got.push(p)
    assert.ok(got.length <= picker.size * 2, 'pick keeps returning pieces')
  }
  return got
}

describe('Bitfield', () => {
  it('keeps bit i in byte i >> 3 under mask 0x80 >> (i & 7), and counts what is set', () => {
    const b = new Bitfield(10)
    assert.equal(b.bytes.length, 2)
    assert.equal(b.count, 0)
    assert.equal(b.set(0), true)
    assert.equal(b.set(9), true)
    assert.equal(b.set(7), true)
    assert.deepEqual([...b.bytes], [0x81, 0x40])
    assert.equal(b.count, 3)
    assert.ok(b.has(0) && b.has(7) && b.has(9))
    assert.ok(!b.has(1) && !b.has(8))
  })

  it('set and unset say whether they changed anything, and ignore indexes out of range', () => {
    const b = new Bitfield(10)
    assert.equal(b.set(3), true)
    assert.equal(b.set(3), false, 'set twice')
    assert.equal(b.count, 1)
    assert.equal(b.set(-1), false)
    assert.equal(b.set(10), false)
    assert.deepEqual([...b.bytes], [0x10, 0x00], 'nothing written out of range, unused bits stay zero')
    assert.equal(b.unset(4), false, 'unset a clear bit')
    assert.equal(b.unset(3), true)
    assert.equal(b.unset(3), false)
    assert.equal(b.unset(10), false)
    assert.equal(b.count, 0)
    assert.deepEqual([...b.bytes], [0, 0])
  })

  it('is complete once every piece is set, and not after one is unset', () => {
    const b = new Bitfield(9)
    for (let i = 0; i < 8; i++) b.set(i)
    assert.equal(b.complete, false)
    b.set(8)
    assert.equal(b.complete, true)
    assert.equal(b.count, 9)
    assert.ok(Bitfield.valid(9, b.bytes), 'a full bitfield leaves the unused bits zero')
    b.unset(4)
    assert.equal(b.complete, false)
  })

  it('counts the pieces of a bitfield it is built from, ignoring bytes past its length', () => {
    const b = new Bitfield(12, Uint8Array.from([0xff, 0xf0, 0xff]))
    assert.equal(b.count, 12)
    assert.equal(b.complete, true)
    assert.equal(b.bytes.length, 2)
    const c = new Bitfield(12, Uint8Array.from([0x05]))
    assert.equal(c.count, 2)
    assert.ok(c.has(5) && c.has(7) && !c.has(6))
    assert.deepEqual([...c.bytes], [0x05, 0x00], 'a short source leaves the rest clear')
  })

  it('valid: exactly ceil(size / 8) bytes with the unused bits zero', () => {
    assert.equal(Bitfield.valid(8, new Uint8Array(1)), true)
    assert.equal(Bitfield.valid(8, Uint8Array.from([0xff])), true, 'no unused bits at a multiple of 8')
    assert.equal(Bitfield.valid(9, new Uint8Array(2)), true)
    assert.equal(Bitfield.valid(9, Uint8Array.from([0xff, 0x80])), true, 'piece 8 is the top bit of byte 1')
    assert.equal(Bitfield.valid(9, Uint8Array.from([0x00, 0x40])), false, 'an unused bit set')
    assert.equal(Bitfield.valid(9, Uint8Array.from([0x00, 0x01])), false, 'the last unused bit set')
    assert.equal(Bitfield.valid(15, Uint8Array.from([0, 0x01])), false)
    assert.equal(Bitfield.valid(15, Uint8Array.from([0, 0xfe])), true)
    assert.equal(Bitfield.valid(9, new Uint8Array(1)), false, 'one byte short')
    assert.equal(Bitfield.valid(9, new Uint8Array(3)), false, 'one byte too many')
    assert.equal(Bitfield.valid(8, new Uint8Array(2)), false)
    assert.equal(Bitfield.valid(1, Uint8Array.from([0x80])), true)
    assert.equal(Bitfield.valid(1, Uint8Array.from([0xc0])), false)
    for (let size = 1; size <= 33; size++) {
      const b = all(size)
      assert.equal(b.bytes.length, Math.ceil(size / 8), `bytes for ${size} pieces`)
      assert.ok(Bitfield.valid(size, b.bytes), `a full bitfield of ${size} is valid`)
    }
  })
})

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
