/**
 * A rollout on top of the fleet model, decided by the project's own code:
 * waves parsed by src/rollout/document.ts, count waves filled by
 * chooseCountPeers, each node's wave by waveOf and its install slot by
 * installSlot, the open wave judged by waveTally and gateDecision, as the
 * coordinator (src/rollout/coordinator.ts) does once a second. A document
 * change reaches each node as an announcement does, plus its metadata round
 * trips; a node reports each outcome (waiting, installing, healthy), and
 * its report reaches the coordinator along the same paths.
 */
import { parseGate, parseWaves } from '../src/rollout/document.js'
import { CANARY_TAG, chooseCountPeers, gateDecision, installSlot, nodePosition, waveOf, waveTally } from '../src/rollout/waves.js'
import type { FleetSim } from './model.js'
import type { RolloutModel } from './params.js'
import type { NodeOutcome, RolloutDocument } from '../src/rollout/types.js'

const TICK_MS = 1_000
const SLOT_MS = 2_000
/** metadata round trips to learn a new rollout document (timestamp, snapshot, rollouts) */
const DOC_ROUND_TRIPS = 3

interface NodeState {
  wave: number
  /** the open wave this node knows of, and when it first saw each */
  open: number
  slotStart: Map<number, number>
  outcome: NodeOutcome | ''
  tags: string[]
}

export class RolloutSim {
  doc: RolloutDocument
  readonly healthyAt: number[]
  allHealthyMs?: number
  completedMs?: number
  reportsSent = 0
  finished = false
  private readonly nodes: NodeState[]
  private readonly book = new Map<string, { peerId: string, wave: number, outcome: NodeOutcome }>()
  private waveOpenedAt = 0
  private lastChangeAt = 0
  private healthy = 0

  constructor (private readonly sim: FleetSim, private readonly model: RolloutModel) {
    const now = new Date(0).toISOString()
    this.doc = {
      format: 'umesh-rollout/1',
      id: `sim-${sim.p.seed}`,
      package: 'app',
      version: '2.0.0',
      waves: parseWaves(model.waves),
      open: -1,
      state: 'running',
      rollback: false,
      gate: parseGate(model.gate),
      abort: 0.5,
      maxParallel: model.maxParallel,
      manual: false,
      downgrade: false,
      critical: false,
      created: now,
      updated: now,
      reason: ''
    } as RolloutDocument
    this.healthyAt = new Array<number>(sim.p.nodes).fill(NaN)
    this.nodes = Array.from({ length: sim.p.nodes }, (_x, i) => ({ wave: -1, open: -1, slotStart: new Map(), outcome: '', tags: i === 0 ? [CANARY_TAG] : [] }))
  }

  start (): void {
    this.sim.at(this.model.startAtMs + TICK_MS / 2, () => { this.tick() })
  }

  /** node i holds the release now */
  held (i: number): void {
    this.consider(i)
  }

  private tick (): void {
    const sim = this.sim
    const doc = this.doc
    if (doc.state !== 'running') return
    if (doc.open === -1) {
      // every node has reported under earlier rollouts: all are known
      const known = this.nodes.map((n, i) => ({ peerId: sim.nodes[i].peerId, tags: n.tags }))
      this.change({ ...doc, waves: chooseCountPeers(known, doc), open: 0 })
    } else {
      const tally = waveTally(doc, [...this.book.values()])
      const open = tally[doc.open]
      const expected = this.nodes.filter(n => n.wave === doc.open).length
      let decision = gateDecision({ doc, tally: open, waveOpenedAt: this.waveOpenedAt, lastChangeAt: Math.max(this.lastChangeAt, this.waveOpenedAt), now: sim.now, expectedNodes: Math.max(expected, open.nodes) })
      if (open.nodes === 0 && expected === 0 && sim.now - this.waveOpenedAt >= doc.gate.soakMs) decision = { action: doc.open === doc.waves.length - 1 ? 'complete' : 'promote', reason: 'empty wave' }
      if (decision.action === 'promote') this.change({ ...doc, open: doc.open + 1 })
      else if (decision.action === 'complete') {
        this.doc = { ...doc, state: 'completed' }
        this.completedMs = sim.now
        this.finished = true
        return
      }
    }
    sim.at(sim.now + TICK_MS, () => { this.tick() })
  }

  /** a new document: signed, announced, fetched by every node */
  private change (doc: RolloutDocument): void {
    const sim = this.sim
    this.doc = doc
    this.waveOpenedAt = sim.now
    this.lastChangeAt = sim.now
    for (let i = 0; i < this.nodes.length; i++) {
      const n = this.nodes[i]
      if (n.wave === -1) n.wave = waveOf({ peerId: sim.nodes[i].peerId, tags: n.tags, doc })
      const from = sim.hopFrom[i] < 0 ? sim.publisher : sim.hopFrom[i]
      const reach = sim.announceAt[i] - sim.p.publishDelayMs + DOC_ROUND_TRIPS * sim.rtt(i, from)
      const open = doc.open
      sim.at(sim.now + reach, () => {
        sim.nodes[i].messages += DOC_ROUND_TRIPS + Math.max(0, sim.p.gossipD - 1)
        sim.nodes[i].addWork(sim.p.cpu.metadataMs / 2, () => { this.docSeen(i, open) })
      })
    }
  }

  private docSeen (i: number, open: number): void {
    const n = this.nodes[i]
    if (open <= n.open) return
    n.open = open
    if (!n.slotStart.has(open)) n.slotStart.set(open, this.sim.now)
    if (n.outcome === '') this.report(i, 'waiting')
    this.consider(i)
  }

  /** node-rollouts.ts: install once its wave is open, it holds the release and its slot has come */
  private consider (i: number): void {
    const sim = this.sim
    const n = this.nodes[i]
    if (n.open < n.wave || n.wave < 0 || sim.nodes[i].heldAt == null || (n.outcome !== 'waiting' && n.outcome !== '')) return
    const doc = this.doc
    const spec = doc.waves[n.wave]
    const previousFraction = n.wave === 0 ? 0 : (doc.waves.slice(0, n.wave).reverse().find(w => w.fraction != null)?.fraction ?? 0)
    const expected = Math.max(1, [...this.book.values()].filter(r => r.wave === n.wave).length)
    const slot = installSlot({ position: nodePosition(sim.nodes[i].peerId, doc.id), wave: spec, previousFraction, expectedNodes: expected, maxParallel: doc.maxParallel, peerId: sim.nodes[i].peerId })
    const start = n.slotStart.get(n.open) ?? sim.now
    const at = start + slot * SLOT_MS
    if (sim.now < at) {
      sim.at(at, () => { this.consider(i) })
      return
    }
    this.report(i, 'installing')
    sim.at(sim.now + this.model.installMs, () => {
      this.report(i, 'healthy')
      this.healthyAt[i] = sim.now
      if (++this.healthy === this.nodes.length) this.allHealthyMs = sim.now
    })
  }

  /** a signed report, gossiped: it reaches the coordinator along the announcement's path */
  private report (i: number, outcome: NodeOutcome): void {
    const sim = this.sim
    const n = this.nodes[i]
    n.outcome = outcome
    this.reportsSent++
    sim.nodes[i].messages++
    const delay = sim.announceAt[i] - sim.p.publishDelayMs
    const peerId = sim.nodes[i].peerId
    sim.at(sim.now + delay, () => {
      const before = this.book.get(peerId)?.outcome
      this.book.set(peerId, { peerId, wave: n.wave, outcome })
      if (before !== outcome) this.lastChangeAt = sim.now
    })
  }
}
