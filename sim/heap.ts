/**
 * The event queue of the fleet model: a binary min-heap on time, ties in
 * the order they were pushed, so a run is the same every time for a seed.
 */
export interface SimEvent {
  at: number
  seq: number
  run: () => void
}

export class EventQueue {
  private readonly items: SimEvent[] = []
  private seq = 0

  get size (): number {
    return this.items.length
  }

  /** time of the next event, Infinity when none */
  get next (): number {
    return this.items[0]?.at ?? Infinity
  }

  push (at: number, run: () => void): void {
    const e = { at, seq: this.seq++, run }
    const a = this.items
    a.push(e)
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(a[i], a[p])) break
      ;[a[i], a[p]] = [a[p], a[i]]
      i = p
    }
  }

  pop (): SimEvent | undefined {
    const a = this.items
    if (a.length === 0) return undefined
    const top = a[0]
    const last = a.pop()!
    if (a.length > 0) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && before(a[l], a[m])) m = l
        if (r < a.length && before(a[r], a[m])) m = r
        if (m === i) break
        ;[a[i], a[m]] = [a[m], a[i]]
        i = m
      }
    }
    return top
  }
}

function before (x: SimEvent, y: SimEvent): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq)
}

/** a seeded source of numbers in [0, 1) (mulberry32) */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
