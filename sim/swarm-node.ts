/**
 * One node of the fleet model as the swarm code sees it: its have sessions
 * (what each peer announced), the project's own PiecePicker, the download
 * rules of src/swarm/download.ts (requests in flight per peer from its
 * measured rate, up to 3 pieces per GET, the seed rule, deadlines that mark
 * pieces stalled, duplicates cancelled) and the upload side of
 * src/swarm/upload-scheduler.ts (4 slots, round-robin over the peers that
 * ask, fewest sends first, a slot given back after 2 s). The constants are
 * those files' own (not exported there, so repeated here).
 */
import { Bitfield } from '../protocols/shared/index.js'
import { PiecePicker } from '../src/swarm/picker.js'
import type { Flow } from './fluid.js'
import type { LinkModel } from './params.js'

export const UPLOAD_SLOTS = 4
export const SLOT_MS = 2_000
export const MIN_INFLIGHT = 2
export const MAX_INFLIGHT = 6
/** a fast peer gets a fifth of a second of its rate in flight, up to 16 pieces */
export const MAX_FAST_INFLIGHT = 16
export const FAST_WINDOW_S = 0.2
export const MAX_BATCH = 3
export const FIRST_RATE = 256 * 1024
/** download.ts checks deadlines this often */
export const TICK_MS = 250
/** have increments and fetching hints are gathered this long (protocols/have) */
export const HAVE_BATCH_MS = 20

export interface Session {
  peer: number
  /** what the peer announced it holds, and a count of its changes */
  have: Bitfield
  haveVersion: number
  /** the node's and the session's versions when a pick for this peer last found nothing: picking again finds nothing until either moves */
  emptyAt: number
  emptyHave: number
}

export interface PeerStat {
  inflight: number
  failures: number
  bytes: number
  since: number
}

export interface Request {
  node: number
  peer: number
  pieces: number[]
  arrived: number
  deadline: number
  stalled: boolean
  open: boolean
  jobs: Job[]
}

/** one chunk of a request on the uploader: queued for a slot, then a flow */
export interface Job {
  req: Request
  piece: number
  bytes: number
  seq: number
  flow?: Flow & { job: Job, startedAt: number, lastUpdate: number, ended: boolean }
  slotHeld: boolean
  cancelled: boolean
}

export class SwarmNode {
  online = true
  joined = false
  announcedAt = Infinity
  joinedAt?: number
  heldAt?: number
  readonly held: Bitfield
  picker?: PiecePicker
  readonly sessions = new Map<number, Session>()
  /** peers in sessions that said they are fetching each piece */
  readonly fetching: Uint16Array
  /** this node told its peers it is fetching the piece */
  readonly hinted: Uint8Array
  /** requests out for each piece */
  readonly asked: Uint8Array
  readonly stats = new Map<number, PeerStat>()
  readonly requests = new Set<Request>()
  readonly failures = new Map<number, number>()
  readonly dropped = new Set<number>()
  // upload side
  readonly queue = new Map<number, Job[]>()
  order: number[] = []
  active = 0
  readonly sent: Uint32Array
  // CPU: fixed work waiting, with what to do when it is done
  fixedMs = 0
  readonly tasks: Array<{ ms: number, then?: () => void }> = []
  cpuMs = 0
  // what it sent: control messages, chunk bytes, and received
  messages = 0
  chunkUp = 0
  chunkDown = 0
  lastAddedBatch = -Infinity
  lastHintBatch = -Infinity
  dirty = false
  /** bumped whenever a piece may have become pickable again (a request ended, a piece stalled, the end-game began) */
  version = 0
  endgame = false

  constructor (readonly index: number, readonly peerId: string, readonly link: LinkModel, readonly pieces: number, readonly seed: boolean, readonly random: () => number) {
    this.held = new Bitfield(pieces)
    this.fetching = new Uint16Array(pieces)
    this.hinted = new Uint8Array(pieces)
    this.asked = new Uint8Array(pieces)
    this.sent = new Uint32Array(pieces)
    if (seed) for (let i = 0; i < pieces; i++) this.held.set(i)
  }

  /** a fresh picker over what is held (at the start, and after the node comes back) */
  newPicker (): void {
    this.picker = new PiecePicker(this.pieces, this.held, { random: this.random, fetching: (i) => this.fetching[i] })
    for (const s of this.sessions.values()) this.picker.peerAdded(s.have)
  }

  stat (peer: number, now: number): PeerStat {
    let s = this.stats.get(peer)
    if (s == null) {
      s = { inflight: 0, failures: 0, bytes: 0, since: now }
      this.stats.set(peer, s)
    }
    return s
  }

  rate (s: PeerStat, now: number): number {
    return s.bytes > 0 ? s.bytes / Math.max(1, (now - s.since) / 1000) : FIRST_RATE
  }

  target (s: PeerStat, now: number, averageSize: number): number {
    const perSecond = this.rate(s, now) / averageSize
    return Math.max(MIN_INFLIGHT, Math.min(MAX_INFLIGHT, Math.ceil(perSecond) + 1), Math.min(MAX_FAST_INFLIGHT, Math.ceil(perSecond * FAST_WINDOW_S)))
  }

  addWork (ms: number, then?: () => void): void {
    if (ms <= 0) { then?.(); return }
    this.tasks.push({ ms, then })
    this.fixedMs += ms
  }

  /** `done` core-ms of fixed work finished: returns the callbacks of the tasks that completed */
  doWork (done: number): Array<() => void> {
    const out: Array<() => void> = []
    this.cpuMs += done
    this.fixedMs = Math.max(0, this.fixedMs - done)
    while (done > 0 && this.tasks.length > 0) {
      const t = this.tasks[0]
      const d = Math.min(done, t.ms)
      t.ms -= d
      done -= d
      if (t.ms <= 1e-9) {
        this.tasks.shift()
        if (t.then != null) out.push(t.then)
      }
    }
    return out
  }

  /** the uploader's next job: round-robin over peers, then fewest sends, then first come */
  nextJob (): Job | undefined {
    while (this.order.length > 0) {
      const peer = this.order.shift()!
      const list = this.queue.get(peer) ?? []
      const live = list.filter(j => !j.cancelled)
      if (live.length === 0) { this.queue.delete(peer); continue }
      let at = 0
      for (let i = 1; i < live.length; i++) {
        const a = live[i]
        const b = live[at]
        if (this.sent[a.piece] < this.sent[b.piece] || (this.sent[a.piece] === this.sent[b.piece] && a.seq < b.seq)) at = i
      }
      const job = live[at]
      const rest = live.filter(j => j !== job)
      if (rest.length > 0) {
        this.queue.set(peer, rest)
        this.order.push(peer)
      } else {
        this.queue.delete(peer)
      }
      return job
    }
    return undefined
  }
}
