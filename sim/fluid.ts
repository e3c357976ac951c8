/**
 * Rates of the chunk transfers in flight, as a fluid: each transfer is a
 * TCP flow from an uploader to a downloader. Links are shared about
 * max-min fairly (each end's capacity split among its flows, what one end
 * cannot use given to the others), a lossy path caps a flow by Mathis'
 * formula, and then CPU: a process handles its flows at a cost per byte in
 * and out, after its fixed work (requests, metadata), at most one core per
 * process (one JavaScript thread), and on a shared machine all processes
 * split its cores fairly. What one process cannot handle slows the flow at
 * both ends.
 */
export interface Flow {
  src: number
  dst: number
  remaining: number
  /** bytes per second, the Mathis cap of its path (Infinity: none) */
  cap: number
  rate: number
}

export interface FluidNode {
  upBps: number
  downBps: number
  /** core-ms of fixed work waiting */
  fixedMs: number
}

export interface CpuShare {
  shared: boolean
  cores: number
  /** core-seconds per byte received / sent */
  inCost: number
  outCost: number
}

/** a stand-in for an unlimited link, so sums stay finite */
const UNLIMITED = 1e12

/** sets each flow's rate; returns the core-ms of fixed work each node gets done in `dtMs` */
export function allocate (flows: Flow[], nodes: FluidNode[], cpu: CpuShare, dtMs: number): Float64Array {
  const n = nodes.length
  const nUp = new Uint32Array(n)
  const nDown = new Uint32Array(n)
  for (const f of flows) { nUp[f.src]++; nDown[f.dst]++ }
  const up = (i: number): number => Math.min(UNLIMITED, nodes[i].upBps)
  const down = (i: number): number => Math.min(UNLIMITED, nodes[i].downBps)
  // links: each end's fair share; an uploader's share its downloaders cannot take goes to its other flows
  const usedUp = new Float64Array(n)
  const byUploader = new Uint32Array(n)
  for (const f of flows) {
    const senderShare = up(f.src) / nUp[f.src]
    f.rate = Math.min(senderShare, down(f.dst) / nDown[f.dst], f.cap)
    usedUp[f.src] += f.rate
    if (f.rate >= senderShare) byUploader[f.src]++
  }
  for (const f of flows) {
    const senderShare = up(f.src) / nUp[f.src]
    if (f.rate >= senderShare && byUploader[f.src] > 0) f.rate = Math.min(f.cap, f.rate + (up(f.src) - usedUp[f.src]) / byUploader[f.src])
  }
  const usedDown = new Float64Array(n)
  for (const f of flows) usedDown[f.dst] += f.rate
  for (const f of flows) if (usedDown[f.dst] > down(f.dst)) f.rate *= down(f.dst) / usedDown[f.dst]

  // CPU: demand per process in cores, fixed work first
  const dataDemand = new Float64Array(n)
  for (const f of flows) {
    dataDemand[f.src] += f.rate * cpu.outCost
    dataDemand[f.dst] += f.rate * cpu.inCost
  }
  const perThread = Math.min(1, cpu.cores)
  // fixed work first (control messages, verification: small and prompt), at most one thread each
  const fixedWant = new Float64Array(n)
  for (let i = 0; i < n; i++) fixedWant[i] = nodes[i].fixedMs > 0 ? Math.min(perThread, nodes[i].fixedMs / dtMs) : 0
  const fixedGrant = cpu.shared ? waterFill(fixedWant, cpu.cores) : fixedWant
  const fixedDone = new Float64Array(n)
  let fixedUsed = 0
  for (let i = 0; i < n; i++) {
    fixedDone[i] = Math.min(nodes[i].fixedMs, fixedGrant[i] * dtMs)
    fixedUsed += fixedDone[i] / dtMs
  }
  // then the data: on a shared machine one pool, every runnable flow slowed alike (the scheduler runs whoever has
  // work, so no core idles while another process waits); on machines of their own each process alone; one thread each
  let total = 0
  for (let i = 0; i < n; i++) total += dataDemand[i]
  const pool = cpu.shared && total > 0 ? Math.min(1, Math.max(0, cpu.cores - fixedUsed) / total) : 1
  const scale = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const room = Math.max(0, (cpu.shared ? perThread : Math.min(perThread, cpu.cores)) - fixedDone[i] / dtMs)
    scale[i] = dataDemand[i] > 0 ? Math.min(pool, room / dataDemand[i]) : 1
  }
  for (const f of flows) f.rate *= Math.min(scale[f.src], scale[f.dst])
  return fixedDone
}

/** shares `total` among demands max-min fairly */
export function waterFill (demand: Float64Array, total: number): Float64Array {
  const out = new Float64Array(demand.length)
  let sum = 0
  for (const d of demand) sum += d
  if (sum <= total) {
    out.set(demand)
    return out
  }
  const order = [...demand.keys()].filter(i => demand[i] > 0).sort((a, b) => demand[a] - demand[b])
  let left = total
  for (let k = 0; k < order.length; k++) {
    const share = left / (order.length - k)
    const i = order[k]
    out[i] = Math.min(demand[i], share)
    left -= out[i]
  }
  return out
}

/** Mathis et al.: a TCP flow's rate on a path with this RTT and loss, bytes per second */
export function mathisCap (rttMs: number, loss: number, mss = 1448): number {
  if (loss <= 0 || rttMs <= 0) return Infinity
  return mss / (rttMs / 1000) * 1.22 / Math.sqrt(loss)
}
