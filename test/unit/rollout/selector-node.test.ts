/**
 * A node's side of a rollout with a selector, with a real InstallManager on
 * a data dir holding app 1.0.0 and 1.1.0 (held-releases.ts), a stub pubsub
 * that keeps the reports it publishes (each verified), and labels the test
 * changes as a SIGHUP would: a node outside the selector reports
 * not-selected naming the requirement and never installs; a node judges a
 * rollout by the labels it had when the rollout first reached it, across a
 * restart, and the next rollout by its labels of then.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { InstallManager } from '../../../src/install/manager.js'
import { encodeRolloutDocument, newRolloutId } from '../../../src/rollout/document.js'
import { NodeRollouts, SELECTION_LABELS_FILE } from '../../../src/rollout/node-rollouts.js'
import { verifyReport } from '../../../src/rollout/reports.js'
import { ROLLOUT_FORMAT } from '../../../src/rollout/types.js'
import { captureLogger } from '../../helpers/capture-logger.js'
import { waitFor } from '../../helpers/cli.js'
import { releaseOf, writeHeldReleases } from '../../helpers/held-releases.js'
import { makeStateFiles, memoryStore, packageConfig } from '../../helpers/install-fixture.js'
import type { GossipSub } from '@libp2p/gossipsub'
import type { PrivateKey } from '@libp2p/interface'
import type { Labels } from '../../../src/rollout/labels.js'
import type { NodeReport, RolloutDocument } from '../../../src/rollout/types.js'
import type { ReleaseIndex } from '../../../src/release/index.js'

const root = mkdtempSync(join(tmpdir(), 'umesh-selector-node-'))
const store = memoryStore()
const app = new Map<string, ReleaseIndex>()
let key: PrivateKey
let peerId: string
before(async () => {
  app.set('1.0.0', releaseOf(root, store, { version: '1.0.0' }, 0))
  app.set('1.1.0', releaseOf(root, store, { version: '1.1.0' }, 1))
  key = await generateKeyPair('Ed25519')
  peerId = peerIdFromPrivateKey(key).toString()
})
after(() => { rmSync(root, { recursive: true, force: true }) })

/** one wave, open, running, to 1.1.0, selecting `selector` */
function rollout (selector: string): RolloutDocument {
  const created = new Date(Date.now() - 60_000).toISOString()
  return { format: ROLLOUT_FORMAT, id: newRolloutId(), package: 'app', version: '1.1.0', waves: [{ name: 'all', fraction: 1, peers: [] }], open: 0, state: 'running', rollback: false, gate: { success: 1, soakMs: 0 }, abort: 0.5, maxParallel: 1, manual: false, downgrade: false, critical: false, created, updated: created, reason: 'test', selector }
}

interface TestNode { rollouts: NodeRollouts, manager: InstallManager, doc?: RolloutDocument, labels: Labels, published: Uint8Array[], restart: () => NodeRollouts }

let n = 0
function node (labels: Labels): TestNode {
  const dataDir = join(root, `node-${++n}`)
  makeStateFiles(dataDir)
  process.env.UMESH_STATE_DIR = join(dataDir, 'state')
  const { paths, targets } = writeHeldReleases(dataDir, [...app.values()].map(index => ({ index })), ['app@stable'])
  const logs = captureLogger()
  const manager = new InstallManager({ paths, store, logger: logs.components }, { packages: { app: packageConfig(dataDir, { autoUpdate: true }) } })
  const t = { manager, labels, published: [] } as unknown as TestNode
  const make = (): NodeRollouts => new NodeRollouts({
    identity: { peerId: { toString: () => peerId }, privateKey: key },
    manager,
    pubsub: { topicValidators: new Map(), subscribe: () => {}, unsubscribe: () => {}, publish: async (_topic: string, data: Uint8Array) => { t.published.push(data); return { recipients: [] } } } as unknown as GossipSub,
    documents: { document: pkg => pkg === 'app' && t.doc != null ? encodeRolloutDocument(t.doc) : undefined },
    trust: { targets: () => targets },
    logger: logs.components
  }, { network: 'unit', tags: [], labels: () => t.labels, maintenance: { windows: [], blackouts: [] }, allowDowngrade: () => false, heartbeatMs: 60_000, slotMs: 10 })
  t.rollouts = make()
  t.restart = make
  return t
}

