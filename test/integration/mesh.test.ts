/**
 * A real mesh on loopback: one bootstrap node and 5 nodes, each its own
 * process. Discovery beyond the bootstrap node, status over the wire, life
 * after the bootstrap node dies, restart with the same identity, deny-list.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { fetchStatus } from '../../protocols/status/index.js'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { LocalMesh, MeshProcess } from '../../src/demo/local-mesh.js'
import { createClientNode } from '../../src/network/client-node.js'
import { runCli, tempDir, waitFor } from '../helpers/cli.js'
import type { StatusResponse } from '../../protocols/status/index.js'
import type { Libp2p } from '@libp2p/interface'

describe('mesh of real processes on loopback', () => {
  const tmp = tempDir('umesh-mesh-')
  const mesh = new LocalMesh({ dir: tmp.path, nodes: 5 })
  let client: Libp2p

  const status = async (p: MeshProcess): Promise<StatusResponse> => {
    const info = readDaemonFile(p.dataDir)
    return await fetchStatus(client, info.addrs.map(a => multiaddr(a)), info.network, { signal: AbortSignal.timeout(3_000) })
  }
  /** distinct peer ids this process is connected to, among the given processes */
  const linkedTo = async (p: MeshProcess, among: MeshProcess[]): Promise<Set<string>> => {
    const ids = new Set(among.filter(o => o !== p).map(o => o.peerId))
    return new Set((await status(p)).peers.map(x => x.peerId).filter(id => ids.has(id)))
  }

  before(async () => {
    client = await createClientNode()
    await mesh.start()
  })

  after(async () => {
    await mesh.stop()
    await client?.stop()
    tmp.remove()
  })

  it('every node connects to at least 4 other regular nodes within 20 s, beyond the bootstrap node', async () => {
    const regular = mesh.nodes
    const started = Date.now()
    await waitFor('each node linked to >= 4 regular nodes', async () => {
      const counts = await Promise.all(regular.map(async n => (await linkedTo(n, regular)).size))
      return counts.every(c => c >= 4) ? counts : undefined
    }, 20_000, 500)
    // the bootstrap list names only the bootstrap node: these links came from the DHT
    console.log(`mesh formed ${Date.now() - started} ms after all nodes were ready`)
  })

  it('answers `umesh status --peer` from outside, for every node', async () => {
    for (const node of [mesh.bootstrap!, ...mesh.nodes]) {
      const addr = readDaemonFile(node.dataDir).addrs[0]
      const result = await runCli(['status', '--peer', addr, '--json'])
      assert.equal(result.code, 0, result.stderr)
      const json = JSON.parse(result.stdout)
      assert.equal(json.peerId, node.peerId)
      assert.equal(json.role, node.role)
      assert.equal(json.network, 'umesh')
      assert.match(json.version, /^\d+\.\d+\.\d+/)
      assert.ok(json.uptimeMs > 0)
      assert.deepEqual(json.phases.map((p: any) => p.name), ['core', 'config', 'http', 'keys', 'installs', 'network', 'bootstrap', 'discovery', 'sync', 'background'])
      assert.ok(json.phases.every((p: any) => ['done', 'skipped'].includes(p.state) && typeof p.durationMs === 'number'))
      assert.equal(typeof json.connections, 'number')
      assert.ok(json.connections >= 1)
      assert.ok(json.listenAddrs.length >= 1)
      assert.ok(json.resources.rssBytes > 0)
      assert.ok(json.resources.heapTotalBytes >= json.resources.heapUsedBytes && json.resources.heapUsedBytes > 0, JSON.stringify(json.resources))
      assert.ok(json.resources.externalBytes >= json.resources.arrayBuffersBytes && json.resources.arrayBuffersBytes > 0, JSON.stringify(json.resources))
    }
    const plain = await runCli(['status', '--data-dir', mesh.nodes[0].dataDir])
    assert.equal(plain.code, 0, plain.stderr)
    assert.match(plain.stdout, new RegExp(`peer id +${mesh.nodes[0].peerId}`))
    assert.match(plain.stdout, /phase ready/)
  })

  it('keeps the regular nodes connected after the bootstrap node is killed', async () => {
    mesh.bootstrap!.child.kill('SIGKILL')
    await mesh.bootstrap!.exited
    // give the mesh time to notice; nothing should change between regular nodes
    await new Promise(resolve => setTimeout(resolve, 3_000))
    for (const node of mesh.nodes) {
      assert.ok((await linkedTo(node, mesh.nodes)).size >= 4, `${node.name} lost regular peers`)
      assert.ok(!(await status(node)).peers.some(p => p.peerId === mesh.bootstrap!.peerId), `${node.name} still lists the dead bootstrap node`)
    }
  })

  it('restarts a node with the same peer id, and it reconnects without the bootstrap node', async () => {
    const old = mesh.nodes[0]
    assert.equal(await old.stop(), 0, 'a SIGTERM stop exits 0')
    const again = new MeshProcess(old.name, 'node', old.dataDir, mesh.nodeArgs(), join(tmp.path, `${old.name}-again.log`))
    mesh.nodes[0] = again
    await again.waitReady()
    assert.equal(again.peerId, old.peerId, 'same identity after restart')
    // the bootstrap node is dead: only the peers remembered in its peer store can bring it back
    await waitFor('the restarted node linked to >= 3 regular nodes', async () => (await linkedTo(again, mesh.nodes)).size >= 3, 20_000, 500)
  })

  it('refuses connections to and from a denied peer id', async () => {
    const denied = mesh.nodes[1]
    // the bootstrap node is dead by now: a live node is the entry point
    const entry = readDaemonFile(mesh.nodes[2].dataDir).addrs[0]
    const guarded = mesh.addNode('node-guarded', ['--deny-peer', denied.peerId, '--bootstrap-peer', entry])
    await guarded.waitReady()
    await waitFor('the guarded node linked to >= 2 other nodes', async () => (await linkedTo(guarded, mesh.nodes)).size >= 2, 20_000, 500)
    // the denied node learns of the guarded one through the DHT and tries to dial it; give that time
    await new Promise(resolve => setTimeout(resolve, 4_000))
    assert.ok(!(await linkedTo(guarded, mesh.nodes)).has(denied.peerId), 'the guarded node is connected to the denied peer')
    // the denied node's own dial may show for a moment, until the guarded node's refusal reaches it: what must not be is a connection that stays
    await waitFor('the denied peer to hold no connection to the guarded node', async () => !(await linkedTo(denied, mesh.nodes)).has(guarded.peerId), 5_000, 250)
  })

  it('applies a new deny-list on SIGHUP, and keeps the old config when the new one is invalid', async () => {
    const [, , a, b] = mesh.nodes
    await waitFor(`${a.name} linked to ${b.name}`, async () => (await linkedTo(a, mesh.nodes)).has(b.peerId), 20_000, 500)
    writeFileSync(join(a.dataDir, 'config.json'), JSON.stringify({ denyPeers: [b.peerId] }))
    a.child.kill('SIGHUP')
    await waitFor(`${a.name} to drop ${b.name}`, async () => !(await linkedTo(a, mesh.nodes)).has(b.peerId), 10_000, 250)
    assert.match(a.output, /SIGHUP: config reloaded: applied denyPeers/)

    writeFileSync(join(a.dataDir, 'config.json'), JSON.stringify({ denyPeers: [b.peerId], maxConnections: 'lots' }))
    a.child.kill('SIGHUP')
    await waitFor('the rejection to be logged', () => /new config rejected, keeping the old one: .*maxConnections: expected an integer/.test(a.output), 10_000, 100)
    assert.ok(a.running, 'an invalid reload does not stop the node')
    assert.equal((await status(a)).phase, 'ready')
    await new Promise(resolve => setTimeout(resolve, 2_000))
    assert.ok(!(await linkedTo(a, mesh.nodes)).has(b.peerId), 'the old deny-list still holds')
  })
})
