/**
 * Labels, selectors and several packages per node, on real processes: a
 * bootstrap node, a publisher that coordinates, and 8 nodes that follow and
 * install two packages (`app`, `lib`), labelled in their config files
 * (`<dataDir>/config.json`) across two regions and two hardware revisions:
 *
 *   node   1     2     3     4     5     6     7     8
 *   region eu    eu    eu    eu    eu    us    us    us
 *   hw     revB  revB  revB  revC  revC  revB  revC  revC
 *
 * In order: two packages rolled out at once with different waves both
 * complete, each wave counted per package; a rollout selecting eu-west and
 * revB installs on exactly nodes 1-3, in waves over them, while the others
 * report `not selected` and keep their version; a label changed by SIGHUP
 * during that rollout (manual, so it stays open) changes nothing for it and
 * moves the nodes for the next one; a malformed selector is refused with a
 * caret under the character, an empty match unless --allow-empty.
 * Releases are 1 MiB; every wait is bounded.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { fetchStatus } from '../../protocols/status/index.js'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { LocalMesh } from '../../src/demo/local-mesh.js'
import { createClientNode } from '../../src/network/client-node.js'
import { runCli, tempDir, waitFor } from '../helpers/cli.js'
import { releaseSource } from '../helpers/install-fixture.js'
import type { MeshProcess } from '../../src/demo/local-mesh.js'
import type { Libp2p } from '@libp2p/interface'

const LABELS = [
  { region: 'eu-west', hw: 'revB' }, { region: 'eu-west', hw: 'revB' }, { region: 'eu-west', hw: 'revB' },
  { region: 'eu-west', hw: 'revC' }, { region: 'eu-west', hw: 'revC' },
  { region: 'us-east', hw: 'revB' }, { region: 'us-east', hw: 'revC' }, { region: 'us-east', hw: 'revC' }
]
const PACKAGES = ['app', 'lib']
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('labels, selectors and two packages per node', () => {
  const tmp = tempDir('umesh-rollout-selectors-')
  const repo = join(tmp.path, 'repo')
  const meshDir = join(tmp.path, 'mesh')
  const mesh = new LocalMesh({ dir: meshDir, nodes: 0 })
  const nodes: MeshProcess[] = []
  let client: Libp2p
  let releases = 0

  const status = async (p: MeshProcess): Promise<any> => {
    const info = readDaemonFile(p.dataDir)
    return await fetchStatus(client, info.addrs.map(a => multiaddr(a)), info.network, { signal: AbortSignal.timeout(3_000) })
  }
  const install = async (p: MeshProcess, pkg: string): Promise<any> => (await status(p)).installs.find((i: any) => i.package === pkg)
  /** what each node runs ('?' for one that did not answer this time: a busy node is asked again) */
  const versions = async (pkg: string, ps = nodes): Promise<string[]> => await Promise.all(ps.map(async p => await install(p, pkg).then(i => i?.current ?? '', () => '?')))
  /** what each node runs, once every one has answered */
  const answered = async (pkg: string, ps = nodes): Promise<string[]> => await waitFor(`${ps.map(p => p.name).join(', ')} answering`, async () => {
    const v = await versions(pkg, ps)
    return v.includes('?') ? undefined : v
  }, 20_000, 500)
  const allOn = async (pkg: string, version: string, ps = nodes, timeoutMs = 60_000): Promise<void> => {
    await waitFor(`${ps.map(p => p.name).join(', ')} running ${pkg} ${version}`, async () => (await versions(pkg, ps)).every(v => v === version), timeoutMs, 500).catch(async err => {
      throw new Error(`${(err as Error).message}; they run ${JSON.stringify(await versions(pkg, ps).catch(() => []))}`)
    })
  }
  const holdAll = async (pkg: string, version: string): Promise<void> => {
    await waitFor(`every node holding ${pkg} ${version}`, async () => (await Promise.all(nodes.map(async n => await status(n).then(s => s.releases.some((r: any) => r.package === pkg && r.version === version && r.state === 'held'), () => false)))).every(Boolean), 60_000, 500)
  }
  /** what the node's install history says it tried */
  const tried = (p: MeshProcess, pkg: string, version: string): boolean => {
    const file = join(p.dataDir, 'installs', pkg, 'history.jsonl')
    return existsSync(file) && readFileSync(file, 'utf8').split('\n').filter(l => l.trim() !== '').some(l => JSON.parse(l).to === version)
  }
  const publish = async (pkg: string, version: string): Promise<void> => {
    const r = await runCli(['release', 'add', releaseSource(join(tmp.path, pkg), { version }, ++releases), '--repo', repo, '--package', pkg, '--version', version])
    assert.equal(r.code, 0, r.stderr)
  }
  const cli = async (args: string[]): Promise<string> => {
    const r = await runCli([...args, '--repo', repo])
    assert.equal(r.code, 0, `umesh ${args.join(' ')}: ${r.stderr}`)
    return r.stdout
  }
  const start = async (pkg: string, version: string, args: string[]): Promise<any> => JSON.parse(await cli(['rollout', 'start', '--package', pkg, '--version', version, '--gate', 'success>=1,soak=1s', '--max-parallel', '8', '--json', ...args]))
  const view = async (pkg: string, args: string[] = []): Promise<any> => JSON.parse(await cli(['rollout', 'status', '--package', pkg, '--json', ...args]))
  const fleet = async (args: string[] = []): Promise<any[]> => JSON.parse(await cli(['fleet', '--json', ...args]))
  const completed = async (pkg: string, id: string, timeoutMs = 60_000): Promise<any> => await waitFor(`the rollout of ${pkg} (${id}) completed`, async () => {
    const v = await view(pkg)
    return v.doc.id === id && v.doc.state === 'completed' ? v : undefined
  }, timeoutMs, 500).catch(async err => {
    // the coordinator's events (a node's failure with its reason) say why the wave did not pass
    const v = await view(pkg).catch(() => undefined)
    throw new Error(`${(err as Error).message}; now: ${JSON.stringify(v?.waves)}; nodes: ${JSON.stringify(v?.nodes)}; events: ${JSON.stringify(v?.events?.slice(-20))}`)
  })
  const writeLabels = (p: { dataDir: string } | string, labels: Record<string, string>): void => {
    const dir = typeof p === 'string' ? p : p.dataDir
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ labels }) + '\n')
  }

  before(async () => {
    client = await createClientNode()
    assert.equal((await runCli(['repo', 'init', '--repo', repo])).code, 0)
    for (const pkg of PACKAGES) await publish(pkg, '1.0.0')
    // 1.0.0 of each goes to every node through a rollout, so each package is under rollouts from the start
    const first = [await start('app', '1.0.0', ['--waves', '100%']), await start('lib', '1.0.0', ['--waves', '100%'])]
    await mesh.start()
    const publisher = mesh.addNode('publisher', ['--repo', repo, '--coordinator'])
    const health = { health: { command: ['/bin/sh', 'bin/health'], timeoutMs: 5_000, retries: 1, intervalMs: 200 } }
    const packages = JSON.stringify({ app: health, lib: health })
    for (const [i, labels] of LABELS.entries()) {
      writeLabels(join(meshDir, `node-${i + 1}`), labels)
      nodes.push(mesh.addNode(`node-${i + 1}`, ['--trusted-root', join(repo, 'metadata', '1.root.json'), '--follow', 'app', '--follow', 'lib', '--packages', packages, '--check-interval', '5']))
    }
    await Promise.all([publisher, ...nodes].map(async p => { await p.waitReady(30_000) }))
    for (const pkg of PACKAGES) await allOn(pkg, '1.0.0', nodes, 90_000)
    for (const [i, pkg] of PACKAGES.entries()) await completed(pkg, first[i].id)
  })

  after(async () => {
    await mesh.stop()
    await client?.stop()
    tmp.remove()
  })

  it('two packages rolled out at once with different waves both complete, each wave counted per package', async () => {
    for (const pkg of PACKAGES) await publish(pkg, '1.1.0')
    for (const pkg of PACKAGES) await holdAll(pkg, '1.1.0')
    // the coordinator knows every node once for each package, with its labels
    const rows = await waitFor('a fleet row per node and package', async () => {
      const f = await fleet()
      return f.length === 16 ? f : undefined
    }, 30_000, 500)
    for (const [i, n] of nodes.entries()) {
      for (const pkg of PACKAGES) {
        const row = rows.find(r => r.peerId === readDaemonFile(n.dataDir).peerId && r.package === pkg)
        assert.deepEqual(row?.labels, LABELS[i], `${n.name} ${pkg}`)
      }
    }
    // and each node shows its labels in status
    assert.deepEqual((await waitFor('node-7 answering', async () => await status(nodes[6]).catch(() => undefined), 20_000, 500)).labels, ['hw=revC', 'region=us-east'])
    const app = await start('app', '1.1.0', ['--waves', 'canary:2,100%'])
    const lib = await start('lib', '1.1.0', ['--waves', 'first:3,50%,100%'])
    const [appView, libView] = [await completed('app', app.id, 60_000), await completed('lib', lib.id, 60_000)]
    for (const pkg of PACKAGES) await allOn(pkg, '1.1.0')
    assert.equal(appView.doc.waves[0].peers.length, 2, 'app: 2 nodes chosen for its count wave')
    assert.equal(libView.doc.waves[0].peers.length, 3, 'lib: 3 nodes chosen for its count wave')
    assert.equal(appView.waves[0].nodes, 2)
    assert.equal(libView.waves[0].nodes, 3)
    for (const v of [appView, libView]) {
      assert.equal(v.waves.reduce((sum: number, w: any) => sum + w.healthy, 0), 8, `${v.doc.package}: 8 healthy over its waves`)
      assert.equal(v.waves.reduce((sum: number, w: any) => sum + w.nodes, 0), 8, `${v.doc.package}: each node counted once`)
    }
  })

  let selected: MeshProcess[] = []
  let manualId = ''
  it('a rollout selecting eu-west and revB installs on exactly those nodes, in waves over them; the others report why not and keep their version', async () => {
    await publish('app', '1.2.0')
    await holdAll('app', '1.2.0')
    const doc = await start('app', '1.2.0', ['--waves', 'canary:1,100%', '--select', 'region = eu-west, hw==revB', '--manual'])
    manualId = doc.id
    assert.equal(doc.selector, 'region=eu-west,hw=revB', 'signed in canonical form')
    selected = nodes.slice(0, 3)
    const others = nodes.slice(3)
    const opened = await waitFor('the canary wave open with one selected node', async () => {
      const v = await view('app')
      return v.doc.open === 0 && v.doc.waves[0].peers.length === 1 ? v : undefined
    }, 20_000, 500)
    const canary = selected.find(n => readDaemonFile(n.dataDir).peerId === opened.doc.waves[0].peers[0])
    assert.ok(canary != null, 'the canary is a selected node')
    await allOn('app', '1.2.0', [canary])
    for (const n of others) {
      const i = await waitFor(`${n.name} saying why it is not selected`, async () => {
        const i = await install(n, 'app')
        return i?.rollout.includes('not-selected') === true ? i : undefined
      }, 20_000, 500)
      const why = n.name === 'node-4' || n.name === 'node-5' ? 'not selected: hw=revB (this node: hw=revC)' : 'not selected: region=eu-west (this node: region=us-east)'
      assert.ok(i.rollout.includes(why), `${n.name}: ${String(i.rollout)}`)
    }
    await sleep(3_000)
    // manual: the canary passed, the next wave waits; the other two selected nodes still run 1.1.0
    assert.deepEqual(await answered('app', selected.filter(n => n !== canary)), ['1.1.0', '1.1.0'])
    const notSelected = (await view('app', ['--select', 'region=us-east'])).nodes
    assert.equal(notSelected.length, 3, 'rollout status --select filters the nodes')
    assert.ok(notSelected.every((r: any) => r.outcome === 'not-selected' && r.wave === -1))
    assert.deepEqual((await fleet(['--select', 'hw=revB,region=eu-west'])).filter(r => r.package === 'app').length, 3, 'fleet --select filters the nodes')
  })

  it('labels changed by SIGHUP leave the running rollout as it was and move the nodes for the next one', async () => {
    assert.ok(manualId !== '', 'needs the rollout of the test before')
    // node-6 (us-east, revB) joins eu-west; node-3 (eu-west, revB, selected, its wave still closed) becomes revC
    const [moveIn, moveOut] = [nodes[5], nodes[2]]
    writeLabels(moveIn, { region: 'eu-west', hw: 'revB' })
    writeLabels(moveOut, { region: 'eu-west', hw: 'revC' })
    for (const n of [moveIn, moveOut]) n.child.kill('SIGHUP')
    await waitFor('node-6 showing its new labels in status', async () => (await status(moveIn)).labels.includes('region=eu-west'), 20_000, 500)
    await waitFor('the new labels in the coordinator\'s fleet', async () => {
      const f = await fleet()
      const labels = (p: MeshProcess): any => f.find(r => r.peerId === readDaemonFile(p.dataDir).peerId && r.package === 'app')?.labels
      return labels(moveIn)?.region === 'eu-west' && labels(moveOut)?.hw === 'revC'
    }, 20_000, 500)
    await cli(['rollout', 'promote', '--package', 'app'])
    const done = await completed('app', manualId)
    await allOn('app', '1.2.0', selected)
    assert.equal(done.waves.reduce((sum: number, w: any) => sum + w.healthy, 0), 3, 'the rollout counted its 3 selected nodes')
    const movedIn = await waitFor('node-6 answering', async () => await install(moveIn, 'app').catch(() => undefined), 20_000, 500)
    assert.equal(movedIn.current, '1.1.0', 'the node that moved in kept its version in the running rollout')
    assert.match(movedIn.rollout, /not-selected.*region=eu-west \(this node: region=us-east\)/, 'judged by its labels when the rollout reached it')
    for (const n of nodes.slice(3)) assert.equal(tried(n, 'app', '1.2.0'), false, `${n.name} tried 1.2.0`)
    assert.deepEqual(await answered('lib'), nodes.map(() => '1.1.0'), 'lib untouched')

    // the next rollout judges the new labels
    await publish('app', '1.3.0')
    await holdAll('app', '1.3.0')
    const next = await start('app', '1.3.0', ['--waves', '100%', '--select', 'region=eu-west,hw=revB'])
    await completed('app', next.id)
    await allOn('app', '1.3.0', [nodes[0], nodes[1], moveIn])
    const runs = await answered('app')
    assert.deepEqual(runs, ['1.3.0', '1.3.0', '1.2.0', '1.1.0', '1.1.0', '1.3.0', '1.1.0', '1.1.0'], 'nodes 1, 2 and 6 (moved in) take 1.3.0; node 3 (moved out) keeps 1.2.0')
    assert.match((await waitFor('node-3 answering', async () => await install(moveOut, 'app').catch(() => undefined), 20_000, 500)).rollout, /not selected: hw=revB \(this node: hw=revC\)/)
  })

  it('a malformed selector is refused with a caret under the character; an empty match only with --allow-empty', async () => {
    const bad = await runCli(['rollout', 'start', '--repo', repo, '--package', 'lib', '--version', '1.1.0', '--select', 'region=eu-west,hw in revB'])
    assert.equal(bad.code, 2, bad.stderr)
    assert.match(bad.stderr, /--select: expected "\(" after in, found "r" at character 22\n {2}region=eu-west,hw in revB\n {23}\^/)
    const empty = await runCli(['rollout', 'start', '--repo', repo, '--package', 'lib', '--version', '1.1.0', '--select', 'region=ap-south'])
    assert.equal(empty.code, 2, empty.stderr)
    assert.match(empty.stderr, /--select "region=ap-south": it matches none of the 8 nodes of lib the coordinator has heard of .*--allow-empty/)
    assert.equal((await view('lib')).doc.selector, undefined, 'nothing signed')
    const allowed = await start('lib', '1.1.0', ['--select', 'region=ap-south', '--allow-empty', '--waves', '100%'])
    assert.equal(allowed.selector, 'region=ap-south')
    assert.equal((await view('lib')).doc.selector, 'region=ap-south', 'signed into the document nodes fetch')
  })
})
