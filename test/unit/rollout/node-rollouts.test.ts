/**
 * A node's side of rollouts with a real InstallManager on a data dir that
 * holds app 1.0.0 and 1.1.0 (held-releases.ts), a stub pubsub keeping the
 * reports it publishes (each verified with verifyReport), rollout documents
 * handed in as bytes, and a clock the maintenance windows are judged by.
 * Each test starts the component (its first pass runs at once, then every
 * second) and waits, with a deadline, for the outcome it expects.
 */
import assert from 'node:assert/strict'
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { InstallInProgressError } from '../../../src/install/lock.js'
import { InstallManager } from '../../../src/install/manager.js'
import { reportsTopic } from '../../../src/network/protocol-ids.js'
import { encodeRolloutDocument, newRolloutId } from '../../../src/rollout/document.js'
import { ANOTHER_INSTALL, GOVERNED_MARK, NodeRollouts } from '../../../src/rollout/node-rollouts.js'
import { signReport, verifyReport } from '../../../src/rollout/reports.js'
import { ROLLOUT_FORMAT } from '../../../src/rollout/types.js'
import { captureLogger } from '../../helpers/capture-logger.js'
import { waitFor } from '../../helpers/cli.js'
import { releaseOf, writeHeldReleases } from '../../helpers/held-releases.js'
import { makeStateFiles, memoryStore, packageConfig } from '../../helpers/install-fixture.js'
import type { TargetEntry } from '../../helpers/held-releases.js'
import type { GossipSub } from '@libp2p/gossipsub'
import type { PrivateKey } from '@libp2p/interface'
import type { MaintenanceConfig, NodeReport, RolloutDocument } from '../../../src/rollout/types.js'
import type { ReleaseIndex } from '../../../src/release/index.js'

const NETWORK = 'unit'
const root = mkdtempSync(join(tmpdir(), 'umesh-node-rollouts-'))
const store = memoryStore()
const app = new Map<string, ReleaseIndex>()
let key: PrivateKey
let peerId: string
/** a peer listed in the count wave: never this node */
let other: string
before(async () => {
  app.set('1.0.0', releaseOf(root, store, { version: '1.0.0' }, 0))
  app.set('1.1.0', releaseOf(root, store, { version: '1.1.0' }, 1))
  key = await generateKeyPair('Ed25519')
  peerId = peerIdFromPrivateKey(key).toString()
  other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
})
after(() => { rmSync(root, { recursive: true, force: true }) })

/** 12:00 UTC, outside the 02:00-04:00 window */
const NOON = new Date('2026-03-10T12:00:00Z')
const NIGHT_WINDOW: MaintenanceConfig = { windows: [{ days: [], start: '02:00', end: '04:00', timeZone: 'UTC' }], blackouts: [] }

/** wave 0 lists another peer; this node is in wave 1 (`rest`) by hash */
function rollout (over: Partial<RolloutDocument> = {}): RolloutDocument {
  const created = new Date(Date.now() - 60_000).toISOString()
  return {
    format: ROLLOUT_FORMAT,
    id: newRolloutId(),
    package: 'app',
    version: '1.1.0',
    waves: [{ name: 'canary', count: 1, peers: [other] }, { name: 'rest', fraction: 1, peers: [] }],
    open: 1,
    state: 'running',
    rollback: false,
    gate: { success: 1, soakMs: 0 },
    abort: 0.5,
    maxParallel: 1,
    manual: false,
    downgrade: false,
    critical: false,
    created,
    updated: created,
    reason: 'test',
    ...over
  }
}

interface TestNode {
  rollouts: NodeRollouts
  manager: InstallManager
  dataDir: string
  /** the document the node sees now (undefined: none) */
  doc: RolloutDocument | undefined
  /** the wall clock the windows see */
  now: Date
  published: Uint8Array[]
  targets: Record<string, TargetEntry>
  lines: string[]
  /** the reports topic's validator the running component set */
  validate: (data: Uint8Array) => Promise<TopicValidatorResult>
  /** a new NodeRollouts on the same data dir and manager (a restart) */
  restart: () => NodeRollouts
}

