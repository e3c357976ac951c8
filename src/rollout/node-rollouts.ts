/**
 * A node's side of rollouts. For each package it installs and follows, with
 * a verified rollout document in effect:
 *
 *   - the version must be a release signed by the targets role, or the node
 *     refuses (a stolen rollouts key can only choose among signed releases);
 *     a downgrade needs `allowDowngrade` in the package's install settings;
 *   - a rollout with a label selector that does not select this node (its
 *     labels when the rollout first reached it, kept in the install root)
 *     is reported `not-selected`, naming the requirement it fails, and
 *     never installed;
 *   - the node computes its wave (tags `canary` / `last`, the wave's listed
 *     peers, else a hash of its peer id and the rollout id);
 *   - when its wave is open and the rollout runs, it installs (autoUpdate on;
 *     off: it reports that the update is available to it), within its
 *     maintenance window unless the rollout is critical, and staggered: it
 *     waits for its slot (rank in the wave by hash / maxParallel) and while
 *     it sees maxParallel nodes of its wave installing in their reports;
 *   - when the rollout is halted with rollback and this node runs its
 *     version, it rolls back.
 *
 * It reports its outcome on the reports topic, signed with its node key, on
 * every change and every 20 s (which is also how the coordinator learns the
 * fleet before a rollout starts). A package without a rollout document
 * follows plain autoUpdate. A package that has had one stays governed across
 * restarts (a mark in its install root): until the follower has verified the
 * document again after a start, the node waits rather than letting plain
 * autoUpdate install a held release whose wave may be closed.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { reportsTopic } from '../network/protocol-ids.js'
import { parseRolloutDocument } from './document.js'
import { newReportCounts, ReportBook, reportValidator, signReport } from './reports.js'
import { BASE_HEARTBEAT_MS, nextHeartbeatMs } from './heartbeat.js'
import { installSlot, nodePosition, notSelectedReason, waveOf } from './waves.js'
import { labelsProblem, sortedLabels } from './labels.js'
import type { Labels } from './labels.js'
import { installAllowed } from './windows.js'
import { compareVersions, isScheme } from '../release/index.js'
import { InstallInProgressError } from '../install/lock.js'
import { INTERRUPTED_BEFORE_SWITCH } from '../install/recovery.js'
import type { InstallManager } from '../install/manager.js'
import type { GossipSub } from '@libp2p/gossipsub'
import type { ComponentLogger, Logger, PrivateKey } from '@libp2p/interface'
import type { MaintenanceConfig, NodeOutcome, NodeReport, RolloutDocument } from './types.js'

/**
 * Installs of one rollout's version that a crash of this node may cut short
 * before the switch before the version counts as failed here. Without the
 * retry, one SIGKILL during staging failed the node's install for good and
 * its failure report halted the rollout (churn-netns test).
 */
const MAX_INTERRUPTED_TRIES = 3

export interface NodeRolloutsInit {
  network: string
  tags: string[]
  /** the node's labels now (a SIGHUP may change them); default none */
  labels?: () => Labels
  maintenance: MaintenanceConfig
  /** packages whose install settings follow a rollout that moves them back */
  allowDowngrade: (pkg: string) => boolean
  /** a report of every package goes out at least this often, changed or not (default 20 s); in a fleet of over 1,000 nodes less often (heartbeat.ts) */
  heartbeatMs?: number
  /** one stagger slot (default 2 s) */
  slotMs?: number
}

export interface NodeRolloutsComponents {
  /** this node's peer id and key: reports are signed with it */
  identity: { peerId: { toString: () => string }, privateKey: PrivateKey }
  manager: InstallManager
  pubsub: GossipSub
  /** the verified rollout document of a package, if any (HashMismatchError when its file changed) */
  documents: { document: (pkg: string) => Uint8Array | undefined }
  /** the signed targets this node trusts */
  trust: { targets: () => Record<string, { custom?: Record<string, any> }> }
  logger: ComponentLogger
  /** the wall clock maintenance windows are judged by; unit tests move it */
  clock?: () => Date
}

