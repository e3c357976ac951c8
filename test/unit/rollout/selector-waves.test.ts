/**
 * Selectors through the rollout machinery: waves over the selected nodes,
 * the selector in the signed document, labels in signed reports, the report
 * book's rows per (node, package), the coordinator filling count waves per
 * package and from selected nodes only, and the empty-selection check
 * before signing. Real repositories and real signatures; the coordinator's
 * passes are run by calling tick().
 */
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { reportsTopic } from '../../../src/network/protocol-ids.js'
import { addRelease } from '../../../src/release/index.js'
import { Coordinator } from '../../../src/rollout/coordinator.js'
import { encodeRolloutDocument, parseRolloutDocument, parseWaves } from '../../../src/rollout/document.js'
import { beginRollout } from '../../../src/rollout/operations.js'
import { readRollout, startRollout } from '../../../src/rollout/repo-rollouts.js'
import { canonicalReport, MAX_REPORT_BYTES, ReportBook, signReport, verifyReport } from '../../../src/rollout/reports.js'
import { checkSelection } from '../../../src/rollout/selection.js'
import { parseSelector } from '../../../src/rollout/selector.js'
import { fleetRows, rolloutView } from '../../../src/rollout/views.js'
import { chooseCountPeers, isSelected, nodePosition, notSelectedReason, waveOf } from '../../../src/rollout/waves.js'
import { Repository } from '../../../src/trust/repository.js'
import { captureLogger } from '../../helpers/capture-logger.js'
import { tempDir } from '../../helpers/cli.js'
import { rolloutDoc } from '../../helpers/rollout-doc.js'
import type { GossipSub, Message } from '@libp2p/gossipsub'
import type { PrivateKey } from '@libp2p/interface'
import type { Labels } from '../../../src/rollout/labels.js'
import type { NodeOutcome, NodeReport, RolloutDocument } from '../../../src/rollout/types.js'

const NETWORK = 'unit'
const tmp = tempDir('umesh-selector-waves-')
after(() => { tmp.remove() })

interface Node { key: PrivateKey, peerId: string, tags: string[], labels: Labels }

async function nodes (labels: Labels[]): Promise<Node[]> {
  return await Promise.all(labels.map(async l => {
    const key = await generateKeyPair('Ed25519')
    return { key, peerId: peerIdFromPrivateKey(key).toString(), tags: [], labels: l }
  }))
}

let seq = 1
function reportOf (node: Node, over: Partial<NodeReport> = {}): NodeReport {
  return { peerId: node.peerId, rolloutId: 'none', package: 'app', version: '1.1.0', outcome: 'waiting', current: '1.0.0', wave: -1, reason: '', tags: node.tags, ...(Object.keys(node.labels).length > 0 ? { labels: node.labels } : {}), at: Date.now(), seq: ++seq, ...over }
}

const EU_B = { region: 'eu-west', hw: 'revB' }
const EU_C = { region: 'eu-west', hw: 'revC' }
const US_B = { region: 'us-east', hw: 'revB' }

