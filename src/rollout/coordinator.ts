/**
 * The coordinator: a publisher node started with --coordinator holds the
 * rollouts key (in its repository) and steers every rollout in it. It takes
 * the nodes' signed reports from the reports topic (a report whose signature
 * does not match its peer is rejected before gossipsub forwards it), and
 * once a second, for each running rollout: opens the first wave (filling
 * count waves such as `canary:1` from the nodes it has heard of), judges the
 * open wave's gate after its soak time and opens the next, halts and asks
 * for rollback when failures reach the abort threshold, and completes after
 * the last wave. Each change is a re-signed rollout document the publisher
 * announces. Events go to webhooks (never blocking) and to the state file
 * `<repo>/coordinator/state.json` that `umesh rollout status` and
 * `umesh fleet` read.
 */
import { EventEmitter } from 'node:events'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomic } from '../util/fs.js'
import { reportsTopic } from '../network/protocol-ids.js'
import { Repository } from '../trust/repository.js'
import { changeRollout, listRollouts } from './repo-rollouts.js'
import { MIN_UNREACHABLE_MS } from './heartbeat.js'
import { newReportCounts, ReportBook, reportValidator } from './reports.js'
import { chooseCountPeers, gateDecision, isSelected, waveOf, waveTally } from './waves.js'
import { Notifier } from './webhooks.js'
import type { GossipSub } from '@libp2p/gossipsub'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import type { NodeReport, RolloutDocument, RolloutEvent } from './types.js'

export const COORDINATOR_DIR = 'coordinator'
export const STATE_FILE = 'state.json'
/** a node not heard from for this long is shown as unreachable in a fleet of up to 1,000 nodes (longer in a larger one: heartbeat.ts) */
export const UNREACHABLE_MS = MIN_UNREACHABLE_MS

export interface CoordinatorInit {
  /** the repository whose rollouts this node steers (it holds the rollouts key) */
  repoDir: string
  network: string
  /** URLs that get every rollout event as JSON */
  webhooks: string[]
  /** one pass over every rollout this often (default 1 s) */
  tickMs?: number
}

export interface CoordinatorComponents {
  pubsub: GossipSub
  logger: ComponentLogger
}

interface RolloutProgress {
  /** the open wave and state last seen, to notice an operator's promote, pause, resume or halt */
  seenOpen: number
  seenState: string
  waveOpenedAt: number
  lastChangeAt: number
  /** outcome per peer, to notice changes */
  outcomes: Record<string, string>
  rolledBackNotified: boolean
  events: Array<{ at: string, event: RolloutEvent, detail: string }>
}

export interface CoordinatorState {
  updated: string
  rollouts: Record<string, RolloutProgress & { package: string, version: string }>
  book: unknown
}

export function coordinatorStateFile (repoDir: string): string {
  return join(repoDir, COORDINATOR_DIR, STATE_FILE)
}

export function readCoordinatorState (repoDir: string): CoordinatorState | undefined {
  const file = coordinatorStateFile(repoDir)
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined
}

/** what the coordinator tells listeners in its process (the HTTP API's event stream) */
export interface CoordinatorEvents {
  /** a rollout event, as webhooks get it */
  rollout: [{ at: string, rolloutId: string, event: RolloutEvent, detail: string } & Record<string, unknown>]
  /** a node's verified report, once accepted into the book */
  report: [NodeReport]
}

export class Coordinator extends EventEmitter<CoordinatorEvents> {
  readonly book: ReportBook
  /** reports on the topic since start, by verdict */
  readonly reportCounts = newReportCounts()
  private readonly progress = new Map<string, RolloutProgress>()
  private readonly notifier: Notifier
  private timer?: NodeJS.Timeout
  private busy = false
  private readonly log: Logger
  private readonly topic: string

  constructor (private readonly components: CoordinatorComponents, private readonly init: CoordinatorInit) {
    super()
    this.log = components.logger.forComponent('umesh:coordinator')
    this.topic = reportsTopic(init.network)
    const saved = readCoordinatorState(init.repoDir)
    this.book = saved?.book != null ? ReportBook.fromJSON(saved.book as any) : new ReportBook()
    for (const [id, p] of Object.entries(saved?.rollouts ?? {})) this.progress.set(id, p)
    this.notifier = new Notifier({ urls: init.webhooks, log: components.logger.forComponent('umesh:webhooks') })
  }

  start (): void {
    const { pubsub } = this.components
    const topic = this.topic
    pubsub.topicValidators.set(topic, reportValidator((report) => this.onReport(report), this.log, this.reportCounts))
    pubsub.subscribe(topic)
    this.timer = setInterval(() => { void this.tick() }, this.init.tickMs ?? 1_000)
    this.timer.unref()
  }