interface PackageView {
  outcome: NodeOutcome
  reason: string
  wave: number
  rolloutId: string
  version: string
}

const NONE = 'none'
/** in a package's install root: this package's installs are decided by rollouts */
export const GOVERNED_MARK = '.rollout-governed'
/** why a node in an open wave waits while another install runs on it */
export const ANOTHER_INSTALL = 'another install is in progress on this node; the rollout\'s install follows it'

/** in a package's install root: the labels this node had when a rollout with a selector first reached it */
export const SELECTION_LABELS_FILE = '.rollout-labels.json'

export class NodeRollouts {
  private readonly log: Logger
  private readonly peerId: string
  private readonly topic: string
  private readonly book = new ReportBook()
  private readonly views = new Map<string, PackageView>()
  private readonly slotStart = new Map<string, number>()
  private seq = Date.now()
  private timer?: NodeJS.Timeout
  private heartbeat?: NodeJS.Timeout
  private busy = false
  /** per package: the rollout whose selection labels are known, and those labels */
  private readonly selection = new Map<string, { rolloutId: string, labels: Labels }>()
  private reportedLabels = ''
  /** reports on the topic since start, by verdict */
  readonly reportCounts = newReportCounts()

  constructor (private readonly components: NodeRolloutsComponents, private readonly init: NodeRolloutsInit) {
    this.log = components.logger.forComponent('umesh:rollout')
    this.peerId = components.identity.peerId.toString()
    this.topic = reportsTopic(init.network)
  }

  private now (): Date {
    return this.components.clock?.() ?? new Date()
  }

  start (): void {
    const { pubsub } = this.components
    const topic = this.topic
    // this node's own report come back is not taken (nor forwarded again)
    pubsub.topicValidators.set(topic, reportValidator((report) => report.peerId !== this.peerId && this.book.accept(report), this.log, this.reportCounts))
    pubsub.subscribe(topic)
    this.timer = setInterval(() => { void this.tick() }, 1_000)
    this.timer.unref()
    this.scheduleHeartbeat()
    void this.tick()
  }

  stop (): void {
    clearInterval(this.timer)
    clearTimeout(this.heartbeat)
    this.heartbeat = undefined
    this.components.pubsub.unsubscribe(this.topic)
    this.components.pubsub.topicValidators.delete(this.topic)
  }

  /** the node's labels now */
  labels (): Labels {
    return sortedLabels(this.init.labels?.() ?? {})
  }

  /**
   * The labels a rollout's selector is judged against: those the node had
   * when the rollout (its id) first reached it, kept in the package's
   * install root so that a restart does not change them. A label changed by
   * SIGHUP moves the node in or out of the next rollout, not this one.
   */
  private selectionLabels (pkg: string, rolloutId: string): Labels {
    const known = this.selection.get(pkg)
    if (known?.rolloutId === rolloutId) return known.labels
    const root = this.components.manager.installers.get(pkg)?.root
    const file = root == null ? undefined : join(root, SELECTION_LABELS_FILE)
    if (file != null && existsSync(file)) {
      try {
        const saved = JSON.parse(readFileSync(file, 'utf8'))
        if (saved?.rolloutId === rolloutId && typeof saved.labels === 'object' && saved.labels !== null && labelsProblem(saved.labels) == null) {
          this.selection.set(pkg, { rolloutId, labels: saved.labels })
          return saved.labels
        }
      } catch (err) {
        this.log.error('%s is not readable, taking the labels of now - %e', file, err)
      }
    }
    const labels = this.labels()
    this.selection.set(pkg, { rolloutId, labels })
    if (file != null) {
      try {
        mkdirSync(root!, { recursive: true })
        writeFileSync(file, JSON.stringify({ rolloutId, labels }) + '\n')
      } catch (err) {
        this.log.error('could not keep the selection labels of %s - %e', pkg, err)
      }
    }
    return labels
  }

  /** what the node says about a package in status (rollout, wave, outcome) */
  view (pkg: string): PackageView | undefined {
    return this.views.get(pkg)
  }