describe('waves over the selected nodes', () => {
  it('a rollout without a selector selects every node; with one, the nodes it matches', () => {
    const plain = rolloutDoc('app', '1.1.0', '100%')
    const selective = rolloutDoc('app', '1.1.0', '100%', { selector: 'region=eu-west' })
    assert.equal(isSelected(plain, {}), true)
    assert.equal(notSelectedReason(plain, {}), undefined)
    assert.equal(isSelected(selective, EU_B), true)
    assert.equal(isSelected(selective, US_B), false)
    assert.equal(notSelectedReason(selective, US_B), 'not selected: region=eu-west (this node: region=us-east)')
  })

  it('count waves are filled from selected nodes only, a selected canary first; an unselected canary is never chosen', async () => {
    const fleet = await nodes([US_B, EU_B, EU_C, US_B, EU_B, EU_C])
    fleet[0].tags = ['canary']
    fleet[5].tags = ['canary']
    const doc = rolloutDoc('app', '1.1.0', 'canary:2,c2:2,100%', { id: 'sel-count-1', selector: 'region=eu-west,hw in (revB,revC)' })
    const waves = chooseCountPeers(fleet, doc)
    const eu = new Set(fleet.filter(n => n.labels.region === 'eu-west').map(n => n.peerId))
    assert.equal(waves[0].peers[0], fleet[5].peerId, 'the selected canary first')
    assert.ok(!waves.flatMap(w => w.peers).includes(fleet[0].peerId), 'the unselected canary is not chosen')
    assert.equal(waves[0].peers.length + waves[1].peers.length, 4)
    for (const p of [...waves[0].peers, ...waves[1].peers]) assert.ok(eu.has(p), 'only selected nodes')
    // without the selector both canaries fill the first wave
    assert.deepEqual(new Set(chooseCountPeers(fleet, { ...doc, selector: undefined })[0].peers), new Set([fleet[0].peerId, fleet[5].peerId]))
  })

  it('percentage waves split the selected nodes in the shares given (a node\'s wave does not depend on who else is selected)', () => {
    const doc = rolloutDoc('app', '1.1.0', '10%,50%,100%', { id: 'sel-share-1', selector: 'region=eu-west' })
    const counts = [0, 0, 0]
    let selected = 0
    for (let i = 0; i < 4000; i++) {
      const labels = i % 2 === 0 ? EU_B : US_B
      if (!isSelected(doc, labels)) continue
      selected++
      counts[waveOf({ peerId: `peer${i}`, tags: [], doc })]++
    }
    assert.equal(selected, 2000)
    const shares = counts.map(c => c / selected)
    assert.ok(Math.abs(shares[0] - 0.1) < 0.03 && Math.abs(shares[1] - 0.4) < 0.04 && Math.abs(shares[2] - 0.5) < 0.04, `shares ${shares.join(', ')}`)
  })
})

describe('the selector in the signed document', () => {
  it('round-trips in canonical form; a document without one has no such field', () => {
    const doc = rolloutDoc('app', '1.1.0', '100%', { id: 'sel-doc-0001', selector: 'region=eu-west,hw in (revB,revC),!legacy' })
    assert.equal(parseRolloutDocument(encodeRolloutDocument(doc)).selector, 'region=eu-west,hw in (revB,revC),!legacy')
    const plain = rolloutDoc('app', '1.1.0', '100%', { id: 'sel-doc-0002' })
    const bytes = encodeRolloutDocument(plain)
    assert.ok(!new TextDecoder().decode(bytes).includes('selector'))
    assert.equal('selector' in parseRolloutDocument(bytes), false)
  })

  it('a selector that does not parse, or not in canonical form, is refused naming the field', () => {
    const withSelector = (selector: unknown): Uint8Array => {
      const raw = JSON.parse(new TextDecoder().decode(encodeRolloutDocument(rolloutDoc('app', '1.1.0', '100%', { id: 'sel-doc-0003' }))))
      return new TextEncoder().encode(JSON.stringify({ ...raw, selector }))
    }
    assert.throws(() => parseRolloutDocument(withSelector('hw in revB')), /rollout document: selector: expected "\(" after in, found "r" at character 7/)
    assert.throws(() => parseRolloutDocument(withSelector('region==eu-west')), /selector: expected the canonical form "region=eu-west"/)
    assert.throws(() => parseRolloutDocument(withSelector(['region=eu'])), /selector: expected selector text/)
    assert.throws(() => parseRolloutDocument(withSelector('')), /selector: the selector is empty/)
  })
})

