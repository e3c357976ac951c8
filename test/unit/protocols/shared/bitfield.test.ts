/**
 * The bitfield the piece picker counts with, and the have protocol sends:
 * where each bit lives, counting, completeness, and the wire form a peer's
 * bitfield must have (exactly ceil(size / 8) bytes, the unused bits zero).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Bitfield } from '../../../../protocols/shared/index.js'
import { all } from '../../../helpers/picker-fixtures.js'

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