  /**
   * Does a rollout document decide this package's installs? Once a package
   * has one, its releases reach this node only through rollouts (a release
   * published after a rollout completed waits for the next rollout), so
   * plain autoUpdate stays out.
   */
  governs (pkg: string): boolean {
    return this.document(pkg) != null || this.marked(pkg)
  }

  private markFile (pkg: string): string | undefined {
    const root = this.components.manager.installers.get(pkg)?.root
    return root == null ? undefined : join(root, GOVERNED_MARK)
  }

  /** governed before: a start does not hand the package back to plain autoUpdate until the document is verified again */
  private marked (pkg: string): boolean {
    const file = this.markFile(pkg)
    return file != null && existsSync(file)
  }

  private mark (pkg: string): void {
    const file = this.markFile(pkg)
    if (file == null || existsSync(file)) return
    try {
      mkdirSync(join(file, '..'), { recursive: true })
      writeFileSync(file, 'installs of this package follow rollout documents\n')
    } catch (err) {
      this.log.error('could not mark %s as governed by rollouts - %e', pkg, err)
    }
  }

  private document (pkg: string): RolloutDocument | undefined {
    let bytes
    try {
      // the file is named by the sha256 tuf-js verified; the data dir checks it again before use
      bytes = this.components.documents.document(pkg)
    } catch (err) {
      this.log.error('the rollout document of %s is not used - %e', pkg, err)
      return undefined
    }
    if (bytes == null) return undefined
    try {
      return parseRolloutDocument(bytes)
    } catch (err) {
      this.log.error('the rollout document of %s does not parse - %e', pkg, err)
      return undefined
    }
  }

  private async tick (): Promise<void> {
    if (this.busy) return
    this.busy = true
    try {
      // new labels (SIGHUP) reach the coordinator now rather than at the next heartbeat
      const labels = JSON.stringify(this.labels())
      if (labels !== this.reportedLabels) {
        if (this.reportedLabels !== '') await this.reportAll()
        this.reportedLabels = labels
      }
      for (const status of this.components.manager.status()) {
        if (status.followed == null) continue
        await this.decide(status.package, status.current, status.autoUpdate)
      }
    } catch (err) {
      this.log.error('rollout tick failed - %e', err)
    } finally {
      this.busy = false
    }
  }

  private async set (pkg: string, view: PackageView): Promise<void> {
    const before = this.views.get(pkg)
    this.views.set(pkg, view)
    if (before == null || before.outcome !== view.outcome || before.rolloutId !== view.rolloutId || before.wave !== view.wave || before.reason !== view.reason) {
      await this.report(pkg)
    }
  }

