/**
 * Steering rollouts on real processes: one mesh for the whole file (a
 * bootstrap node, a publisher that coordinates, 5 nodes that follow and
 * install `app`; node-1 is tagged canary, node-5 has a maintenance window
 * that the test moves around the real clock by restarting it).
 *
 * The tests run in order and share one manual rollout (1.1.0) for the first
 * three: a manual rollout holds after its canary; a node restarted
 * mid-rollout stays in its closed wave; pause refuses promote and nothing
 * installs until resume and promote. Then a rollout document naming an
 * unsigned version (written with the rollouts key directly, as a hostile
 * key holder could) is refused by every node; a node outside its
 * maintenance window defers while its wave installs and installs once it is
 * inside one; a critical release bypasses the window.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { fetchStatus } from '../../protocols/status/index.js'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { LocalMesh, MeshProcess } from '../../src/demo/local-mesh.js'
import { createClientNode } from '../../src/network/client-node.js'
import { encodeRolloutDocument, rolloutTargetPath } from '../../src/rollout/document.js'
import { ROLLOUT_FORMAT } from '../../src/rollout/types.js'
import { Repository, ROLLOUTS_ROLE } from '../../src/trust/repository.js'
import { runCli, tempDir, waitFor } from '../helpers/cli.js'
import { releaseSource } from '../helpers/install-fixture.js'
import type { RolloutDocument } from '../../src/rollout/types.js'
import type { Libp2p } from '@libp2p/interface'

const NODES = 5
const MESH_ENV = { DEBUG: 'umesh:coordinator,umesh:rollout' }
/** hh:mm UTC, `hours` from now */
function utcIn (hours: number): string {
  const at = new Date(Date.now() + hours * 3_600_000)
  return `${String(at.getUTCHours()).padStart(2, '0')}:${String(at.getUTCMinutes()).padStart(2, '0')}`
}

/**
 * node-5's maintenance window, every day, in UTC: `inside` spans the next
 * two hours either side of now (across midnight when now is near it),
 * `outside` opens in six hours. The real clock decides; no test hook.
 */