  /** stops taking reports and steering; webhook events still queued get up to 2 s to go out */
  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.components.pubsub.unsubscribe(this.topic)
    this.components.pubsub.topicValidators.delete(this.topic)
    await this.notifier.flush(2_000).catch(() => {})
    this.notifier.stop()
  }

  /** the events of one rollout, oldest first (the last 200) */
  eventsOf (rolloutId: string): Array<{ at: string, event: RolloutEvent, detail: string }> {
    return this.progress.get(rolloutId)?.events ?? []
  }

  /** true when the report is new to this coordinator */
  private onReport (report: NodeReport): boolean {
    if (!this.book.accept(report)) return false
    this.emit('report', report)
    const p = this.progress.get(report.rolloutId)
    if (p == null) return true
    const before = p.outcomes[report.peerId]
    if (before !== report.outcome) {
      p.outcomes[report.peerId] = report.outcome
      p.lastChangeAt = Date.now()
      if (report.outcome === 'failed') this.event(report.rolloutId, 'node-failed', `${report.peerId} failed in wave ${report.wave}: ${report.reason}`, { package: report.package, version: report.version, wave: report.wave, peerId: report.peerId, reason: report.reason })
    }
    return true
  }

  private event (rolloutId: string, event: RolloutEvent, detail: string, data: Record<string, unknown>): void {
    const p = this.progress.get(rolloutId)
    const at = new Date().toISOString()
    p?.events.push({ at, event, detail })
    if (p != null && p.events.length > 200) p.events.splice(0, p.events.length - 200)
    this.log('rollout %s: %s: %s', rolloutId, event, detail)
    this.notifier.notify(event, { rolloutId, detail, ...data })
    this.emit('rollout', { ...data, at, rolloutId, event, detail })
  }

  private progressOf (doc: RolloutDocument): RolloutProgress {
    let p = this.progress.get(doc.id)
    if (p == null) {
      p = { seenOpen: doc.open, seenState: doc.state, waveOpenedAt: Date.now(), lastChangeAt: Date.now(), outcomes: {}, rolledBackNotified: false, events: [] }
      this.progress.set(doc.id, p)
      for (const r of this.book.latest(doc.id)) p.outcomes[r.peerId] = r.outcome
    }
    return p
  }

  /** one pass over every rollout; changes are signed into the repository */
  async tick (): Promise<void> {
    if (this.busy) return
    this.busy = true
    try {
      const repo = Repository.open(this.init.repoDir)
      for (const doc of listRollouts(repo)) this.step(repo, doc)
      this.save()
    } catch (err) {
      this.log.error('coordinator tick failed - %e', err)
    } finally {
      this.busy = false
    }
  }

  private step (repo: Repository, doc: RolloutDocument): void {
    const p = this.progressOf(doc)
    const data = { package: doc.package, version: doc.version }
    // changes made by the operator (umesh rollout promote | pause | resume | halt) since the last pass
    if (doc.open !== p.seenOpen && doc.open >= 0) {
      if (p.seenOpen >= 0) this.event(doc.id, 'wave-opened', `wave ${doc.waves[doc.open].name} opened (${doc.reason})`, { ...data, wave: doc.open })
      p.waveOpenedAt = Date.now()
      p.lastChangeAt = Date.now()
    }
    if (doc.state !== p.seenState) {
      const event: RolloutEvent | undefined = doc.state === 'paused' ? 'paused' : doc.state === 'halted' ? 'halted' : doc.state === 'running' && p.seenState === 'paused' ? 'resumed' : undefined
      if (event != null) this.event(doc.id, event, doc.reason, data)
    }
    p.seenOpen = doc.open
    p.seenState = doc.state
    if (doc.state === 'halted') {
      if (doc.rollback && !p.rolledBackNotified) {
        const installed = this.book.latest(doc.id).filter(r => r.outcome !== 'not-selected' && (['healthy', 'installing', 'failed', 'rolled-back'].includes(r.outcome) || r.current === doc.version))
        if (installed.length > 0 && installed.every(r => r.outcome === 'rolled-back' || (r.outcome === 'failed' && r.current !== doc.version))) {
          p.rolledBackNotified = true
          this.event(doc.id, 'rolled-back', `every node that installed ${doc.version} is off it again`, data)
        }
      }
      return
    }
    if (doc.state !== 'running') return
    if (doc.open === -1) {
      const known = this.fleetOf(doc).map(n => ({ peerId: n.peerId, tags: n.report.tags, labels: n.report.labels }))
      const waves = chooseCountPeers(known, doc)
      changeRollout(repo, doc.package, { kind: 'open', wave: 0, waves, reason: `wave ${waves[0].name} opened` })
      p.seenOpen = 0
      p.waveOpenedAt = Date.now()
      p.lastChangeAt = Date.now()
      this.event(doc.id, 'started', `${doc.package} ${doc.version} in ${waves.length} waves (${waves.map(w => w.name).join(', ')})`, data)
      this.event(doc.id, 'wave-opened', `wave ${waves[0].name} opened${waves[0].peers.length > 0 ? ` (${waves[0].peers.length} nodes chosen)` : ''}`, { ...data, wave: 0 })
      return
    }
    const reports = this.book.latest(doc.id)
    const tally = waveTally(doc, reports.map(r => ({ peerId: r.peerId, wave: r.wave, outcome: r.outcome })))
    const open = tally[doc.open] ?? { nodes: 0, healthy: 0, failed: 0, installing: 0, pending: 0, rolledBack: 0 }
    // the wave's nodes as the coordinator computes them for every reachable node it knows that follows the
    // package: one that has not reported under this rollout yet (it missed the document) still counts as not healthy
    const fleet = this.fleetOf(doc)
    const expected = fleet.filter(n => waveOf({ peerId: n.peerId, tags: n.report.tags, doc }) === doc.open).length
    let decision = gateDecision({ doc, tally: open, waveOpenedAt: p.waveOpenedAt, lastChangeAt: Math.max(p.lastChangeAt, p.waveOpenedAt), now: Date.now(), expectedNodes: Math.max(expected, open.nodes) })
    // a wave no node hashed into (a small fleet, a narrow share) passes once the fleet has had a soak time to report
    if (open.nodes === 0 && expected === 0 && reports.length > 0 && !doc.manual && Date.now() - p.waveOpenedAt >= doc.gate.soakMs) {
      decision = { action: doc.open === doc.waves.length - 1 ? 'complete' : 'promote', reason: `no node of the ${reports.length} reporting is in wave ${doc.waves[doc.open].name}` }
    }
    if (decision.action === 'halt') {
      changeRollout(repo, doc.package, { kind: 'state', state: 'halted', rollback: true, reason: decision.reason })
      p.seenState = 'halted'
      this.event(doc.id, 'halted', `${decision.reason}; rollback requested`, { ...data, wave: doc.open })
    } else if (decision.action === 'promote') {
      this.event(doc.id, 'gate-passed', `wave ${doc.waves[doc.open].name}: ${decision.reason}`, { ...data, wave: doc.open })
      changeRollout(repo, doc.package, { kind: 'open', wave: doc.open + 1, reason: `wave ${doc.waves[doc.open + 1].name} opened` })
      p.seenOpen = doc.open + 1
      p.waveOpenedAt = Date.now()
      p.lastChangeAt = Date.now()
      this.event(doc.id, 'wave-opened', `wave ${doc.waves[doc.open + 1].name} opened`, { ...data, wave: doc.open + 1 })
    } else if (decision.action === 'complete') {
      this.event(doc.id, 'gate-passed', `wave ${doc.waves[doc.open].name}: ${decision.reason}`, { ...data, wave: doc.open })
      changeRollout(repo, doc.package, { kind: 'state', state: 'completed', reason: 'every wave passed its gate' })
      p.seenState = 'completed'
      this.event(doc.id, 'completed', `${doc.package} ${doc.version} rolled out to every wave`, data)
    }
  }

  /**
   * The reachable nodes that report on the rollout's package (one row per
   * node and package: a node installing several packages is in each
   * package's fleet) and that its selector selects: by the node's own word
   * once it reported under this rollout (it judges by the labels it had
   * when the rollout reached it), else by the labels it last reported.
   */
  private fleetOf (doc: RolloutDocument): Array<{ peerId: string, report: NodeReport }> {
    const now = Date.now()
    const silent = this.book.unreachableAfterMs()
    return this.book.rows()
      .filter(n => n.package === doc.package && now - n.lastSeen < silent)
      .filter(n => {
        const own = this.book.get(n.peerId, doc.id)
        return own != null ? own.outcome !== 'not-selected' : isSelected(doc, n.report.labels ?? {})
      })
  }

  private save (): void {
    const rollouts: CoordinatorState['rollouts'] = {}
    let repo: Repository | undefined
    try { repo = Repository.open(this.init.repoDir) } catch {}
    const docs = repo == null ? [] : listRollouts(repo)
    for (const [id, p] of this.progress) {
      const doc = docs.find(d => d.id === id)
      rollouts[id] = { ...p, package: doc?.package ?? '', version: doc?.version ?? '' }
    }
    mkdirSync(join(this.init.repoDir, COORDINATOR_DIR), { recursive: true })
    const state: CoordinatorState = { updated: new Date().toISOString(), rollouts, book: this.book.toJSON() }
    writeFileAtomic(coordinatorStateFile(this.init.repoDir), JSON.stringify(state) + '\n')
  }
}
