/**
 * The coordinator on a real repository: signed reports fed through the
 * validator it installs on the reports topic (as gossipsub would), each pass
 * run by calling tick(). Waves opened (count waves filled, canaries first),
 * the gate after the soak, a halt with rollback, completion, a forged report
 * that changes nothing, the state file and the webhook events in order.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { reportsTopic } from '../../../src/network/protocol-ids.js'
import { addRelease } from '../../../src/release/index.js'
import { Coordinator, readCoordinatorState } from '../../../src/rollout/coordinator.js'
import { parseWaves } from '../../../src/rollout/document.js'
import { readRollout, startRollout } from '../../../src/rollout/repo-rollouts.js'
import { signReport } from '../../../src/rollout/reports.js'
import { nodePosition } from '../../../src/rollout/waves.js'
import { Repository } from '../../../src/trust/repository.js'
import { captureLogger } from '../../helpers/capture-logger.js'
import { tempDir } from '../../helpers/cli.js'
import type { GossipSub, Message } from '@libp2p/gossipsub'
import type { PrivateKey } from '@libp2p/interface'
import type { AddressInfo } from 'node:net'
import type { NodeOutcome, NodeReport, RolloutDocument } from '../../../src/rollout/types.js'

const NETWORK = 'unit'
const tmp = tempDir('umesh-coordinator-')
after(() => { tmp.remove() })

let repos = 0
/** a repository with app 1.0.0 and 1.1.0 signed and a rollout of 1.1.0 started (no wave open yet) */
async function rolloutRepo (opts: { waves: string, soakMs: number, abort?: number }): Promise<{ repoDir: string, doc: RolloutDocument }> {
  const repoDir = join(tmp.path, `repo-${++repos}`)
  const repo = Repository.init(repoDir)
  for (const version of ['1.0.0', '1.1.0']) {
    const src = join(tmp.path, `src-${repos}-${version}`)
    mkdirSync(src, { recursive: true })
    writeFileSync(join(src, 'VERSION'), `${version}\n`)
    await addRelease(repo, src, { package: 'app', version })
  }
  const doc = startRollout(repo, {
    package: 'app',
    version: '1.1.0',
    waves: parseWaves(opts.waves),
    gate: { success: 1, soakMs: opts.soakMs },
    abort: opts.abort ?? 0.5,
    maxParallel: 1,
    manual: false,
    allowDowngrade: false,
    critical: false
  })
  return { repoDir, doc }
}

/** a pubsub with just what the coordinator touches */
function stubPubsub (): { pubsub: GossipSub, topics: Map<string, any>, subscribed: Set<string> } {
  const topics = new Map<string, any>()
  const subscribed = new Set<string>()
  const pubsub = {
    topicValidators: topics,
    subscribe: (t: string) => { subscribed.add(t) },
    unsubscribe: (t: string) => { subscribed.delete(t) }
  } as unknown as GossipSub
  return { pubsub, topics, subscribed }
}

interface Node { key: PrivateKey, peerId: string, tags: string[] }

async function nodes (n: number): Promise<Node[]> {
  return await Promise.all(Array.from({ length: n }, async () => {
    const key = await generateKeyPair('Ed25519')
    return { key, peerId: peerIdFromPrivateKey(key).toString(), tags: [] }
  }))
}

let seq = 1
function reportOf (node: Node, over: Partial<NodeReport> = {}): NodeReport {
  return { peerId: node.peerId, rolloutId: 'none', package: 'app', version: '1.1.0', outcome: 'waiting', current: '1.0.0', wave: -1, reason: '', tags: node.tags, at: Date.now(), seq: ++seq, ...over }
}

