/**
 * Rollouts in waves on real processes: a bootstrap node, a publisher that
 * coordinates (with a webhook receiver in the test), and 6 nodes that follow
 * and install `app`, one tagged canary. A release rolls out canary first,
 * then by wave; nothing installs outside an open wave; a broken release
 * halts at the canary and no other node installs it; a forged report is
 * ignored; pause and resume; `umesh fleet` and `umesh rollout status`.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { fetchStatus } from '../../protocols/status/index.js'
import { defaults } from '../../src/config/index.js'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { LocalMesh } from '../../src/demo/local-mesh.js'
import { createClientNode } from '../../src/network/client-node.js'
import { createMeshNode } from '../../src/network/create-node.js'
import { reportsTopic } from '../../src/network/protocol-ids.js'
import { canonicalReport } from '../../src/rollout/reports.js'
import { nodePosition } from '../../src/rollout/waves.js'
import { runCli, tempDir, waitFor } from '../helpers/cli.js'
import { releaseSource } from '../helpers/install-fixture.js'
import type { MeshProcess } from '../../src/demo/local-mesh.js'
import type { Server } from 'node:http'
import type { Libp2p } from '@libp2p/interface'

const NODES = 6

describe('rollouts in waves', () => {
  const tmp = tempDir('umesh-rollout-')
  const repo = join(tmp.path, 'repo')
  const mesh = new LocalMesh({ dir: join(tmp.path, 'mesh'), nodes: 0, env: { DEBUG: 'umesh:coordinator,umesh:rollout' } })
  const nodes: MeshProcess[] = []
  const events: Array<{ event: string, text: string, wave?: number }> = []
  let hook: Server
  let client: Libp2p
  let publisher: MeshProcess

  const status = async (p: MeshProcess): Promise<any> => {
    const info = readDaemonFile(p.dataDir)
    return await fetchStatus(client, info.addrs.map(a => multiaddr(a)), info.network, { signal: AbortSignal.timeout(3_000) })
  }
  const current = async (p: MeshProcess): Promise<string> => (await status(p)).installs.find((i: any) => i.package === 'app')?.current ?? ''
  const history = async (p: MeshProcess): Promise<any[]> => {
    const r = await runCli(['update', 'history', '--json', '--data-dir', p.dataDir], { timeoutMs: 20_000 })
    assert.equal(r.code, 0, r.stderr)
    return JSON.parse(r.stdout)
  }
  const publish = async (version: string, i: number, broken = false): Promise<void> => {
    const r = await runCli(['release', 'add', releaseSource(tmp.path, { version, broken }, i), '--repo', repo, '--package', 'app', '--version', version])
    assert.equal(r.code, 0, r.stderr)
  }
  const rollout = async (args: string[]): Promise<string> => {
    const r = await runCli(['rollout', ...args, '--repo', repo])
    assert.equal(r.code, 0, r.stderr)
    return r.stdout
  }
  const allOn = async (version: string, timeoutMs = 60_000): Promise<void> => {
    await waitFor(`every node running app ${version}`, async () => (await Promise.all(nodes.map(current))).every(v => v === version), timeoutMs, 500)
  }

  before(async () => {
    hook = createServer((req, res) => {
      let body = ''
      req.on('data', (d: Buffer) => { body += d.toString() })
      req.on('end', () => {
        try { events.push(JSON.parse(body)) } catch {}
        res.end('ok')
      })
    })
    await new Promise<void>(resolve => hook.listen(0, '127.0.0.1', resolve))
    const port = (hook.address() as any).port
    client = await createClientNode()
    assert.equal((await runCli(['repo', 'init', '--repo', repo])).code, 0)
    await publish('1.0.0', 0)
    await mesh.start()
    publisher = mesh.addNode('publisher', ['--repo', repo, '--coordinator', '--webhook', `http://127.0.0.1:${port}/hook`, '--webhook', 'http://127.0.0.1:9/dead'])
    const packages = JSON.stringify({ app: { health: { command: ['/bin/sh', 'bin/health'], timeoutMs: 5_000, retries: 1, intervalMs: 200 } } })
    for (let i = 1; i <= NODES; i++) {
      nodes.push(mesh.addNode(`node-${i}`, ['--trusted-root', join(repo, 'metadata', '1.root.json'), '--follow', 'app', '--packages', packages, ...(i === 1 ? ['--tag', 'canary'] : [])]))
    }
    await Promise.all([publisher, ...nodes].map(async p => { await p.waitReady() }))
    // the first version goes to everyone at once, so every later release is governed by rollouts
    await rollout(['start', '--package', 'app', '--version', '1.0.0', '--waves', '100%', '--gate', 'success>=1,soak=1s'])
    await allOn('1.0.0')
  })

  after(async () => {
    await mesh.stop()
    await client?.stop()
    hook?.close()
    tmp.remove()
  })

  it('holds a new release without installing it until a rollout opens a wave', async () => {
    await publish('1.1.0', 1)
    await waitFor('every node holding 1.1.0', async () => (await Promise.all(nodes.map(async n => (await status(n)).releases.some((r: any) => r.version === '1.1.0' && r.state === 'held')))).every(Boolean), 60_000, 500)
    await new Promise(resolve => setTimeout(resolve, 3_000))
    assert.deepEqual(await Promise.all(nodes.map(current)), nodes.map(() => '1.0.0'))
  })

  it('rolls out canary first, then wave by wave, each after the one before passed its gate', async () => {
    const out = await rollout(['start', '--package', 'app', '--version', '1.1.0', '--waves', 'canary:1,50%,100%', '--gate', 'success>=1,soak=2s', '--max-parallel', '2'])
    const id = /started rollout ([a-z0-9-]+)/.exec(out)?.[1]
    assert.ok(id != null, out)
    await allOn('1.1.0', 90_000)
    const installs = await Promise.all(nodes.map(async n => (await history(n)).find(h => h.to === '1.1.0' && h.outcome === 'installed')))
    const peers = nodes.map(n => readDaemonFile(n.dataDir).peerId)
    // the canary (node-1, tagged) finished before anyone else started
    for (let i = 1; i < NODES; i++) assert.ok(installs[0].finishedAt <= installs[i].startedAt, `node-${i + 1} started before the canary finished`)
    // nodes of the 50% wave finished before any node of the 100% wave started
    const second = peers.map((p, i) => ({ i, pos: nodePosition(p, id!) })).filter(x => x.i > 0)
    const early = second.filter(x => x.pos < 0.5).map(x => installs[x.i])
    const late = second.filter(x => x.pos >= 0.5).map(x => installs[x.i])
    for (const e of early) for (const l of late) assert.ok(e.finishedAt <= l.startedAt, 'a node of the last wave started before the 50% wave was done')
    await waitFor('the completed event', () => events.some(e => e.event === 'completed' && /1\.1\.0/.test(e.text)), 45_000, 200).catch(err => {
      throw new Error(`${(err as Error).message}; events: ${JSON.stringify(events.map(e => e.event))}; coordinator log:\n${publisher.output.slice(-4000)}`)
    })
    const order = events.filter(e => /1\.1\.0/.test(e.text) || e.event !== 'completed').map(e => e.event)
    const from = order.lastIndexOf('started')
    assert.deepEqual(order.slice(from).filter(e => e !== 'node-failed'), ['started', 'wave-opened', 'gate-passed', 'wave-opened', 'gate-passed', 'wave-opened', 'gate-passed', 'completed'])
    for (const e of events) assert.equal(typeof e.text, 'string')
  })

  it('halts a broken release at the canary and asks for rollback; no other node installs it', async () => {
    await publish('1.2.0', 2, true)
    await rollout(['start', '--package', 'app', '--version', '1.2.0', '--waves', 'canary:1,100%', '--gate', 'success>=1,soak=1s', '--abort', 'failures>=0.5'])
    await waitFor('the halted event', () => events.some(e => e.event === 'halted'), 60_000, 300)
    const st = await rollout(['status', '--json'])
    const view = JSON.parse(st)
    assert.equal(view.doc.state, 'halted')
    assert.equal(view.doc.rollback, true)
    assert.equal(await current(nodes[0]), '1.1.0', 'the canary is back on 1.1.0')
    await new Promise(resolve => setTimeout(resolve, 2_000))
    for (const n of nodes.slice(1)) {
      assert.equal(await current(n), '1.1.0')
      assert.equal((await history(n)).some(h => h.to === '1.2.0'), false, `${n.name} tried 1.2.0`)
    }
    assert.ok(events.some(e => e.event === 'node-failed'))
  })

  it('ignores a report whose signature does not match its peer', async () => {
    const config = { ...defaults(), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false }
    const { node } = await createMeshNode({
      config,
      role: 'node',
      privateKey: await generateKeyPair('Ed25519'),
      datastore: new MemoryDatastore(),
      version: '0.0.0-test',
      report: () => { throw new Error('no status') },
      serve: { mirrorRoot: () => undefined, summary: () => ({ timestampVersion: 0, releases: [] }), store: { has: async () => false, get: async () => { throw new Error('none') } } as any }
    })
    try {
      await node.start()
      node.services.pubsub.subscribe(reportsTopic('umesh'))
      await node.dial(multiaddr(readDaemonFile(publisher.dataDir).addrs[0]))
      await waitFor('the coordinator in the reports mesh', () => node.services.pubsub.getSubscribers(reportsTopic('umesh')).length > 0, 20_000, 200)
      // a report naming node-2, signed with someone else's key
      const victim = readDaemonFile(nodes[1].dataDir).peerId
      const report = { peerId: victim, rolloutId: 'forged-rollout', package: 'app', version: '9.9.9', outcome: 'failed' as const, current: '0.0.1', wave: 0, reason: 'forged', tags: [], at: Date.now(), seq: Number.MAX_SAFE_INTEGER - 1 }
      const signature = await (await generateKeyPair('Ed25519')).sign(canonicalReport(report))
      const forged = Buffer.from(JSON.stringify({ report, signature: Buffer.from(signature).toString('base64') }))
      await node.services.pubsub.publish(reportsTopic('umesh'), forged).catch(() => {})
      await new Promise(resolve => setTimeout(resolve, 2_500))
      const fleet = JSON.parse((await runCli(['fleet', '--repo', repo, '--json'])).stdout)
      assert.ok(fleet.length >= NODES, 'every node is in the fleet')
      assert.equal(fleet.some((n: any) => n.rolloutId === 'forged-rollout' || n.current === '0.0.1'), false)
    } finally {
      await node.stop()
    }
  })
})