  private async decide (pkg: string, current: string | null, autoUpdate: boolean): Promise<void> {
    const doc = this.document(pkg)
    if (doc == null) {
      const reason = this.marked(pkg) ? 'waiting for the rollout document to be verified again since the start' : 'no rollout'
      await this.set(pkg, { outcome: 'waiting', reason, wave: -1, rolloutId: NONE, version: current ?? '' })
      return
    }
    this.mark(pkg)
    if (doc.selector != null) {
      const outside = notSelectedReason(doc, this.selectionLabels(pkg, doc.id))
      if (outside != null) {
        await this.set(pkg, { outcome: 'not-selected', reason: outside, wave: -1, rolloutId: doc.id, version: doc.version })
        return
      }
    }
    const wave = waveOf({ peerId: this.peerId, tags: this.init.tags, doc })
    const base = { wave, rolloutId: doc.id, version: doc.version }
    const release = this.components.trust.targets()[`releases/${doc.package}/${doc.version}.json`]
    if (release == null) {
      await this.set(pkg, { ...base, outcome: 'refused', reason: `${doc.package} ${doc.version} is not a signed release; the rollout is not followed` })
      return
    }
    const history = this.components.manager.installers.get(pkg)!.history()
    if (doc.rollback && doc.state === 'halted') {
      await this.halted(pkg, doc, base, current)
      return
    }
    if (current === doc.version) {
      await this.set(pkg, { ...base, outcome: 'healthy', reason: '' })
      return
    }
    const tried = history.filter(h => h.to === doc.version && h.outcome !== 'installed' && Date.parse(h.startedAt) >= Date.parse(doc.created))
    // an install this node's own crash cut short before the switch ran nothing of the release: it is tried
    // again, up to MAX_INTERRUPTED_TRIES times (a release whose staging takes the node down every time fails)
    const judged = tried.filter(h => !h.reason.startsWith(INTERRUPTED_BEFORE_SWITCH))
    if (judged.length > 0 || tried.length >= MAX_INTERRUPTED_TRIES) {
      const last = (judged.length > 0 ? judged : tried)[(judged.length > 0 ? judged : tried).length - 1]
      await this.set(pkg, { ...base, outcome: 'failed', reason: last.reason })
      return
    }
    // a completed rollout is open to every wave: a node that joins later catches up
    const open = doc.state === 'completed' ? doc.waves.length - 1 : doc.open
    if ((doc.state !== 'running' && doc.state !== 'completed') || wave > open || open < 0) {
      await this.set(pkg, { ...base, outcome: 'waiting', reason: doc.state === 'paused' || doc.state === 'halted' ? `the rollout is ${doc.state}` : `wave ${wave} (${doc.waves[wave]?.name ?? '?'}) is not open yet` })
      return
    }
    // a move back is judged against what this node runs, not only by the document's flag: a node
    // upgraded by hand, or a first rollout with no completed one before it, may be ahead of it
    const scheme = release.custom?.scheme
    const back = doc.downgrade || (current != null && isScheme(scheme) && compareVersions(scheme, doc.version, current) < 0)
    if (back && !this.init.allowDowngrade(pkg)) {
      await this.set(pkg, { ...base, outcome: 'refused', reason: 'the rollout is a downgrade and this node\'s policy does not allow downgrades (allowDowngrade)' })
      return
    }
    if (!autoUpdate) {
      await this.set(pkg, { ...base, outcome: 'waiting', reason: `update to ${doc.version} available (autoUpdate off: install with \`umesh update upgrade --to ${doc.version}\`)` })
      return
    }
    const window = installAllowed(this.init.maintenance, this.now(), doc.critical)
    if (!window.allowed) {
      await this.set(pkg, { ...base, outcome: 'deferred', reason: window.reason })
      return
    }
    if (this.components.manager.indexOf(pkg, doc.version) == null) {
      await this.set(pkg, { ...base, outcome: 'waiting', reason: `fetching ${doc.version}` })
      return
    }
    const wait = this.staggered(doc, wave)
    if (wait != null) {
      await this.set(pkg, { ...base, outcome: 'waiting', reason: wait })
      return
    }
    // another install on this node (plain auto-update before the document arrived, or an operator's) is
    // no verdict on this release: the node waits for it. Reported as failed, it counted against the wave:
    // in one 20-daemon run, 1 such node of the first 8 reports halted a rollout at its 10 % abort threshold
    if (this.components.manager.busy) {
      await this.set(pkg, { ...base, outcome: 'waiting', reason: ANOTHER_INSTALL })
      return
    }
    await this.set(pkg, { ...base, outcome: 'installing', reason: '' })
    try {
      await this.components.manager.upgrade({ package: pkg, choice: { to: doc.version }, force: back })
      await this.set(pkg, { ...base, outcome: 'healthy', reason: '' })
    } catch (err) {
      if (err instanceof InstallInProgressError) await this.set(pkg, { ...base, outcome: 'waiting', reason: ANOTHER_INSTALL })
      else await this.set(pkg, { ...base, outcome: 'failed', reason: (err as Error).message })
    }
  }

