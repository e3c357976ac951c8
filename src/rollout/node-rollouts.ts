/**
 * A node's side of rollouts. For each package it installs and follows, with
 * a verified rollout document in effect:
 *
 *   - the version must be a release signed by the targets role, or the node
 *     refuses (a stolen rollouts key can only choose among signed releases);
 *     a downgrade needs `allowDowngrade` in the package's install settings;
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
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { parseRolloutDocument } from './document.js'
import { ReportBook, reportValidator, signReport } from './reports.js'
import { installSlot, nodePosition, waveOf } from './waves.js'
import { installAllowed } from './windows.js'
import type { InstallManager } from '../install/manager.js'
import type { GossipSub } from '@libp2p/gossipsub'
import type { PrivateKey } from '@libp2p/interface'
import type { MaintenanceConfig, NodeOutcome, NodeReport, RolloutDocument } from './types.js'

export interface NodeRolloutsInit {
  peerId: string
  privateKey: PrivateKey
  tags: string[]
  maintenance: MaintenanceConfig
  manager: InstallManager
  pubsub: GossipSub
  topic: string
  /** the verified rollout document file of a package, if any */
  rolloutFile: (pkg: string) => string | undefined
  /** the signed targets this node trusts */
  signedReleases: () => Record<string, { custom?: Record<string, any> }>
  allowDowngrade: (pkg: string) => boolean
  log: (line: string) => void
  /** a clock the tests can move (maintenance windows) */
  now?: () => Date
  heartbeatMs?: number
  /** one stagger slot */
  slotMs?: number
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

export class NodeRollouts {
  private readonly book = new ReportBook()
  private readonly views = new Map<string, PackageView>()
  private readonly slotStart = new Map<string, number>()
  private seq = Date.now()
  private timer?: NodeJS.Timeout
  private heartbeat?: NodeJS.Timeout
  private busy = false

  constructor (private readonly init: NodeRolloutsInit) {}

  private now (): Date {
    return this.init.now?.() ?? new Date()
  }

  start (): void {
    const { pubsub, topic } = this.init
    pubsub.topicValidators.set(topic, reportValidator((report) => { this.book.accept(report) }, this.init.log))
    pubsub.subscribe(topic)
    this.timer = setInterval(() => { void this.tick() }, 1_000)
    this.timer.unref()
    this.heartbeat = setInterval(() => { void this.reportAll() }, this.init.heartbeatMs ?? 20_000)
    this.heartbeat.unref()
    void this.tick()
  }

