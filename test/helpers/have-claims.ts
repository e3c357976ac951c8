/**
 * A have exchange for hostile test peers: it claims every piece of every
 * release it is asked about, so followers ask it for chunks (and meet
 * whatever the test's chunks handler does), and it keeps each session open.
 */
import type { HaveSwarm } from '../../protocols/have/index.js'

export function claimsEveryPiece (): HaveSwarm {
  return {
    hello: async (release, count) => {
      const bitfield = new Uint8Array(Math.ceil(count / 8)).fill(0xff)
      const spare = bitfield.length * 8 - count
      if (spare > 0) bitfield[bitfield.length - 1] = (0xff << spare) & 0xff
      return { release, count, bitfield }
    },
    adopt: (session) => { session.start() }
  }
}
