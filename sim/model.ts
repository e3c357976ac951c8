/**
 * The fleet model: a discrete-event simulation of one release spreading
 * through N nodes and a publisher (the seed), with the chunk transfers as a
 * fluid advanced every dtMs (fluid.ts). What happens, in order:
 *
 *   the publisher announces at publishDelayMs; the announcement floods the
 *   connection graph hop by hop (gossip); a node that has it refreshes its
 *   metadata and fetches the index (metaRoundTrips round trips to the peer
 *   that told it, then metadataMs of CPU), then joins the release's swarm:
 *   have sessions (one round trip) with its neighbours that joined, and from
 *   then on the download rules of swarm-node.ts with the project's own
 *   piece picker; a piece that arrives is announced to every session after
 *   the have batching and the latency; a node holding everything is done.
 *
 * Churn takes nodes away for a while: their transfers fail, their peers
 * forget what they held, and they come back with the pieces they had.
 * A rollout (rollout-sim.ts) runs on top when the parameters ask for one.
 */
import { allocate, mathisCap } from './fluid.js'
import { EventQueue, seededRandom } from './heap.js'
import { RolloutSim } from './rollout-sim.js'
import { HAVE_BATCH_MS, MAX_BATCH, SLOT_MS, SwarmNode, TICK_MS, UPLOAD_SLOTS } from './swarm-node.js'
import { buildTopology, floodTimes } from './topology.js'
import type { FluidNode } from './fluid.js'
import type { SimParams } from './params.js'
import type { Job, Request } from './swarm-node.js'

const MiB = 1024 * 1024

export interface SimResult {
  params: SimParams
  pieces: number
  /** ms from t=0 each node held the release (NaN: never), and the last */
  heldAt: number[]
  fleetMs: number
  /** the same over the nodes churn never took away */
  stayedMs: number
  /** chunk bytes the publisher sent, in release copies */
  publisherCopies: number
  /** control messages sent per node (have, GET, gossip forwards, sync requests, reports) */
  messagesPerNode: number
  /** of which gossip forwards of other nodes' reports */
  reportForwardsPerNode: number
  /** CPU seconds, all processes */
  cpuSeconds: number
  healthyAt?: number[]
  allHealthyMs?: number
  completedMs?: number
  wallMs: number
  events: number
}

type ActiveFlow = NonNullable<Job['flow']>

export class FleetSim {
  readonly p: SimParams
  readonly q = new EventQueue()
  readonly nodes: SwarmNode[]
  readonly publisher: number
  readonly sizes: number[]
  readonly averageSize: number
  readonly neighbors: number[][]
  now = 0
  events = 0
  private readonly flows = new Set<ActiveFlow>()
  private readonly random: () => number
  private seq = 0
  private dirtyList: SwarmNode[] = []
  private done = 0
  private readonly rollout?: RolloutSim
  private readonly churned = new Set<number>()
  readonly hopFrom: number[]
  readonly announceAt: number[]

  constructor (params: SimParams) {
    this.p = params
    this.random = seededRandom(params.seed)
    const m = Math.max(1, Math.round(params.bytes / params.avgPieceBytes))
    // FastCDC sizes: spread around the average (64 KiB to 1 MiB), scaled to the release size
    const raw = Array.from({ length: m }, () => 0.3 + 1.4 * this.random())
    const sum = raw.reduce((a, b) => a + b, 0)
    this.sizes = raw.map(r => Math.max(1, Math.round(r / sum * params.bytes)))
    this.averageSize = params.bytes / m
    this.publisher = params.nodes
    this.nodes = Array.from({ length: params.nodes + 1 }, (_x, i) => new SwarmNode(i, peerIdOf(i, params.seed), i === params.nodes ? (params.publisherLink ?? params.link) : params.link, m, i === params.nodes, seededRandom(params.seed * 7919 + i)))
    this.neighbors = buildTopology(params.nodes + 1, params.targetPeers, this.random)
    const flood = floodTimes(this.neighbors, this.publisher, (a, b) => this.oneWay(a, b) + 1)
    this.announceAt = flood.at.map(t => t + params.publishDelayMs)
    this.hopFrom = flood.from
    if (params.rollout != null) this.rollout = new RolloutSim(this, params.rollout)
  }

  oneWay (a: number, b: number): number {
    return this.nodes[a].link.latencyMs + this.nodes[b].link.latencyMs
  }