function maintenance (where: 'inside' | 'outside'): string {
  const [start, end] = where === 'inside' ? [utcIn(-2), utcIn(2)] : [utcIn(6), utcIn(7)]
  return JSON.stringify({ windows: [{ days: [], start, end, timeZone: 'UTC' }] })
}
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('steering rollouts: manual, pause, unsigned versions, restarts, maintenance windows', () => {
  const tmp = tempDir('umesh-rollout-control-')
  const repo = join(tmp.path, 'repo')
  const meshDir = join(tmp.path, 'mesh')
  const mesh = new LocalMesh({ dir: meshDir, nodes: 0, env: MESH_ENV })
  const nodes: MeshProcess[] = []
  const nodeArgs: string[][] = []
  let client: Libp2p
  let publisher: MeshProcess
  /** the manual rollout the first three tests share */
  let manualId = ''

  const status = async (p: MeshProcess): Promise<any> => {
    const info = readDaemonFile(p.dataDir)
    return await fetchStatus(client, info.addrs.map(a => multiaddr(a)), info.network, { signal: AbortSignal.timeout(3_000) })
  }
  const current = async (p: MeshProcess): Promise<string> => (await status(p)).installs.find((i: any) => i.package === 'app')?.current ?? ''
  const holds = async (p: MeshProcess, version: string): Promise<boolean> => (await status(p)).releases.some((r: any) => r.version === version && r.state === 'held')
  /** the node's install history, read from its install root (the CLI does not know install settings given by flag) */
  const history = (p: MeshProcess): any[] => {
    const file = join(p.dataDir, 'installs', 'app', 'history.jsonl')
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l)) : []
  }
  const tried = (p: MeshProcess, version: string): boolean => history(p).some(h => h.to === version)
  const publish = async (version: string, i: number, extra: string[] = []): Promise<void> => {
    const r = await runCli(['release', 'add', releaseSource(tmp.path, { version }, i), '--repo', repo, '--package', 'app', '--version', version, ...extra])
    assert.equal(r.code, 0, r.stderr)
  }
  const rolloutRaw = async (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> => await runCli(['rollout', ...args, '--repo', repo])
  const rollout = async (args: string[]): Promise<string> => {
    const r = await rolloutRaw(args)
    assert.equal(r.code, 0, r.stderr)
    return r.stdout
  }
  const view = async (): Promise<any> => JSON.parse(await rollout(['status', '--json']))
  const startRollout = async (version: string, args: string[]): Promise<string> => {
    const r = JSON.parse(await rollout(['start', '--package', 'app', '--version', version, '--json', ...args]))
    assert.equal(r.version, version)
    return r.id as string
  }
  const fleet = async (): Promise<any[]> => {
    const r = await runCli(['fleet', '--repo', repo, '--json'])
    assert.equal(r.code, 0, r.stderr)
    return JSON.parse(r.stdout)
  }
  const peerOf = (p: MeshProcess): string => readDaemonFile(p.dataDir).peerId
  /** the coordinator's latest report from a node */
  const reportOf = async (p: MeshProcess): Promise<any> => (await fleet()).find(n => n.peerId === peerOf(p))
  const versions = async (ps: MeshProcess[]): Promise<string[]> => await Promise.all(ps.map(current))
  const allOn = async (ps: MeshProcess[], version: string, timeoutMs = 60_000): Promise<void> => {
    await waitFor(`${ps.map(p => p.name).join(', ')} running app ${version}`, async () => (await versions(ps)).every(v => v === version), timeoutMs, 500).catch(async err => {
      throw new Error(`${(err as Error).message}; they run ${JSON.stringify(await versions(ps).catch(() => []))}; fleet: ${JSON.stringify(await fleet().catch(() => []))}`)
    })
  }
  /** stops node i and starts it again on the same data dir, with the same flags and `env` added */
  /** restarts node i; `window` gives node-5 a new maintenance window */
  const restart = async (i: number, window?: 'inside' | 'outside'): Promise<MeshProcess> => {
    const old = nodes[i]
    await old.stop()
    if (window != null) nodeArgs[i] = [...nodeArgs[i].slice(0, nodeArgs[i].indexOf('--maintenance')), '--maintenance', maintenance(window)]
    const p = new MeshProcess(old.name, 'node', old.dataDir, [...mesh.nodeArgs(), ...nodeArgs[i]], join(meshDir, `${old.name}.log`), MESH_ENV)
    mesh.nodes.push(p)
    nodes[i] = p
    await p.waitReady(30_000)
    return p
  }

  before(async () => {
    client = await createClientNode()
    assert.equal((await runCli(['repo', 'init', '--repo', repo])).code, 0)
    await publish('1.0.0', 0)
    await mesh.start()
    publisher = mesh.addNode('publisher', ['--repo', repo, '--coordinator'])
    const packages = JSON.stringify({ app: { health: { command: ['/bin/sh', 'bin/health'], timeoutMs: 5_000, retries: 1, intervalMs: 200 } } })
    for (let i = 1; i <= NODES; i++) {
      // --check-interval: a restarted node's first refresh runs before it has a sync peer, and an announcement of
      // the timestamp it already trusts does not start another; it learns the rollout document again on the next check
      const args = ['--trusted-root', join(repo, 'metadata', '1.root.json'), '--follow', 'app', '--packages', packages, '--check-interval', '5',
        // node-5 starts inside its window, so it takes 1.0.0 with the others
        ...(i === 1 ? ['--tag', 'canary'] : []), ...(i === NODES ? ['--maintenance', maintenance('inside')] : [])]
      nodeArgs.push(args)
      nodes.push(mesh.addNode(`node-${i}`, args))
    }
    await Promise.all([publisher, ...nodes].map(async p => { await p.waitReady(30_000) }))
    // the first version goes to everyone at once, so every later release is governed by rollouts
    await startRollout('1.0.0', ['--waves', '100%', '--gate', 'success>=1,soak=1s', '--max-parallel', '5'])
    await allOn(nodes, '1.0.0', 60_000)
    // the history the tests read is where installs record themselves
    for (const n of nodes) assert.ok(history(n).some(h => h.to === '1.0.0' && h.outcome === 'installed'), `${n.name}: no install of 1.0.0 in its history`)
    await waitFor('the 1.0.0 rollout completed', async () => (await view()).doc.state === 'completed', 30_000, 500)
  })

  after(async () => {
    await mesh.stop()
    await client?.stop()
    tmp.remove()
  })

  it('a --manual rollout opens the canary and holds the next wave until `rollout promote`', async () => {
    await publish('1.1.0', 1)
    await waitFor('every node holding 1.1.0', async () => (await Promise.all(nodes.map(async n => await holds(n, '1.1.0')))).every(Boolean), 60_000, 500)
    manualId = await startRollout('1.1.0', ['--waves', 'canary:1,100%', '--gate', 'success>=1,soak=1s', '--max-parallel', '4', '--manual'])
    await allOn([nodes[0]], '1.1.0', 45_000)
    await waitFor('the canary wave healthy at the coordinator', async () => {
      const v = await view()
      return v.doc.id === manualId && v.waves[0].healthy === 1 && v.waves[0].nodes === 1
    }, 20_000, 500)
    // well past the soak: an automatic rollout would have opened the next wave by now
    await sleep(5_000)
    const v = await view()
    assert.equal(v.doc.manual, true)
    assert.equal(v.doc.state, 'running')
    assert.equal(v.doc.open, 0, 'the next wave opened without `rollout promote`')
    assert.equal(v.waves[1].open, false)
    assert.equal(v.waves[1].healthy, 0)
    assert.deepEqual(await versions(nodes.slice(1)), nodes.slice(1).map(() => '1.0.0'))
    for (const n of nodes.slice(1)) {
      assert.equal(tried(n, '1.1.0'), false, `${n.name} tried 1.1.0 in a closed wave`)
      const r = await reportOf(n)
      assert.equal(r.rolloutId, manualId)
      assert.equal(r.wave, 1)
      assert.equal(r.outcome, 'waiting')
    }
  })

  it('a node restarted mid-rollout comes back in its wave and does not install while it is closed', async () => {
    assert.ok(manualId !== '', 'needs the manual rollout of the test before')
    assert.equal(tried(nodes[3], '1.1.0'), false)
    const restartedAt = Date.now()
    const p = await restart(3)
    // it holds 1.1.0 from before the restart: plain autoUpdate would install it at once
    await waitFor('node-4 holding 1.1.0 again', async () => await holds(p, '1.1.0'), 30_000, 500)
    // a report sent after the restart, about this rollout: its wave, waiting
    const r = await waitFor('a report of the restarted node-4 about the rollout', async () => {
      const r = await reportOf(p)
      return r != null && r.rolloutId === manualId && Date.parse(r.lastReport) >= restartedAt ? r : undefined
    }, 30_000, 500)
    assert.equal(r.wave, 1)
    assert.equal(r.outcome, 'waiting')
    await sleep(5_000)
    assert.equal(await current(p), '1.0.0', 'the restarted node installed 1.1.0 while its wave was closed')
    assert.equal(tried(p, '1.1.0'), false)
    assert.equal((await view()).doc.open, 0)
  })

  it('pause refuses promote and holds every closed wave; resume keeps a manual rollout waiting; promote then installs the rest', async () => {
    assert.ok(manualId !== '', 'needs the manual rollout of the tests before')
    await rollout(['pause'])
    assert.equal((await view()).doc.state, 'paused')
    const refused = await rolloutRaw(['promote'])
    assert.notEqual(refused.code, 0, `promote of a paused rollout succeeded: ${refused.stdout}`)
    assert.match(refused.stderr, /paused.*resume it first/)
    await sleep(3_000)
    let v = await view()
    assert.equal(v.doc.state, 'paused')
    assert.equal(v.doc.open, 0)
    assert.deepEqual(await versions(nodes.slice(1)), nodes.slice(1).map(() => '1.0.0'))
    for (const n of nodes.slice(1)) assert.equal(tried(n, '1.1.0'), false, `${n.name} tried 1.1.0 while paused`)

    await rollout(['resume'])
    await sleep(3_000)
    v = await view()
    assert.equal(v.doc.state, 'running')
    assert.equal(v.doc.open, 0, 'resume opened the next wave of a manual rollout')
    assert.deepEqual(await versions(nodes.slice(1)), nodes.slice(1).map(() => '1.0.0'))

    assert.match(await rollout(['promote']), /wave wave-2 open/)
    assert.equal((await view()).doc.open, 1)
    // every node of the last wave, node-4 (restarted) and node-5 (inside its window) included
    await allOn(nodes, '1.1.0', 60_000)
    await waitFor('the 1.1.0 rollout completed', async () => (await view()).doc.state === 'completed', 30_000, 500)
  })

  it('a rollout document naming an unsigned version is refused by every node', async () => {
    const before = await versions(nodes)
    assert.deepEqual(before, nodes.map(() => '1.1.0'))
    const now = new Date().toISOString()
    const doc: RolloutDocument = {
      format: ROLLOUT_FORMAT,
      id: 'hostile-0001',
      package: 'app',
      version: '9.9.9',
      waves: [{ name: 'all', fraction: 1, peers: [] }],
      open: 0,
      state: 'running',
      rollback: false,
      gate: { success: 1, soakMs: 1_000 },
      abort: 0.1,
      maxParallel: 10,
      manual: false,
      downgrade: false,
      critical: true,
      created: now,
      updated: now,
      reason: 'signed with the rollouts key alone'
    }
    // signed with the rollouts key, past the CLI's check, under the lock the coordinator takes too
    const lock = join(repo, '.rollouts.lock')
    await waitFor('the rollouts lock', () => { try { closeSync(openSync(lock, 'wx')); return true } catch { return false } }, 15_000, 50)
    try {
      Repository.open(repo).addTargets([{ path: rolloutTargetPath('app'), bytes: encodeRolloutDocument(doc), custom: { package: 'app', version: '9.9.9', rollout: doc.id } }], ROLLOUTS_ROLE)
    } finally {
      rmSync(lock, { force: true })
    }
    let halted
    try {
      await waitFor('every node refusing the rollout of 9.9.9', async () => {
        const reports = await Promise.all(nodes.map(reportOf))
        return reports.every(r => r?.rolloutId === doc.id && r.outcome === 'refused')
      }, 45_000, 500).catch(async err => {
        throw new Error(`${(err as Error).message}; fleet: ${JSON.stringify(await fleet())}`)
      })
      await sleep(2_000)
      assert.deepEqual(await versions(nodes), before)
      for (const n of nodes) {
        assert.equal(tried(n, '9.9.9'), false, `${n.name} tried 9.9.9`)
        assert.equal((await reportOf(n)).outcome, 'refused')
      }
      const v = await view()
      assert.equal(v.doc.id, doc.id)
      assert.equal(v.waves[0].healthy, 0)
    } finally {
      // the operator takes the rollout back (also when an assertion failed, so the tests after this one can start rollouts)
      halted = await rolloutRaw(['halt'])
    }
    assert.equal(halted.code, 0, halted.stderr)
    assert.equal((await view()).doc.state, 'halted')
  })

  it('a node outside its maintenance window defers while its wave installs, and installs once inside one', async () => {
    // node-5's window opens in six hours
    const late = await restart(NODES - 1, 'outside')
    const others = nodes.slice(0, NODES - 1)
    await publish('1.2.0', 2)
    await waitFor('node-5 holding 1.2.0', async () => await holds(late, '1.2.0'), 60_000, 500)
    // after a halted rollout of an unsigned 9.9.9, 1.2.0 is no downgrade
    const id = await startRollout('1.2.0', ['--waves', '100%', '--gate', 'success>=1,soak=1s', '--max-parallel', '5'])
    await allOn(others, '1.2.0', 60_000)
    const r = await waitFor('node-5 deferring', async () => {
      const r = await reportOf(late)
      return r?.rolloutId === id && r.outcome === 'deferred' ? r : undefined
    }, 20_000, 500)
    assert.equal(r.wave, 0)
    await sleep(3_000)
    assert.equal(await current(late), '1.1.0', 'node-5 installed outside its maintenance window')
    assert.equal(tried(late, '1.2.0'), false)
    assert.equal((await reportOf(late)).outcome, 'deferred')
    // the wait shows in the node's own status too, with the next window
    const mine = (await status(late)).installs.find((i: any) => i.package === 'app')
    assert.match(mine.rollout, /deferred \(outside the maintenance windows; next window opens/)
    const v = await view()
    assert.equal(v.doc.state, 'running', 'the rollout completed without node-5')
    assert.equal(v.waves[0].healthy, NODES - 1)

    // a window around now
    const inside = await restart(NODES - 1, 'inside')
    await allOn([inside], '1.2.0', 45_000)
    await waitFor('the 1.2.0 rollout completed', async () => (await view()).doc.state === 'completed', 30_000, 500)
  })

  it('a critical release bypasses the maintenance window', async () => {
    const restartedAt = Date.now()
    const late = await restart(NODES - 1, 'outside')
    await waitFor('node-5 following the rollouts again', async () => {
      const r = await reportOf(late)
      return r != null && r.rolloutId !== 'none' && r.outcome === 'healthy' && Date.parse(r.lastReport) >= restartedAt
    }, 30_000, 500)
    await publish('1.3.0', 3, ['--critical'])
    const id = await startRollout('1.3.0', ['--waves', '100%', '--gate', 'success>=1,soak=1s', '--max-parallel', '5'])
    assert.equal((await view()).doc.critical, true, 'a rollout of a critical release is critical')
    await allOn(nodes, '1.3.0', 60_000)
    // its report of the install reaches the coordinator a moment after the status shows it
    await waitFor('node-5 reporting healthy in the critical rollout', async () => {
      const r = await reportOf(late)
      return r?.rolloutId === id && r.outcome === 'healthy'
    }, 20_000, 500)
    assert.equal(history(late).some(h => h.to === '1.3.0' && h.outcome === 'installed'), true)
  })
})
