/**
 * Swarms for the piece picker tests: a seeded source of randomness (so a
 * failing seed can be replayed), bitfields from piece lists, a staircase of
 * availability whose rarest order is known, and a peer draining every pick.
 */
import assert from 'node:assert/strict'
import { Bitfield } from '../../protocols/shared/index.js'
import { PiecePicker } from '../../src/swarm/picker.js'

/** mulberry32: a small seeded source of numbers in [0, 1) */
export function seeded (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function bits (size: number, pieces: Iterable<number>): Bitfield {
  const b = new Bitfield(size)
  for (const i of pieces) assert.ok(b.set(i), `piece ${i} set twice or out of range`)
  return b
}

export const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)
export const all = (size: number): Bitfield => bits(size, range(0, size))

/** a picker over 8 pieces where piece i is held by i + 1 of 8 peers: the rarest order is 0, 1, 2, ... */
export function staircase (options: ConstructorParameters<typeof PiecePicker>[2], held?: Bitfield): PiecePicker {
  const picker = new PiecePicker(8, held, options)
  for (let k = 0; k < 8; k++) picker.peerAdded(bits(8, range(k, 8)))
  for (let i = 0; i < 8; i++) assert.equal(picker.holders(i), i + 1)
  return picker
}

/** picks and records requests for `peer` until the picker has nothing more for it */
export function drain (picker: PiecePicker, peer: string, have: Bitfield): number[] {
  const got: number[] = []
  for (let p = picker.pick(peer, have); p !== undefined; p = picker.pick(peer, have)) {
    picker.requested(p, peer)
    got.push(p)
    assert.ok(got.length <= picker.size * 2, 'pick keeps returning pieces')
  }
  return got
}