  rtt (a: number, b: number): number {
    return 2 * this.oneWay(a, b)
  }

  at (t: number, run: () => void): void {
    this.q.push(Math.max(t, this.now), run)
  }

  run (): SimResult {
    const wall = performance.now()
    const p = this.p
    const pub = this.nodes[this.publisher]
    this.at(p.publishDelayMs, () => { pub.joined = true; pub.joinedAt = this.now; this.openSessions(this.publisher) })
    for (let i = 0; i < p.nodes; i++) this.at(this.announceAt[i], () => { this.announced(i) })
    this.planChurn()
    this.rollout?.start()
    const cpu = { shared: p.cpu.mode === 'shared', cores: p.cpu.cores, inCost: p.cpu.inMsPerMiB / 1000 / MiB, outCost: p.cpu.outMsPerMiB / 1000 / MiB }
    // the reports every node forwards take part of each upload (gossip: D - 1 copies of every report)
    const reportLoad = p.reportIntervalMs > 0 ? p.nodes / (p.reportIntervalMs / 1000) * p.reportBytes * Math.max(0, p.gossipD - 1) : 0
    const fluid: FluidNode[] = this.nodes.map(n => ({ upBps: Math.max(n.link.upBps * 0.05, n.link.upBps - reportLoad), downBps: Math.max(n.link.downBps * 0.05, n.link.downBps - reportLoad), fixedMs: 0 }))
    let nextTick = 0
    for (let t = 0; t < p.maxSimMs; t += p.dtMs) {
      // rates for the step, from the flows now in flight
      const flows = [...this.flows]
      for (const f of flows) this.progress(f, t)
      for (let i = 0; i < fluid.length; i++) fluid[i].fixedMs = this.nodes[i].fixedMs
      const fixedDone = allocate(flows, fluid, cpu, p.dtMs)
      for (const f of flows) {
        const n = this.nodes[f.src]
        n.cpuMs += f.rate * p.dtMs / 1000 * cpu.outCost * 1000
        this.nodes[f.dst].cpuMs += f.rate * p.dtMs / 1000 * cpu.inCost * 1000
        if (f.rate > 0 && f.remaining / f.rate * 1000 <= p.dtMs) {
          const end = t + f.remaining / f.rate * 1000
          this.at(end, () => { this.flowDone(f) })
        }
      }
      for (let i = 0; i < this.nodes.length; i++) {
        if (fixedDone[i] <= 0) continue
        for (const then of this.nodes[i].doWork(fixedDone[i])) this.at(t + p.dtMs, then)
      }
      const end = t + p.dtMs
      while (this.q.next <= end) {
        const e = this.q.pop()!
        this.now = e.at
        this.events++
        e.run()
      }
      this.now = end
      if (end >= nextTick) {
        nextTick += TICK_MS
        for (const n of this.nodes) this.checkDeadlines(n)
      }
      const dirty = this.dirtyList
      this.dirtyList = []
      for (const n of dirty) this.schedule(n)
      const rolloutDone = this.rollout == null || this.rollout.finished
      if (this.done >= p.nodes && rolloutDone) break
    }
    return this.result(performance.now() - wall)
  }

  private result (wallMs: number): SimResult {
    const p = this.p
    const heldAt = this.nodes.slice(0, p.nodes).map(n => n.heldAt ?? NaN)
    const pub = this.nodes[this.publisher]
    const nodeMessages = this.nodes.slice(0, p.nodes).reduce((a, n) => a + n.messages, 0) / p.nodes
    // every node forwards every report it first hears to its other mesh peers: the rollout's outcome reports and the heartbeats
    const beats = p.reportIntervalMs > 0 ? p.nodes * this.now / p.reportIntervalMs : 0
    const forwards = ((this.rollout?.reportsSent ?? 0) + beats) * Math.max(0, p.gossipD - 1)
    return {
      params: p,
      pieces: this.sizes.length,
      heldAt,
      fleetMs: Math.max(...heldAt.map(t => Number.isNaN(t) ? Infinity : t)),
      stayedMs: Math.max(...heldAt.filter((_t, i) => !this.churned.has(i)).map(t => Number.isNaN(t) ? Infinity : t)),
      publisherCopies: pub.chunkUp / p.bytes,
      messagesPerNode: nodeMessages + forwards,
      reportForwardsPerNode: forwards,
      cpuSeconds: this.nodes.reduce((a, n) => a + n.cpuMs, 0) / 1000,
      healthyAt: this.rollout?.healthyAt,
      allHealthyMs: this.rollout?.allHealthyMs,
      completedMs: this.rollout?.completedMs,
      wallMs,
      events: this.events
    }
  }