/** a coordinator started on `repoDir` with a tick interval that never fires; reports go through its topic validator */
function coordinatorOn (repoDir: string, webhooks: string[] = []): { coordinator: Coordinator, feed: (node: Node, bytes: Uint8Array) => Promise<TopicValidatorResult>, send: (node: Node, outcome: NodeOutcome, over?: Partial<NodeReport>) => Promise<void>, subscribed: Set<string>, lines: string[] } {
  const { pubsub, topics, subscribed } = stubPubsub()
  const logs = captureLogger()
  const coordinator = new Coordinator({ pubsub, logger: logs.components }, { repoDir, network: NETWORK, webhooks, tickMs: 1_000_000_000 })
  coordinator.start()
  const feed = async (node: Node, bytes: Uint8Array): Promise<TopicValidatorResult> => {
    const validator = topics.get(reportsTopic(NETWORK))
    assert.ok(validator != null, 'the coordinator installs a validator on the reports topic')
    return await validator(peerIdFromPrivateKey(node.key), { type: 'unsigned', topic: reportsTopic(NETWORK), data: bytes } as unknown as Message)
  }
  const send = async (node: Node, outcome: NodeOutcome, over: Partial<NodeReport> = {}): Promise<void> => {
    assert.equal(await feed(node, await signReport(reportOf(node, { outcome, ...over }), node.key)), TopicValidatorResult.Accept)
  }
  return { coordinator, feed, send, subscribed, lines: logs.lines }
}

const eventsOf = (repoDir: string, id: string): string[] => (readCoordinatorState(repoDir)?.rollouts[id]?.events ?? []).map(e => e.event)
const docOf = (repoDir: string): RolloutDocument => readRollout(Repository.open(repoDir), 'app')!
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** a local webhook receiver that keeps each JSON body */
async function receiver (): Promise<{ url: string, bodies: any[], close: () => Promise<void> }> {
  const bodies: any[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      res.writeHead(200).end('ok')
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
    }
  }
}