let n = 0
function node (opts: { maintenance?: MaintenanceConfig, allowDowngrade?: boolean, signedVersions?: string[] } = {}): TestNode {
  const dataDir = join(root, `node-${++n}`)
  makeStateFiles(dataDir)
  process.env.UMESH_STATE_DIR = join(dataDir, 'state')
  const { paths, targets } = writeHeldReleases(dataDir, [...app.values()].map(index => ({ index })), ['app@stable'])
  const signed = Object.fromEntries(Object.entries(targets).filter(([path]) => opts.signedVersions == null || opts.signedVersions.some(v => path === `releases/app/${v}.json`)))
  const logs = captureLogger()
  const manager = new InstallManager({ paths, store, logger: logs.components }, { packages: { app: packageConfig(dataDir, { autoUpdate: true }) } })
  const t = { manager, dataDir, doc: undefined, now: NOON, published: [], targets: signed, lines: logs.lines } as unknown as TestNode
  const make = (): NodeRollouts => {
    const pubsub = {
      topicValidators: new Map(),
      subscribe: () => {},
      unsubscribe: () => {},
      publish: async (topic: string, data: Uint8Array) => {
        assert.equal(topic, reportsTopic(NETWORK))
        t.published.push(data)
        return { recipients: [] }
      }
    } as unknown as GossipSub
    t.validate = async data => await pubsub.topicValidators.get(reportsTopic(NETWORK))!(peerIdFromPrivateKey(key), { type: 'unsigned', topic: reportsTopic(NETWORK), data })
    return new NodeRollouts({
      identity: { peerId: { toString: () => peerId }, privateKey: key },
      manager,
      pubsub,
      documents: { document: pkg => pkg === 'app' && t.doc != null ? encodeRolloutDocument(t.doc) : undefined },
      trust: { targets: () => t.targets },
      logger: logs.components,
      clock: () => t.now
    }, { network: NETWORK, tags: [], maintenance: opts.maintenance ?? { windows: [], blackouts: [] }, allowDowngrade: () => opts.allowDowngrade === true, heartbeatMs: 60_000, slotMs: 10 })
  }
  t.rollouts = make()
  t.restart = make
  return t
}

/** waits (5 s at most, starting the component first when `start`) until the package's outcome is `outcome`; leaves it running */
async function until (t: TestNode, outcome: string, start = false): Promise<NonNullable<ReturnType<NodeRollouts['view']>>> {
  if (start) t.rollouts.start()
  return await waitFor(`app ${outcome}`, () => {
    const v = t.rollouts.view('app')
    return v?.outcome === outcome && !t.manager.busy ? v : undefined
  }, 5_000, 20)
}

/** every report published so far, verified */
async function reports (t: TestNode): Promise<NodeReport[]> {
  const out: NodeReport[] = []
  for (const bytes of t.published) {
    const v = await verifyReport(bytes)
    assert.ok(v.ok, 'each report verifies')
    assert.equal(v.report.peerId, peerId)
    out.push(v.report)
  }
  return out
}

const current = (t: TestNode): string | null => t.manager.installer('app').journal().current