  /** the announcement reached node i: refresh through the peer that told it, verify, join */
  private announced (i: number): void {
    const n = this.nodes[i]
    n.announcedAt = Math.min(n.announcedAt, this.now)
    if (!n.online || n.joined) return
    const from = this.hopFrom[i]
    n.messages += this.p.metaRoundTrips + Math.max(0, this.p.gossipD - 1)
    this.at(this.now + this.p.metaRoundTrips * this.rtt(i, from < 0 ? this.publisher : from), () => {
      n.addWork(this.p.cpu.metadataMs, () => { this.join(i) })
    })
  }

  private join (i: number): void {
    const n = this.nodes[i]
    if (!n.online || n.joined) return
    n.joined = true
    n.joinedAt = this.now
    n.newPicker()
    this.openSessions(i)
    this.touch(n)
  }

  /** have sessions with every neighbour in the swarm, a round trip from now */
  private openSessions (i: number): void {
    for (const j of this.neighbors[i]) {
      const b = this.nodes[j]
      if (!b.online || !b.joined) continue
      this.at(this.now + this.rtt(i, j), () => { this.session(i, j) })
    }
  }

  private session (i: number, j: number): void {
    const a = this.nodes[i]
    const b = this.nodes[j]
    if (!a.online || !b.online || a.sessions.has(j)) return
    // two complete holders have nothing to say to each other
    if (a.held.complete && b.held.complete) return
    a.sessions.set(j, { peer: j, have: cloneBits(b.held), haveVersion: 0, emptyAt: -1, emptyHave: -1 })
    b.sessions.set(i, { peer: i, have: cloneBits(a.held), haveVersion: 0, emptyAt: -1, emptyHave: -1 })
    a.picker?.peerAdded(b.held)
    b.picker?.peerAdded(a.held)
    a.messages++
    b.messages++
    this.touch(a)
    this.touch(b)
  }

  private touch (n: SwarmNode): void {
    if (n.dirty) return
    n.dirty = true
    this.dirtyList.push(n)
  }

  /** download.ts schedule(): fill each peer's requests in flight */
  private schedule (n: SwarmNode): void {
    n.dirty = false
    const picker = n.picker
    if (!n.online || picker == null || n.held.complete) return
    if (picker.endgame !== n.endgame) {
      n.endgame = picker.endgame
      n.version++
    }
    for (const [peer, session] of n.sessions) {
      if (n.dropped.has(peer) || !this.nodes[peer].online) continue
      if (session.emptyAt === n.version && session.emptyHave === session.haveVersion) continue
      const s = n.stat(peer, this.now)
      for (let room = n.target(s, this.now, this.averageSize) - s.inflight; room > 0;) {
        const pieces: number[] = []
        while (pieces.length < Math.min(room, MAX_BATCH)) {
          const piece = picker.pick(String(peer), session.have)
          if (piece === undefined) {
            session.emptyAt = n.version
            session.emptyHave = session.haveVersion
            break
          }
          if (session.have.complete && !picker.endgame && picker.expected(piece) > 1 && s.inflight + pieces.length > 0) {
            // the seed rule holds until a request ends or a peer leaves (both move the node's version)
            session.emptyAt = n.version
            session.emptyHave = session.haveVersion
            break
          }
          picker.requested(piece, String(peer))
          pieces.push(piece)
        }
        if (pieces.length === 0) break
        room -= pieces.length
        this.hint(n, pieces)
        this.request(n, peer, pieces)
      }
    }
  }

  /** the fetching hints every peer gets (gathered for 20 ms: counted once per batch) */
  private hint (n: SwarmNode, pieces: number[]): void {
    if (this.now - n.lastHintBatch >= HAVE_BATCH_MS) {
      n.lastHintBatch = this.now
      n.messages += n.sessions.size
    }
    for (const i of pieces) {
      if (n.hinted[i] === 1) continue
      n.hinted[i] = 1
      for (const [peer, s] of n.sessions) {
        if (s.have.complete) continue
        const b = this.nodes[peer]
        b.fetching[i]++
      }
    }
  }