describe('Coordinator', { timeout: 20_000 }, () => {
  it('start subscribes and installs the validator; stop undoes both', async () => {
    const { repoDir } = await rolloutRepo({ waves: '100%', soakMs: 0 })
    const { pubsub, topics, subscribed } = stubPubsub()
    const coordinator = new Coordinator({ pubsub, logger: captureLogger().components }, { repoDir, network: NETWORK, webhooks: [], tickMs: 1_000_000_000 })
    coordinator.start()
    assert.deepEqual([...subscribed], [reportsTopic(NETWORK)])
    assert.equal(typeof topics.get(reportsTopic(NETWORK)), 'function')
    await coordinator.stop()
    assert.equal(subscribed.size, 0)
    assert.equal(topics.size, 0)
  })

  it('opens the first wave, filling the count wave with a canary-tagged node first', async () => {
    const { repoDir, doc } = await rolloutRepo({ waves: 'canary:1,100%', soakMs: 0 })
    const fleet = await nodes(3)
    // the canary is the node the hash would choose last: only its tag can put it first
    fleet.sort((a, b) => nodePosition(a.peerId, doc.id) - nodePosition(b.peerId, doc.id))
    const canary = fleet[2]
    canary.tags = ['canary']
    const { coordinator, send } = coordinatorOn(repoDir)
    try {
      for (const n of fleet) await send(n, 'waiting')
      assert.equal(docOf(repoDir).open, -1, 'nothing opens before a pass')
      await coordinator.tick()
      const now = docOf(repoDir)
      assert.equal(now.open, 0)
      assert.equal(now.state, 'running')
      assert.deepEqual(now.waves[0].peers, [canary.peerId])
      assert.deepEqual(now.waves[1].peers, [])
      assert.deepEqual(eventsOf(repoDir, doc.id), ['started', 'wave-opened'])
      // a second pass changes nothing: no node of the open wave reported under the rollout yet
      await coordinator.tick()
      assert.equal(docOf(repoDir).open, 0)
      assert.deepEqual(eventsOf(repoDir, doc.id), ['started', 'wave-opened'])
    } finally {
      await coordinator.stop()
    }
  })

  it('without a canary tag the count wave takes the lowest position', async () => {
    const { repoDir, doc } = await rolloutRepo({ waves: 'canary:1,100%', soakMs: 0 })
    const fleet = await nodes(3)
    fleet.sort((a, b) => nodePosition(a.peerId, doc.id) - nodePosition(b.peerId, doc.id))
    const { coordinator, send } = coordinatorOn(repoDir)
    try {
      for (const n of fleet) await send(n, 'waiting')
      await coordinator.tick()
      assert.deepEqual(docOf(repoDir).waves[0].peers, [fleet[0].peerId])
    } finally {
      await coordinator.stop()
    }
  })

  it('passes the gate after the soak, opens the next wave, completes after the last; state file and webhook in order', async () => {
    const hook = await receiver()
    const { repoDir, doc } = await rolloutRepo({ waves: 'canary:1,100%', soakMs: 300 })
    const [a, b, c] = await nodes(3)
    a.tags = ['canary']
    const { coordinator, send } = coordinatorOn(repoDir, [hook.url])
    try {
      for (const n of [a, b, c]) await send(n, 'waiting')
      await coordinator.tick()
      assert.equal(docOf(repoDir).open, 0)

      await send(a, 'healthy', { rolloutId: doc.id, wave: 0, current: '1.1.0' })
      await coordinator.tick()
      assert.equal(docOf(repoDir).open, 0, 'the wave soaks before its gate is judged')
      await sleep(350)
      await coordinator.tick()
      assert.equal(docOf(repoDir).open, 1, 'after the soak the gate passes and the next wave opens')

      await send(b, 'healthy', { rolloutId: doc.id, wave: 1, current: '1.1.0' })
      await sleep(350)
      await coordinator.tick()
      assert.equal(docOf(repoDir).state, 'running', 'c, in the open wave, has not reported healthy: the gate waits')

      await send(c, 'healthy', { rolloutId: doc.id, wave: 1, current: '1.1.0' })
      await sleep(350)
      await coordinator.tick()
      const done = docOf(repoDir)
      assert.equal(done.state, 'completed')
      assert.equal(done.rollback, false)
      const order = ['started', 'wave-opened', 'gate-passed', 'wave-opened', 'gate-passed', 'completed']
      assert.deepEqual(eventsOf(repoDir, doc.id), order)

      const state = readCoordinatorState(repoDir)!
      const progress = state.rollouts[doc.id]
      assert.deepEqual({ package: progress.package, version: progress.version, seenOpen: progress.seenOpen, seenState: progress.seenState }, { package: 'app', version: '1.1.0', seenOpen: 1, seenState: 'completed' })
      assert.deepEqual(progress.outcomes, { [a.peerId]: 'healthy', [b.peerId]: 'healthy', [c.peerId]: 'healthy' })
      assert.equal((state.book as any).entries.length, 3)
      // a restarted coordinator reads back what it heard
      const again = coordinatorOn(repoDir)
      assert.equal(again.coordinator.book.size, 3)
      assert.equal(again.coordinator.book.get(c.peerId, doc.id)?.outcome, 'healthy')
      await again.coordinator.stop()

      await coordinator.stop()
      assert.deepEqual(hook.bodies.map(body => body.event), order)
      assert.ok(hook.bodies.every(body => body.rollout === doc.id && body.package === 'app' && body.version === '1.1.0'))
      assert.match(hook.bodies[1].text, /wave canary opened \(1 nodes chosen\)/)
      assert.deepEqual(hook.bodies.filter(body => body.event === 'wave-opened').map(body => body.wave), [0, 1])
    } finally {
      await coordinator.stop()
      await hook.close()
    }
  })

  it('failures at the abort threshold halt the rollout and request rollback; rolled-back once the node is off it', async () => {
    const { repoDir, doc } = await rolloutRepo({ waves: 'canary:1,100%', soakMs: 0, abort: 0.5 })
    const [a, b] = await nodes(2)
    a.tags = ['canary']
    const { coordinator, send } = coordinatorOn(repoDir)
    try {
      for (const n of [a, b]) await send(n, 'waiting')
      await coordinator.tick()
      await send(a, 'installing', { rolloutId: doc.id, wave: 0 })
      await coordinator.tick()
      assert.equal(docOf(repoDir).state, 'running')
      // failed while still running the version (its own undo failed too): only the rollback takes it off
      await send(a, 'failed', { rolloutId: doc.id, wave: 0, current: '1.1.0', reason: 'health failed: broken build' })
      await coordinator.tick()
      const halted = docOf(repoDir)
      assert.deepEqual({ state: halted.state, rollback: halted.rollback, open: halted.open }, { state: 'halted', rollback: true, open: 0 })
      assert.match(halted.reason, /1 of 1 nodes of wave canary failed/)
      assert.deepEqual(eventsOf(repoDir, doc.id), ['started', 'wave-opened', 'node-failed', 'halted'])
      const detail = readCoordinatorState(repoDir)!.rollouts[doc.id].events[2].detail
      assert.match(detail, /health failed: broken build/)

      await coordinator.tick()
      assert.equal(eventsOf(repoDir, doc.id).length, 4, 'no rolled-back while the node still runs the version')
      await send(a, 'rolled-back', { rolloutId: doc.id, wave: 0, current: '1.0.0' })
      await coordinator.tick()
      await coordinator.tick()
      assert.deepEqual(eventsOf(repoDir, doc.id), ['started', 'wave-opened', 'node-failed', 'halted', 'rolled-back'])
      assert.equal(docOf(repoDir).open, 0, 'no later wave was opened')
    } finally {
      await coordinator.stop()
    }
  })

  it('a report whose signature does not match its peer id is rejected and changes nothing', async () => {
    const { repoDir, doc } = await rolloutRepo({ waves: 'canary:1,100%', soakMs: 0 })
    const [a, b, attacker] = await nodes(3)
    a.tags = ['canary']
    const { coordinator, feed, send } = coordinatorOn(repoDir)
    try {
      for (const n of [a, b]) await send(n, 'waiting')
      await coordinator.tick()
      const before = JSON.stringify(coordinator.book.toJSON())
      /** a report of `claimed`, signed by the attacker's key over its own peer id, then relabelled */
      const forged = async (claimed: string, outcome: NodeOutcome): Promise<Uint8Array> => {
        const signed = JSON.parse(new TextDecoder().decode(await signReport(reportOf(attacker, { rolloutId: doc.id, wave: 0, outcome, current: '1.1.0' }), attacker.key)))
        signed.report.peerId = claimed
        return new TextEncoder().encode(JSON.stringify(signed))
      }
      assert.equal(await feed(attacker, await forged(a.peerId, 'healthy')), TopicValidatorResult.Reject)
      assert.equal(await feed(attacker, await forged(b.peerId, 'failed')), TopicValidatorResult.Reject)
      assert.equal(JSON.stringify(coordinator.book.toJSON()), before)
      assert.equal(coordinator.book.get(a.peerId, doc.id), undefined)
      await coordinator.tick()
      // accepted, the first would have passed the gate (soak 0) and the second halted the rollout
      const now = docOf(repoDir)
      assert.deepEqual({ open: now.open, state: now.state }, { open: 0, state: 'running' })
      assert.deepEqual(eventsOf(repoDir, doc.id), ['started', 'wave-opened'])
      const saved = readCoordinatorState(repoDir)!
      assert.ok(!JSON.stringify(saved.book).includes(attacker.peerId))
      assert.deepEqual(saved.rollouts[doc.id].outcomes, {})
      // the genuine report of the same node is taken
      await send(a, 'healthy', { rolloutId: doc.id, wave: 0, current: '1.1.0' })
      await coordinator.tick()
      assert.equal(docOf(repoDir).open, 1)
    } finally {
      await coordinator.stop()
    }
  })
})
