/**
 * Who is connected to whom: each node dials random peers until it has
 * targetPeers connections (as discovery does), inbound ones counting too;
 * and how long a message flooded from one node takes to reach each other
 * (gossip forwards at the first copy: the shortest path by delay).
 */
import { EventQueue } from './heap.js'

export function buildTopology (n: number, targetPeers: number, random: () => number): number[][] {
  const adj = Array.from({ length: n }, () => new Set<number>())
  const want = Math.min(targetPeers, n - 1)
  const order = Array.from({ length: n }, (_x, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  for (const i of order) {
    let tries = 0
    while (adj[i].size < want && tries++ < 50 * want) {
      const j = Math.floor(random() * n)
      if (j === i || adj[i].has(j)) continue
      adj[i].add(j)
      adj[j].add(i)
    }
  }
  return adj.map(s => [...s])
}

/** earliest arrival at each node of a message flooded from `source`, and the neighbour it came from (-1 for the source) */
export function floodTimes (neighbors: number[][], source: number, delay: (a: number, b: number) => number): { at: number[], from: number[] } {
  const at = new Array<number>(neighbors.length).fill(Infinity)
  const from = new Array<number>(neighbors.length).fill(-1)
  const q = new EventQueue()
  at[source] = 0
  const visit = (u: number): void => {
    for (const v of neighbors[u]) {
      const t = at[u] + delay(u, v)
      if (t < at[v]) {
        at[v] = t
        from[v] = u
        q.push(t, () => { if (at[v] === t) visit(v) })
      }
    }
  }
  visit(source)
  for (let e = q.pop(); e != null; e = q.pop()) e.run()
  return { at, from }
}