  private request (n: SwarmNode, peer: number, pieces: number[]): void {
    const s = n.stat(peer, this.now)
    const bytes = pieces.reduce((a, i) => a + this.sizes[i], 0)
    const expectedMs = (s.inflight * this.averageSize + bytes) / n.rate(s, this.now) * 1000
    const req: Request = { node: n.index, peer, pieces, arrived: 0, deadline: this.now + 2_000 + 3 * expectedMs, stalled: false, open: true, jobs: [] }
    n.requests.add(req)
    for (const i of pieces) n.asked[i]++
    s.inflight += pieces.length
    n.messages++
    n.addWork(this.p.cpu.requestMs)
    const up = this.nodes[peer]
    this.at(this.now + this.oneWay(n.index, peer), () => {
      if (!req.open || !up.online) return
      up.addWork(this.p.cpu.requestMs)
      const list = up.queue.get(n.index) ?? []
      if (list.length === 0) up.order.push(n.index)
      for (const piece of pieces) {
        const job: Job = { req, piece, bytes: this.sizes[piece], seq: this.seq++, slotHeld: false, cancelled: false }
        req.jobs.push(job)
        list.push(job)
      }
      up.queue.set(n.index, list)
      this.dispatch(up)
    })
  }

  /** upload-scheduler.ts: grant free slots */
  private dispatch (up: SwarmNode): void {
    while (up.active < UPLOAD_SLOTS) {
      const job = up.nextJob()
      if (job == null) return
      up.active++
      job.slotHeld = true
      up.sent[job.piece]++
      const rtt = this.rtt(up.index, job.req.node)
      const f: ActiveFlow = { src: up.index, dst: job.req.node, remaining: job.bytes, cap: mathisCap(rtt, Math.max(up.link.loss, this.nodes[job.req.node].link.loss)), rate: 0, job, startedAt: this.now, lastUpdate: this.now, ended: false }
      job.flow = f
      this.flows.add(f)
      // a slot is given back after 2 s even while its write goes on
      this.at(this.now + SLOT_MS, () => { this.freeSlot(job) })
    }
  }

  private freeSlot (job: Job): void {
    if (!job.slotHeld) return
    job.slotHeld = false
    const up = this.nodes[job.flow?.src ?? job.req.peer]
    up.active--
    this.dispatch(up)
  }

  private progress (f: ActiveFlow, t: number): void {
    const moved = Math.min(f.remaining, f.rate * (t - f.lastUpdate) / 1000)
    f.remaining -= moved
    f.lastUpdate = t
  }

  /** a flow ends: bytes counted at both ends; the slot freed; `arrived` false for a cut transfer */
  private endFlow (f: ActiveFlow, arrived: boolean): void {
    if (f.ended) return
    this.progress(f, this.now)
    f.ended = true
    this.flows.delete(f)
    const moved = arrived ? f.job.bytes : f.job.bytes - f.remaining
    this.nodes[f.src].chunkUp += moved
    this.nodes[f.dst].chunkDown += moved
    this.freeSlot(f.job)
  }

  private flowDone (f: ActiveFlow): void {
    if (f.ended) return
    this.endFlow(f, true)
    const job = f.job
    this.at(this.now + this.oneWay(f.src, f.dst), () => { this.arrived(job) })
  }

  /** a chunk reached its downloader, verified */
  private arrived (job: Job): void {
    const req = job.req
    const n = this.nodes[req.node]
    if (!req.open || !n.online) return
    req.arrived++
    const s = n.stats.get(req.peer)
    if (s != null) { s.bytes += job.bytes; s.failures = 0 }
    if (!n.held.has(job.piece)) {
      n.held.set(job.piece)
      n.picker?.received(job.piece, String(req.peer))
      this.announce(n, job.piece)
      // other requests whose pieces are all held now are cancelled
      for (const r of [...n.requests]) {
        if (r !== req && r.pieces.includes(job.piece) && r.pieces.every(i => n.held.has(i))) this.closeRequest(r, true)
      }
      if (n.held.complete) this.complete(n)
    }
    if (req.arrived >= req.pieces.length) this.closeRequest(req, false)
    this.touch(n)
  }

  private complete (n: SwarmNode): void {
    n.heldAt = this.now
    this.done++
    for (const r of [...n.requests]) this.closeRequest(r, true)
    this.rollout?.held(n.index)
  }