async function until (t: TestNode, outcome: string, rolloutId: string): Promise<NonNullable<ReturnType<NodeRollouts['view']>>> {
  return await waitFor(`app ${outcome} in ${rolloutId}`, () => {
    const v = t.rollouts.view('app')
    return v?.outcome === outcome && v.rolloutId === rolloutId && !t.manager.busy ? v : undefined
  }, 5_000, 20)
}

async function reports (t: TestNode): Promise<NodeReport[]> {
  const out: NodeReport[] = []
  for (const bytes of t.published) {
    const v = await verifyReport(bytes)
    assert.ok(v.ok)
    out.push(v.report)
  }
  return out
}

const current = (t: TestNode): string | null => t.manager.installer('app').journal().current

describe('a node and a rollout with a selector', { timeout: 30_000 }, () => {
  it('outside the selector: reports not-selected with the requirement it fails, wave -1, its labels; never installs', async () => {
    const t = node({ region: 'us-east', hw: 'revB' })
    t.doc = rollout('region=eu-west,hw=revB')
    t.rollouts.start()
    try {
      const view = await until(t, 'not-selected', t.doc.id)
      assert.deepEqual(view, { outcome: 'not-selected', reason: 'not selected: region=eu-west (this node: region=us-east)', wave: -1, rolloutId: t.doc.id, version: '1.1.0' })
      await new Promise(resolve => setTimeout(resolve, 1_500)) // a pass or two more: still nothing installed
      assert.equal(current(t), null)
      const last = (await reports(t)).at(-1)!
      assert.deepEqual({ outcome: last.outcome, wave: last.wave, labels: last.labels }, { outcome: 'not-selected', wave: -1, labels: { hw: 'revB', region: 'us-east' } })
      const saved = JSON.parse(readFileSync(join(t.manager.installer('app').root, SELECTION_LABELS_FILE), 'utf8'))
      assert.deepEqual(saved, { rolloutId: t.doc.id, labels: { hw: 'revB', region: 'us-east' } })
    } finally {
      t.rollouts.stop()
    }
  })

  it('labels changed while a rollout runs do not move the node in it, also across a restart; the next rollout takes the new labels', async () => {
    const t = node({ region: 'us-east' })
    const first = rollout('region=eu-west')
    t.doc = first
    t.rollouts.start()
    try {
      await until(t, 'not-selected', first.id)
      t.labels = { region: 'eu-west' } // a SIGHUP
      await waitFor('a report with the new labels', async () => (await reports(t)).some(r => r.labels?.region === 'eu-west'), 3_000, 20)
      await new Promise(resolve => setTimeout(resolve, 1_500))
      assert.equal(t.rollouts.view('app')?.outcome, 'not-selected', 'still judged by the labels it had when the rollout reached it')
      assert.equal(current(t), null)
    } finally {
      t.rollouts.stop()
    }
    t.rollouts = t.restart()
    t.rollouts.start()
    try {
      await until(t, 'not-selected', first.id)
      await new Promise(resolve => setTimeout(resolve, 1_200))
      assert.equal(current(t), null, 'a restart keeps the labels of the rollout\'s arrival')
      // the next rollout reaches it with its new labels: it is selected and installs
      const next = rollout('region=eu-west')
      t.doc = next
      const view = await until(t, 'healthy', next.id)
      assert.equal(view.wave, 0)
      assert.equal(current(t), '1.1.0')
    } finally {
      t.rollouts.stop()
    }
  })

  it('inside the selector it installs; a rollout without one ignores labels', async () => {
    const t = node({})
    t.doc = rollout('!legacy,hw notin (revA)')
    t.rollouts.start()
    try {
      await until(t, 'healthy', t.doc.id)
      assert.equal(current(t), '1.1.0')
      assert.equal(existsSync(join(t.manager.installer('app').root, SELECTION_LABELS_FILE)), true)
      const last = (await reports(t)).at(-1)!
      assert.equal('labels' in last, false, 'a node without labels sends none')
    } finally {
      t.rollouts.stop()
    }
  })
})