describe('labels in signed reports', () => {
  it('are signed and verified; a report without labels keeps the older form, byte for byte', async () => {
    const [n] = await nodes([EU_B])
    const labelled = await verifyReport(await signReport(reportOf(n), n.key))
    assert.ok(labelled.ok)
    assert.deepEqual(labelled.report.labels, { hw: 'revB', region: 'eu-west' })
    const plain = reportOf({ ...n, labels: {} })
    assert.deepEqual(Object.keys(JSON.parse(new TextDecoder().decode(canonicalReport(plain)))), ['peerId', 'rolloutId', 'package', 'version', 'outcome', 'current', 'wave', 'reason', 'tags', 'at', 'seq'])
    const unlabelled = await verifyReport(await signReport({ ...plain, labels: {} }, n.key))
    assert.ok(unlabelled.ok)
    assert.equal('labels' in unlabelled.report, false, 'an empty set is left out')
    const notSelected = await verifyReport(await signReport(reportOf(n, { outcome: 'not-selected', reason: 'not selected: region=us-east (this node: region=eu-west)' }), n.key))
    assert.ok(notSelected.ok && notSelected.report.outcome === 'not-selected')
  })

  it('labels changed in transit break the signature; malformed labels are refused', async () => {
    const [n] = await nodes([EU_B])
    const bytes = await signReport(reportOf(n), n.key)
    const edit = (f: (signed: any) => void): Uint8Array => {
      const signed = JSON.parse(new TextDecoder().decode(bytes))
      f(signed)
      return new TextEncoder().encode(JSON.stringify(signed))
    }
    const moved = await verifyReport(edit(s => { s.report.labels.region = 'us-east' }))
    assert.ok(!moved.ok && /signature does not match/.test(moved.reason))
    const dropped = await verifyReport(edit(s => { delete s.report.labels }))
    assert.ok(!dropped.ok && /signature does not match/.test(dropped.reason))
    for (const [labels, pattern] of [[{ '-x': 'a' }, /field labels: label -x=a/], [[], /field labels: expected an object/], [{}, /field labels: empty/], [{ a: 1 }, /expected a string value/]] as const) {
      const v = await verifyReport(edit(s => { s.report.labels = labels }))
      assert.ok(!v.ok && pattern.test(v.reason), `${JSON.stringify(labels)}: ${v.ok ? 'accepted' : v.reason}`)
    }
  })

  it('a report at every limit, with 16 labels of 1024 characters, still signs within the size cap', async () => {
    const [n] = await nodes([{}])
    const labels = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${String(i).padStart(2, '0')}`.padEnd(32, 'k'), 'v'.repeat(32)]))
    const report = reportOf({ ...n, labels }, { reason: '\u0001'.repeat(512), tags: Array.from({ length: 16 }, () => '\u0001'.repeat(32)), version: 'v'.repeat(64), current: 'c'.repeat(64) })
    const bytes = await signReport(report, n.key)
    assert.ok(bytes.byteLength <= MAX_REPORT_BYTES, `${bytes.byteLength} bytes`)
    assert.ok((await verifyReport(bytes)).ok)
  })
})

describe('the report book per (node, package)', () => {
  it('keeps a node\'s reports of two packages under no rollout apart, also through the state file', async () => {
    const [n] = await nodes([EU_B])
    const book = new ReportBook()
    book.accept(reportOf(n, { package: 'app' }))
    book.accept(reportOf(n, { package: 'lib', current: '2.0.0' }))
    book.accept(reportOf(n, { package: 'app', current: '1.0.1' }))
    const rows = (b: ReportBook): string[] => b.rows().map(r => `${r.package} ${r.report.current}`)
    assert.deepEqual(rows(book), ['app 1.0.1', 'lib 2.0.0'])
    assert.equal(book.nodes().length, 1, 'one node')
    assert.deepEqual(rows(ReportBook.fromJSON(JSON.parse(JSON.stringify(book.toJSON())))), ['app 1.0.1', 'lib 2.0.0'])
    assert.deepEqual(fleetRows(book).map(r => ({ package: r.package, current: r.current, labels: r.labels })), [{ package: 'app', current: '1.0.1', labels: EU_B }, { package: 'lib', current: '2.0.0', labels: EU_B }])
  })

  it('fleet and rollout views filter by a selector on the reported labels', async () => {
    const fleet = await nodes([EU_B, US_B, EU_C])
    const book = new ReportBook()
    const doc = rolloutDoc('app', '1.1.0', '100%', { id: 'sel-view-001' })
    for (const n of fleet) book.accept(reportOf(n, { rolloutId: doc.id, wave: 0, outcome: 'healthy' }))
    assert.deepEqual(fleetRows(book, { select: parseSelector('hw=revB') }).map(r => r.labels.region).sort(), ['eu-west', 'us-east'])
    const view = rolloutView(book, doc, [], parseSelector('region=eu-west'))
    assert.equal(view.nodes.length, 2)
    assert.equal(view.waves[0].healthy, 2, 'wave counts over the filtered nodes')
    assert.equal(rolloutView(book, doc, []).waves[0].healthy, 3)
  })
})

/** a repository with app and lib, 1.0.0 and 1.1.0 each, signed */
let repos = 0
async function repoWithReleases (): Promise<string> {
  const repoDir = join(tmp.path, `repo-${++repos}`)
  const repo = Repository.init(repoDir)
  for (const pkg of ['app', 'lib']) {
    for (const version of ['1.0.0', '1.1.0']) {
      const src = join(tmp.path, `src-${repos}-${pkg}-${version}`)
      mkdirSync(src, { recursive: true })
      writeFileSync(join(src, 'VERSION'), `${pkg} ${version}\n`)
      await addRelease(repo, src, { package: pkg, version })
    }
  }
  return repoDir
}

function start (repoDir: string, pkg: string, waves: string, selector?: string): RolloutDocument {
  return startRollout(Repository.open(repoDir), { package: pkg, version: '1.1.0', waves: parseWaves(waves), gate: { success: 1, soakMs: 0 }, abort: 0.5, maxParallel: 1, manual: false, allowDowngrade: false, critical: false, ...(selector != null ? { selector } : {}) })
}

function coordinatorOn (repoDir: string): { coordinator: Coordinator, send: (node: Node, outcome: NodeOutcome, over?: Partial<NodeReport>) => Promise<void> } {
  const topics = new Map<string, any>()
  const pubsub = { topicValidators: topics, subscribe: () => {}, unsubscribe: () => {} } as unknown as GossipSub
  const coordinator = new Coordinator({ pubsub, logger: captureLogger().components }, { repoDir, network: NETWORK, webhooks: [], tickMs: 1_000_000_000 })
  coordinator.start()
  const send = async (node: Node, outcome: NodeOutcome, over: Partial<NodeReport> = {}): Promise<void> => {
    const bytes = await signReport(reportOf(node, { outcome, ...over }), node.key)
    const result = await topics.get(reportsTopic(NETWORK))(peerIdFromPrivateKey(node.key), { type: 'unsigned', topic: reportsTopic(NETWORK), data: bytes } as unknown as Message)
    assert.equal(result, TopicValidatorResult.Accept)
  }
  return { coordinator, send }
}

describe('the coordinator per package and per selector', { timeout: 20_000 }, () => {
  let repoDir: string
  before(async () => { repoDir = await repoWithReleases() })

  it('fills each package\'s count wave from every node reporting on that package, whatever package a node reported last', async () => {
    const fleet = await nodes([{}, {}, {}, {}])
    const app = start(repoDir, 'app', 'first:2,100%')
    const lib = start(repoDir, 'lib', 'first:3,100%')
    const { coordinator, send } = coordinatorOn(repoDir)
    try {
      // every node reports app, then lib: the newest report of each names lib
      for (const n of fleet) await send(n, 'waiting', { package: 'app' })
      for (const n of fleet) await send(n, 'waiting', { package: 'lib' })
      await coordinator.tick()
      const repo = Repository.open(repoDir)
      const appNow = readRollout(repo, 'app')!
      const libNow = readRollout(repo, 'lib')!
      assert.equal(appNow.id, app.id)
      assert.equal(libNow.id, lib.id)
      assert.equal(appNow.open, 0)
      assert.equal(libNow.open, 0)
      assert.equal(appNow.waves[0].peers.length, 2, 'app: the count wave is filled although every node last reported lib')
      assert.equal(libNow.waves[0].peers.length, 3)
      const byPosition = (id: string): string[] => [...fleet].sort((a, b) => nodePosition(a.peerId, id) - nodePosition(b.peerId, id)).map(n => n.peerId)
      assert.deepEqual(appNow.waves[0].peers, byPosition(app.id).slice(0, 2))
      assert.deepEqual(libNow.waves[0].peers, byPosition(lib.id).slice(0, 3))
    } finally {
      await coordinator.stop()
    }
  })

  it('with a selector: the count wave takes selected nodes only, and the open wave expects only selected nodes', async () => {
    const dir = await repoWithReleases()
    const fleet = await nodes([EU_B, US_B, EU_C, US_B, EU_B])
    const doc = start(dir, 'app', 'canary:1,100%', 'region=eu-west')
    const { coordinator, send } = coordinatorOn(dir)
    try {
      for (const n of fleet) await send(n, 'waiting')
      await coordinator.tick()
      const opened = readRollout(Repository.open(dir), 'app')!
      assert.equal(opened.open, 0)
      const canary = fleet.find(n => n.peerId === opened.waves[0].peers[0])!
      assert.equal(canary.labels.region, 'eu-west')
      // the canary becomes healthy; the soak is 0: the next wave opens
      await send(canary, 'healthy', { rolloutId: doc.id, wave: 0, current: '1.1.0' })
      for (const n of fleet.filter(n => n.labels.region !== 'eu-west')) await send(n, 'not-selected', { rolloutId: doc.id, wave: -1, reason: 'not selected: region=eu-west (this node: region=us-east)' })
      await coordinator.tick()
      assert.equal(readRollout(Repository.open(dir), 'app')!.open, 1)
      // the last wave: the two other eu nodes are expected; the us nodes, not selected, are not
      const rest = fleet.filter(n => n.labels.region === 'eu-west' && n !== canary)
      await send(rest[0], 'healthy', { rolloutId: doc.id, wave: 1, current: '1.1.0' })
      await coordinator.tick()
      assert.equal(readRollout(Repository.open(dir), 'app')!.state, 'running', 'one of the two selected nodes of the wave is not healthy yet')
      await send(rest[1], 'healthy', { rolloutId: doc.id, wave: 1, current: '1.1.0' })
      await coordinator.tick()
      assert.equal(readRollout(Repository.open(dir), 'app')!.state, 'completed', 'completed with the unselected nodes on their old version')
    } finally {
      await coordinator.stop()
    }
  })

  it('refuses a selector that matches no known node of the package before signing, unless allowed', async () => {
    const dir = await repoWithReleases()
    const fleet = await nodes([EU_B, US_B])
    const { coordinator, send } = coordinatorOn(dir)
    try {
      for (const n of fleet) await send(n, 'waiting')
      await coordinator.tick() // writes the state file
    } finally {
      await coordinator.stop()
    }
    assert.deepEqual(checkSelection(dir, 'app', parseSelector('hw=revB'), false), { selected: 2, known: 2 })
    assert.throws(() => checkSelection(dir, 'app', parseSelector('region=ap-south'), false), (err: Error) => {
      assert.equal(err.name, 'EmptySelectionError')
      assert.match(err.message, /--select "region=ap-south": it matches none of the 2 nodes of app the coordinator has heard of \(their labels: hw=revB,region=eu-west x1; hw=revB,region=us-east x1\); correct the selector, or give --allow-empty/)
      return true
    })
    assert.throws(() => checkSelection(dir, 'lib', parseSelector('hw=revB'), false), /the coordinator has heard of no node of lib/)
    const repo = Repository.open(dir)
    assert.throws(() => beginRollout(repo, { package: 'app', version: '1.1.0', select: 'region=ap-south' }, { actor: 'test', via: 'cli' } as any), /matches none/)
    assert.equal(readRollout(Repository.open(dir), 'app'), undefined, 'nothing signed')
    const signed = beginRollout(repo, { package: 'app', version: '1.1.0', select: 'region == ap-south', allowEmpty: true }, { actor: 'test', via: 'cli' } as any)
    assert.equal(signed.selector, 'region=ap-south')
    assert.equal(readRollout(Repository.open(dir), 'app')!.selector, 'region=ap-south')
  })
})