  /** the request ends at the downloader; a cancelled one stops at the uploader a one-way trip later */
  private closeRequest (req: Request, cancel: boolean): void {
    if (!req.open) return
    req.open = false
    const n = this.nodes[req.node]
    n.requests.delete(req)
    for (const i of req.pieces) n.asked[i]--
    const s = n.stats.get(req.peer)
    if (s != null) s.inflight -= req.pieces.length
    for (const i of req.pieces) n.picker?.finished(i, String(req.peer))
    // a piece it did not get may be asked of anyone again; this peer has room again
    if (req.pieces.some(i => !n.held.has(i))) n.version++
    const session = n.sessions.get(req.peer)
    if (session != null) session.emptyAt = -1
    if (cancel) {
      this.at(this.now + this.oneWay(req.node, req.peer), () => {
        for (const job of req.jobs) {
          job.cancelled = true
          if (job.flow != null) this.endFlow(job.flow, false)
        }
      })
    }
    this.touch(n)
  }

  /** the have increment: every session hears of the piece after the batching and the latency */
  private announce (n: SwarmNode, piece: number): void {
    if (this.now - n.lastAddedBatch >= HAVE_BATCH_MS) {
      n.lastAddedBatch = this.now
      n.messages += n.sessions.size
    }
    const hinted = n.hinted[piece] === 1
    n.hinted[piece] = 0
    this.at(this.now + HAVE_BATCH_MS + n.link.latencyMs + this.p.link.latencyMs, () => {
      for (const [peer] of n.sessions) {
        const b = this.nodes[peer]
        const view = b.sessions.get(n.index)
        if (view == null) continue
        if (hinted && b.fetching[piece] > 0) b.fetching[piece]--
        if (view.have.set(piece)) {
          // a piece held or asked for already gives no new pick
          b.picker?.peerHas(piece)
          if (!b.held.has(piece) && b.asked[piece] === 0) {
            view.haveVersion++
            this.touch(b)
          }
        }
      }
    })
  }

  /** download.ts tick(): requests past their deadline mark their pieces stalled */
  private checkDeadlines (n: SwarmNode): void {
    for (const r of n.requests) {
      if (!r.stalled && this.now > r.deadline) {
        r.stalled = true
        for (const i of r.pieces) n.picker?.stall(i)
        n.version++
        this.touch(n)
      }
    }
  }

  private planChurn (): void {
    const c = this.p.churn
    const count = Math.round(c.fraction * this.p.nodes)
    const chosen = new Set<number>()
    while (chosen.size < count) chosen.add(Math.floor(this.random() * this.p.nodes))
    for (const i of chosen) {
      this.churned.add(i)
      const leave = this.random() * c.leaveByMs
      const back = leave + c.downMinMs + this.random() * (c.downMaxMs - c.downMinMs)
      this.at(leave, () => { this.leave(i) })
      this.at(back, () => { this.rejoin(i) })
    }
  }

  private leave (i: number): void {
    const n = this.nodes[i]
    if (!n.online || n.held.complete) return
    n.online = false
    for (const r of [...n.requests]) this.closeRequest(r, true)
    // its uploads stop; the downloaders see their requests fail
    for (const f of [...this.flows]) if (f.src === i || f.dst === i) this.endFlow(f, false)
    for (const list of n.queue.values()) for (const j of list) j.cancelled = true
    n.queue.clear()
    n.order = []
    n.active = 0
    for (const [peer, s] of n.sessions) {
      const b = this.nodes[peer]
      const view = b.sessions.get(i)
      if (view != null) {
        b.sessions.delete(i)
        b.picker?.peerRemoved(view.have)
        b.version++
      }
      for (const r of [...b.requests]) if (r.peer === i) this.closeRequest(r, false)
      this.touch(b)
      void s
    }
    n.sessions.clear()
    n.fetching.fill(0)
    n.hinted.fill(0)
    n.stats.clear()
    n.joined = false
  }

  private rejoin (i: number): void {
    const n = this.nodes[i]
    if (n.online) return
    n.online = true
    // it learns of the release from the sync summary of its peers on reconnecting
    if (n.announcedAt <= this.now || this.announceAt[i] <= this.now) this.announced(i)
  }
}

function cloneBits (b: SwarmNode['held']): SwarmNode['held'] {
  return new (b.constructor as new (size: number, bytes?: Uint8Array) => SwarmNode['held'])(b.size, b.bytes.slice())
}

/** a stable, distinct peer id string per node (the wave hash takes any string) */
export function peerIdOf (i: number, seed: number): string {
  return `sim-${seed}-node-${i}`
}