  stop (): void {
    clearInterval(this.timer)
    clearInterval(this.heartbeat)
    this.init.pubsub.unsubscribe(this.init.topic)
    this.init.pubsub.topicValidators.delete(this.init.topic)
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
    const root = this.init.manager.installers.get(pkg)?.root
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
      this.init.log(`could not mark ${pkg} as governed by rollouts: ${(err as Error).message}`)
    }
  }

  private document (pkg: string): RolloutDocument | undefined {
    const file = this.init.rolloutFile(pkg)
    if (file == null || !existsSync(file)) return undefined
    const bytes = readFileSync(file)
    // the file is named by the sha256 tuf-js verified; check it again before use
    const hash = basename(file).split('.')[0]
    if (createHash('sha256').update(bytes).digest('hex') !== hash) {
      this.init.log(`the rollout document ${file} does not match its signed hash; ignored`)
      return undefined
    }
    try {
      return parseRolloutDocument(bytes)
    } catch (err) {
      this.init.log(`the rollout document of ${pkg} does not parse: ${(err as Error).message}`)
      return undefined
    }
  }

  private async tick (): Promise<void> {
    if (this.busy) return
    this.busy = true
    try {
      for (const status of this.init.manager.status()) {
        if (status.followed == null) continue
        await this.decide(status.package, status.current, status.autoUpdate)
      }
    } catch (err) {
      this.init.log(`rollout tick failed: ${(err as Error).message}`)
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
    const wave = waveOf({ peerId: this.init.peerId, tags: this.init.tags, doc })
    const base = { wave, rolloutId: doc.id, version: doc.version }
    if (this.init.signedReleases()[`releases/${doc.package}/${doc.version}.json`] == null) {
      await this.set(pkg, { ...base, outcome: 'refused', reason: `${doc.package} ${doc.version} is not a signed release; the rollout is not followed` })
      return
    }
    const installer = this.init.manager.installers.get(pkg)!
    const history = installer.history()
    if (doc.rollback && doc.state === 'halted') {
      if (current === doc.version) {
        await this.set(pkg, { ...base, outcome: 'installing', reason: 'rollback requested by the coordinator' })
        try {
          await this.init.manager.rollback(pkg)
          await this.set(pkg, { ...base, outcome: 'rolled-back', reason: 'rolled back at the coordinator\'s request' })
        } catch (err) {
          await this.set(pkg, { ...base, outcome: 'failed', reason: `rollback failed: ${(err as Error).message}` })
        }
        return
      }
      const mine = this.views.get(pkg)
      if (mine?.rolloutId === doc.id && ['failed', 'rolled-back'].includes(mine.outcome)) return
      await this.set(pkg, { ...base, outcome: 'waiting', reason: `the rollout is halted: ${doc.reason}` })
      return
    }
    if (current === doc.version) {
      await this.set(pkg, { ...base, outcome: 'healthy', reason: '' })
      return
    }
    const tried = history.filter(h => h.to === doc.version && h.outcome !== 'installed' && Date.parse(h.startedAt) >= Date.parse(doc.created))
    if (tried.length > 0) {
      const last = tried[tried.length - 1]
      await this.set(pkg, { ...base, outcome: last.outcome === 'rolled-back' ? 'failed' : 'failed', reason: last.reason })
      return
    }
    // a completed rollout is open to every wave: a node that joins later catches up
    const open = doc.state === 'completed' ? doc.waves.length - 1 : doc.open
    if ((doc.state !== 'running' && doc.state !== 'completed') || wave > open || open < 0) {
      await this.set(pkg, { ...base, outcome: 'waiting', reason: doc.state === 'paused' || doc.state === 'halted' ? `the rollout is ${doc.state}` : `wave ${wave} (${doc.waves[wave]?.name ?? '?'}) is not open yet` })
      return
    }
    if (doc.downgrade && !this.init.allowDowngrade(pkg)) {
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
    if (this.init.manager.indexOf(pkg, doc.version) == null) {
      await this.set(pkg, { ...base, outcome: 'waiting', reason: `fetching ${doc.version}` })
      return
    }
    // staggered without a lock service: the slot by rank, then the others' reports
    const key = `${doc.id}:${doc.open}`
    if (!this.slotStart.has(key)) this.slotStart.set(key, Date.now())
    const spec = doc.waves[wave]
    const previousFraction = wave === 0 ? 0 : (doc.waves.slice(0, wave).reverse().find(w => w.fraction != null)?.fraction ?? 0)
    const peers = this.book.latest(doc.id).filter(r => r.wave === wave)
    const expected = Math.max(peers.length, 1)
    const slot = installSlot({ position: nodePosition(this.init.peerId, doc.id), wave: spec, previousFraction, expectedNodes: expected, maxParallel: doc.maxParallel, peerId: this.init.peerId })
    const slotMs = this.init.slotMs ?? 2_000
    if (Date.now() - this.slotStart.get(key)! < slot * slotMs) {
      await this.set(pkg, { ...base, outcome: 'waiting', reason: `waiting for install slot ${slot} (maxParallel ${doc.maxParallel})` })
      return
    }
    const installing = peers.filter(r => r.peerId !== this.init.peerId && r.outcome === 'installing' && Date.now() - r.at < 120_000).length
    if (installing >= doc.maxParallel) {
      await this.set(pkg, { ...base, outcome: 'waiting', reason: `${installing} nodes of wave ${spec.name} are installing (maxParallel ${doc.maxParallel})` })
      return
    }
    await this.set(pkg, { ...base, outcome: 'installing', reason: '' })
    try {
      await this.init.manager.upgrade({ package: pkg, choice: { to: doc.version }, force: doc.downgrade })
      await this.set(pkg, { ...base, outcome: 'healthy', reason: '' })
    } catch (err) {
      await this.set(pkg, { ...base, outcome: 'failed', reason: (err as Error).message })
    }
  }

  private async reportAll (): Promise<void> {
    for (const pkg of this.views.keys()) await this.report(pkg)
  }

  private async report (pkg: string): Promise<void> {
    const view = this.views.get(pkg)
    if (view == null) return
    const status = this.init.manager.status().find(s => s.package === pkg)
    const report: NodeReport = {
      peerId: this.init.peerId,
      rolloutId: view.rolloutId,
      package: pkg,
      version: view.version,
      outcome: view.outcome,
      current: status?.current ?? '',
      wave: view.wave,
      reason: view.reason.slice(0, 512),
      tags: this.init.tags,
      at: Date.now(),
      seq: ++this.seq
    }
    try {
      const bytes = await signReport(report, this.init.privateKey)
      await this.init.pubsub.publish(this.init.topic, bytes)
    } catch (err) {
      this.init.log(`could not publish a report: ${(err as Error).message}`)
    }
  }
}