describe('NodeRollouts', { timeout: 30_000 }, () => {
  it('no document: waiting "no rollout", reported, nothing installed, not governed', async () => {
    const t = node()
    try {
      const view = await until(t, 'waiting', true)
      assert.deepEqual(view, { outcome: 'waiting', reason: 'no rollout', wave: -1, rolloutId: 'none', version: '' })
      await waitFor('a report', () => t.published.length > 0, 2_000, 20)
      const [report] = await reports(t)
      assert.deepEqual({ rolloutId: report.rolloutId, outcome: report.outcome, wave: report.wave, package: report.package }, { rolloutId: 'none', outcome: 'waiting', wave: -1, package: 'app' })
      // each report sent is one debug line, so a node that reports too often shows in its log
      assert.ok(t.lines.some(l => l === `reported app of rollout none: waiting, wave -1, seq ${String(report.seq)} (no rollout)`), t.lines.join('\n'))
      assert.equal(current(t), null)
      assert.equal(t.rollouts.governs('app'), false)
    } finally {
      t.rollouts.stop()
    }
  })

  it('forwards only reports new to it: a replayed or older report of a peer, and its own come back, are ignored', async () => {
    const t = node()
    try {
      await until(t, 'waiting', true)
      await waitFor('a report', () => t.published.length > 0, 2_000, 20)
      // its own report, delivered back after gossipsub's seen cache forgot it
      assert.equal(await t.validate(t.published[0]), TopicValidatorResult.Ignore)
      const [mine] = await reports(t)
      const peerKey = await generateKeyPair('Ed25519')
      const of = async (seq: number): Promise<Uint8Array> => await signReport({ ...mine, peerId: peerIdFromPrivateKey(peerKey).toString(), seq }, peerKey)
      const five = await of(5)
      assert.equal(await t.validate(five), TopicValidatorResult.Accept)
      assert.equal(await t.validate(five), TopicValidatorResult.Ignore, 'the same report again')
      assert.equal(await t.validate(await of(4)), TopicValidatorResult.Ignore, 'an older one')
      assert.equal(await t.validate(await of(6)), TopicValidatorResult.Accept, 'a newer one')
      assert.equal(t.rollouts.fleetSize(), 2)
      assert.deepEqual(t.rollouts.reportCounts, { accepted: 2, stale: 3, rejected: 0 })
    } finally {
      t.rollouts.stop()
    }
  })

  it('wave closed: waiting; wave open: installs and reports healthy; governed from then on, across a restart', async () => {
    const t = node()
    const doc = rollout({ open: 0 })
    t.doc = doc
    try {
      const waiting = await until(t, 'waiting', true)
      assert.deepEqual(waiting, { outcome: 'waiting', reason: 'wave 1 (rest) is not open yet', wave: 1, rolloutId: doc.id, version: '1.1.0' })
      assert.equal(current(t), null)
      assert.equal(t.rollouts.governs('app'), true)

      t.doc = { ...doc, open: 1 }
      await until(t, 'healthy')
      assert.equal(current(t), '1.1.0')
      const mine = (await reports(t)).filter(r => r.rolloutId === doc.id)
      assert.deepEqual(mine.map(r => r.outcome), ['waiting', 'installing', 'healthy'])
      assert.deepEqual(mine.map(r => r.wave), [1, 1, 1])
      assert.equal(mine.at(-1)?.current, '1.1.0')
      assert.ok(mine.every((r, i) => i === 0 || r.seq > mine[i - 1].seq), 'seq increases')
    } finally {
      t.rollouts.stop()
    }
    // the mark outlives the instance: a restart before the document is verified again waits
    assert.ok(existsSync(join(t.manager.installer('app').root, GOVERNED_MARK)))
    t.doc = undefined
    t.rollouts = t.restart()
    assert.equal(t.rollouts.governs('app'), true)
    try {
      const view = await until(t, 'waiting', true)
      assert.equal(view.reason, 'waiting for the rollout document to be verified again since the start')
    } finally {
      t.rollouts.stop()
    }
  })

  it('a version that is not a signed release is refused', async () => {
    const t = node({ signedVersions: ['1.0.0'] })
    t.doc = rollout()
    try {
      const view = await until(t, 'refused', true)
      assert.match(view.reason, /app 1\.1\.0 is not a signed release/)
      assert.equal(current(t), null)
      const last = (await reports(t)).at(-1)!
      assert.deepEqual({ outcome: last.outcome, rolloutId: last.rolloutId }, { outcome: 'refused', rolloutId: t.doc.id })
    } finally {
      t.rollouts.stop()
    }
  })

  it('a downgrade rollout is refused without allowDowngrade, followed with it', async () => {
    for (const allowDowngrade of [false, true]) {
      const t = node({ allowDowngrade })
      await t.manager.upgrade({ package: 'app', choice: { to: '1.1.0' } })
      t.doc = rollout({ version: '1.0.0', downgrade: true })
      try {
        if (!allowDowngrade) {
          const view = await until(t, 'refused', true)
          assert.match(view.reason, /downgrade.*allowDowngrade/)
          assert.equal(current(t), '1.1.0')
        } else {
          await until(t, 'healthy', true)
          assert.equal(current(t), '1.0.0')
        }
      } finally {
        t.rollouts.stop()
      }
    }
  })

  it('a rollout to a version older than the one the node runs is refused even when the document is not marked a downgrade', async () => {
    // the document says `downgrade` when the coordinator thought so; nodes check again against what they run
    const t = node()
    await t.manager.upgrade({ package: 'app', choice: { to: '1.1.0' } })
    t.doc = rollout({ version: '1.0.0', downgrade: false })
    try {
      t.rollouts.start()
      const view = await waitFor('a decision', () => {
        const v = t.rollouts.view('app')
        return v != null && v.outcome !== 'installing' && v.outcome !== 'waiting' && !t.manager.busy ? v : undefined
      }, 5_000, 20)
      assert.equal(current(t), '1.1.0')
      assert.equal(view.outcome, 'refused', `a local policy is not a failure of the release (a failure counts toward the abort threshold); got ${view.outcome}: ${view.reason}`)
    } finally {
      t.rollouts.stop()
    }
  })

  it('outside the maintenance window: deferred with the next window named; installs once inside', async () => {
    const t = node({ maintenance: NIGHT_WINDOW })
    t.doc = rollout()
    try {
      const view = await until(t, 'deferred', true)
      assert.equal(view.reason, 'outside the maintenance windows; next window opens 2026-03-11T02:00:00Z')
      assert.equal(current(t), null)
      t.now = new Date('2026-03-11T02:30:00Z')
      await until(t, 'healthy')
      assert.equal(current(t), '1.1.0')
    } finally {
      t.rollouts.stop()
    }
  })

  it('a critical rollout installs outside the maintenance window', async () => {
    const t = node({ maintenance: NIGHT_WINDOW })
    t.doc = rollout({ critical: true })
    try {
      await until(t, 'healthy', true)
      assert.equal(current(t), '1.1.0')
      assert.ok(!(await reports(t)).some(r => r.outcome === 'deferred'))
    } finally {
      t.rollouts.stop()
    }
  })

  it('halted with rollback: a node running the version rolls back; one not running it only waits', async () => {
    const t = node()
    await t.manager.upgrade({ package: 'app', choice: { to: '1.0.0' } })
    await t.manager.upgrade({ package: 'app', choice: { to: '1.1.0' } })
    t.doc = rollout({ state: 'halted', rollback: true, reason: '1 of 1 nodes of wave canary failed' })
    try {
      const view = await until(t, 'rolled-back', true)
      assert.equal(view.reason, 'rolled back at the coordinator\'s request')
      assert.equal(current(t), '1.0.0')
      assert.equal(t.manager.installer('app').history().at(-1)?.kind, 'rollback')
      const mine = (await reports(t)).filter(r => r.rolloutId === t.doc!.id)
      assert.deepEqual(mine.map(r => r.outcome), ['installing', 'rolled-back'])
      assert.equal(mine.at(-1)?.current, '1.0.0')
    } finally {
      t.rollouts.stop()
    }

    const idle = node()
    await idle.manager.upgrade({ package: 'app', choice: { to: '1.0.0' } })
    idle.doc = rollout({ state: 'halted', rollback: true, reason: 'halted by the operator' })
    try {
      const view = await until(idle, 'waiting', true)
      assert.equal(view.reason, 'the rollout is halted: halted by the operator')
      assert.equal(idle.manager.installer('app').history().length, 1)
    } finally {
      idle.rollouts.stop()
    }
  })

  it('halted with rollback on a node whose version is its first: the failed rollback is reported once, not tried on every pass', async () => {
    const t = node()
    await t.manager.upgrade({ package: 'app', choice: { to: '1.1.0' } })
    t.doc = rollout({ state: 'halted', rollback: true, reason: '1 of 8 nodes of wave canary failed' })
    try {
      const view = await until(t, 'failed', true)
      assert.match(view.reason, /^rollback failed: .*first version installed/)
      // the component passes every second: three more passes change nothing and send nothing
      await new Promise(resolve => setTimeout(resolve, 3_200))
      const mine = (await reports(t)).filter(r => r.rolloutId === t.doc!.id)
      assert.deepEqual(mine.map(r => r.outcome), ['installing', 'failed'])
      assert.equal(current(t), '1.1.0')
      assert.equal(t.manager.installer('app').history().length, 1)
    } finally {
      t.rollouts.stop()
    }
  })

  it('another install running on the node: the rollout waits for it, and never reports it as a failure', async () => {
    const t = node()
    t.doc = rollout({ open: 1 })
    let busy = true
    Object.defineProperty(t.manager, 'busy', { get: () => busy, configurable: true })
    try {
      t.rollouts.start()
      await waitFor('waiting for the other install', () => t.rollouts.view('app')?.reason === ANOTHER_INSTALL ? true : undefined, 5_000, 20)
      assert.equal(t.rollouts.view('app')?.outcome, 'waiting')
      // and the race: the other install starts between the check and the rollout's own
      const upgrade = t.manager.upgrade.bind(t.manager)
      let refused = 0
      t.manager.upgrade = async (...args) => {
        if (refused++ === 0) throw new InstallInProgressError('app 1.0.0', process.pid, 'an install is already in progress on this node (app 1.0.0)')
        return await upgrade(...args)
      }
      busy = false
      await waitFor('app healthy', () => t.rollouts.view('app')?.outcome === 'healthy' ? true : undefined, 5_000, 20)
      assert.equal(refused, 2)
      assert.equal(current(t), '1.1.0')
      const mine = (await reports(t)).filter(r => r.rolloutId === t.doc!.id)
      assert.deepEqual(mine.map(r => r.outcome), ['waiting', 'installing', 'waiting', 'installing', 'healthy'])
      assert.deepEqual(mine.filter(r => r.outcome === 'waiting').map(r => r.reason), [ANOTHER_INSTALL, ANOTHER_INSTALL])
    } finally {
      t.rollouts.stop()
    }
  })

  it('an install its own crash cut short before the switch is tried again, up to three times; another failure is not', async () => {
    const interrupted = (t: TestNode, times: number, reason = 'interrupted during stage (the node stopped); undone at restart'): void => {
      const root = join(t.dataDir, 'installs', 'app')
      mkdirSync(root, { recursive: true })
      const at = new Date().toISOString()
      for (let i = 0; i < times; i++) appendFileSync(join(root, 'history.jsonl'), JSON.stringify({ id: `crash-${i}`, package: 'app', kind: 'upgrade', from: null, to: '1.1.0', startedAt: at, finishedAt: at, outcome: 'failed', reason, step: 'stage' }) + '\n')
    }
    const once = node()
    once.doc = rollout()
    interrupted(once, 2)
    try {
      await until(once, 'healthy', true)
      assert.equal(current(once), '1.1.0', 'tried again after two interruptions before the switch')
    } finally {
      once.rollouts.stop()
    }
    const thrice = node()
    thrice.doc = rollout()
    interrupted(thrice, 3)
    try {
      const view = await until(thrice, 'failed', true)
      assert.match(view.reason, /interrupted during stage/)
      assert.equal(current(thrice), null, 'three interruptions: judged failed, not tried a fourth time')
    } finally {
      thrice.rollouts.stop()
    }
    const unhealthy = node()
    unhealthy.doc = rollout()
    interrupted(unhealthy, 1, 'health check failed: exit 1')
    try {
      await until(unhealthy, 'failed', true)
      assert.equal(current(unhealthy), null, 'a real failure is not retried')
    } finally {
      unhealthy.rollouts.stop()
    }
  })
})