  /** a halted rollout that asks for rollback: a node running its version rolls back */
  private async halted (pkg: string, doc: RolloutDocument, base: Pick<PackageView, 'wave' | 'rolloutId' | 'version'>, current: string | null): Promise<void> {
    // one try: a node whose rollback failed (its version the first it installed, say) says so once. Tried
    // again on every pass, it reported installing then failed each second: in one 20-daemon run every node
    // did, some 6,000 reports in five minutes, and gossip went from about 1.2-1.5 to 29-61 MiB per node
    const mine = this.views.get(pkg)
    if (mine?.rolloutId === doc.id && ['failed', 'rolled-back'].includes(mine.outcome)) return
    if (current === doc.version) {
      await this.set(pkg, { ...base, outcome: 'installing', reason: 'rollback requested by the coordinator' })
      try {
        await this.components.manager.rollback(pkg)
        await this.set(pkg, { ...base, outcome: 'rolled-back', reason: 'rolled back at the coordinator\'s request' })
      } catch (err) {
        await this.set(pkg, { ...base, outcome: 'failed', reason: `rollback failed: ${(err as Error).message}` })
      }
      return
    }
    await this.set(pkg, { ...base, outcome: 'waiting', reason: `the rollout is halted: ${doc.reason}` })
  }

  /**
   * Staggered without a lock service: this node's slot by its rank in the
   * wave, then the others' reports. Why it must wait still, or undefined
   * when it may install now.
   */
  private staggered (doc: RolloutDocument, wave: number): string | undefined {
    const key = `${doc.id}:${doc.open}`
    if (!this.slotStart.has(key)) this.slotStart.set(key, Date.now())
    const spec = doc.waves[wave]
    const previousFraction = wave === 0 ? 0 : (doc.waves.slice(0, wave).reverse().find(w => w.fraction != null)?.fraction ?? 0)
    const peers = this.book.latest(doc.id).filter(r => r.wave === wave)
    const expected = Math.max(peers.length, 1)
    const slot = installSlot({ position: nodePosition(this.peerId, doc.id), wave: spec, previousFraction, expectedNodes: expected, maxParallel: doc.maxParallel, peerId: this.peerId })
    const slotMs = this.init.slotMs ?? 2_000
    if (Date.now() - this.slotStart.get(key)! < slot * slotMs) return `waiting for install slot ${slot} (maxParallel ${doc.maxParallel})`
    const installing = peers.filter(r => r.peerId !== this.peerId && r.outcome === 'installing' && Date.now() - r.at < 120_000).length
    if (installing >= doc.maxParallel) return `${installing} nodes of wave ${spec.name} are installing (maxParallel ${doc.maxParallel})`
    return undefined
  }

  /** the next heartbeat, by the fleet's size as this node's report book counts it */
  private scheduleHeartbeat (): void {
    this.heartbeat = setTimeout(() => {
      void this.reportAll().finally(() => { if (this.heartbeat != null) this.scheduleHeartbeat() })
    }, nextHeartbeatMs(this.fleetSize(), this.init.heartbeatMs ?? BASE_HEARTBEAT_MS))
    this.heartbeat.unref()
  }

  /** the fleet's size as this node knows it: the nodes whose reports it holds, itself included */
  fleetSize (): number {
    return this.book.size + 1
  }

  private async reportAll (): Promise<void> {
    for (const pkg of this.views.keys()) await this.report(pkg)
  }

  private async report (pkg: string): Promise<void> {
    const view = this.views.get(pkg)
    if (view == null) return
    const status = this.components.manager.status().find(s => s.package === pkg)
    const report: NodeReport = {
      peerId: this.peerId,
      rolloutId: view.rolloutId,
      package: pkg,
      version: view.version,
      outcome: view.outcome,
      current: status?.current ?? '',
      wave: view.wave,
      reason: view.reason.slice(0, 512),
      tags: this.init.tags,
      labels: this.labels(),
      at: Date.now(),
      seq: ++this.seq
    }
    try {
      const bytes = await signReport(report, this.components.identity.privateKey)
      await this.components.pubsub.publish(this.topic, bytes)
      // one debug line per report sent, so a node that reports too often shows in its own log
      this.log('reported %s%s of rollout %s: %s, wave %d, seq %d%s', pkg, report.version !== '' ? ` ${report.version}` : '', report.rolloutId, report.outcome, report.wave, report.seq, report.reason !== '' ? ` (${report.reason})` : '')
    } catch (err) {
      this.log('could not publish a report - %e', err)
    }
  }
}
