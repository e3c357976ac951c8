/**
 * Churn during a rollout: six nodes and a coordinating publisher, each on its
 * own host namespace. A rollout of app 1.1.0 in waves (50%, 100%) runs
 * while a third of the nodes (two: one of each wave when the hash allows)
 * are SIGKILLed and restarted over and over (three times each, a kill 2-3 s
 * after the node is ready again, or at once when it is seen installing). The rollout completes; no
 * node is left half installed (no install pending in its journal, `current`
 * pointing at the version the journal blesses, no staging tree left); and
 * no node started installing 1.1.0 before its wave opened (its install
 * history against the coordinator's wave-opened events and the wave the
 * node computes from its peer id). Prints the kills and the time to
 * completion.
 *
 * Needs root, `ip netns` and `tc` (skipped otherwise, with the reason).
 * UMESH_FAULT_LOGS=DIR keeps every daemon's output.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { waveOf } from '../../src/rollout/waves.js'
import { waitFor } from '../helpers/cli.js'
import { NsFleet } from '../helpers/netns-fleet.js'
import { skipReason } from '../helpers/netns.js'

const NODES = 6
/** a third of the nodes churn */
const CHURNING = 2
const KILLS_EACH = 3

const skip = skipReason()
if (skip != null) console.log(`skipping the churn network-namespace test: ${skip}`)

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('a rollout while a third of the nodes crash and restart', { skip: skip ?? false, timeout: 300_000 }, () => {
  const fleet = new NsFleet({ prefix: 'umesh-churn-', nodes: NODES })

  before(async () => {
    await fleet.start()
    await fleet.waitAllOn('1.0.0', 90_000)
    // a second rollout of app is refused while the first is open
    await fleet.waitRolloutCompleted(60_000)
  })

  after(async () => {
    await fleet.stop()
  })

  it('the rollout completes, nothing is left half installed, and no node installs outside its wave', async (t) => {
    await fleet.publish('1.1.0', { bigMiB: 1 })
    const doc = JSON.parse(await fleet.rollout(['start', '--package', 'app', '--version', '1.1.0', '--waves', '50%,100%', '--gate', 'success>=1,soak=1s', '--max-parallel', '2', '--json']))
    assert.ok(typeof doc.id === 'string', JSON.stringify(doc))
    const started = Date.now()

    // the churning third: one node of each wave when the hash allows
    const byWave = (w: number): typeof fleet.nodes => fleet.nodes.filter(n => waveOf({ peerId: n.peerId, tags: [], doc }) === w)
    const churning = [...new Set([byWave(0)[0], byWave(1)[0], ...fleet.nodes].filter(n => n != null))].slice(0, CHURNING)
    const kills: string[] = []
    const churn = async (n: typeof fleet.nodes[number]): Promise<void> => {
      let midInstall = 0
      for (let k = 0; k < KILLS_EACH; k++) {
        // 2-3 s (20 s for the first), or at once when the node is installing (once per node: a third crash
        // in one install is undone by design, see the install journal's attempts)
        // the first kill waits longer for an install to hit (a node of the last wave installs once the first passed)
        const deadline = Date.now() + (k === 0 ? 20_000 : 2_000 + Math.floor(Math.random() * 1_000))
        while (Date.now() < deadline && !(midInstall === 0 && fleet.state(n).pending != null)) await sleep(50)
        const s = fleet.state(n)
        if (s.pending != null) midInstall++
        kills.push(`${n.name} at ${Date.now() - started} ms (current ${String(s.current)}${s.pending != null ? `, installing ${s.pending.to} at ${s.pending.step}` : ''})`)
        await n.kill()
        await sleep(500)
        n.start()
        await n.ready()
      }
    }
    await Promise.all(churning.map(churn))
    t.diagnostic(`kills: ${kills.join('; ')}`)

    await fleet.waitAllOn('1.1.0', 120_000)
    await waitFor('the coordinator seeing the rollout completed', async () => (await fleet.rolloutStatus()).doc?.state === 'completed', 60_000, 500)
      .catch(err => { throw new Error(`${(err as Error).message}\n${fleet.describe()}`) })
    const completedMs = Date.now() - started
    console.log(`# churn: ${kills.length} kills (${kills.filter(k => /installing/.test(k)).length} mid-install), rollout completed ${completedMs} ms after it started`)
    t.diagnostic(`rollout completed ${completedMs} ms after it started`)

    // nothing half installed
    for (const n of fleet.nodes) {
      const s = fleet.state(n)
      assert.equal(s.pending, null, `${n.name}: no install pending`)
      assert.equal(s.current, '1.1.0')
      const root = join(n.dataDir, 'installs', 'app')
      assert.equal(readlinkSync(join(root, 'current')).replace(/\/$/, ''), join('versions', '1.1.0'), `${n.name}: current points at the blessed version`)
      assert.ok(existsSync(join(root, 'versions', '1.1.0', 'VERSION')), `${n.name}: the blessed tree is whole`)
      const staging = readdirSync(join(root, 'versions')).filter(d => d.startsWith('.staging'))
      assert.deepEqual(staging, [], `${n.name}: no staging tree left`)
    }

    // no node started 1.1.0 before its wave opened
    const view = await fleet.rolloutStatus()
    const opened = (view.events as Array<{ at: string, event: string }>).filter(e => e.event === 'wave-opened').map(e => Date.parse(e.at))
    assert.equal(opened.length, 2, `both waves opened: ${JSON.stringify(view.events)}`)
    const lines: string[] = []
    for (const n of fleet.nodes) {
      const wave = waveOf({ peerId: n.peerId, tags: [], doc: view.doc })
      const tries = fleet.history(n).filter(h => h.to === '1.1.0')
      assert.ok(tries.length > 0, `${n.name} has a history entry for 1.1.0`)
      for (const h of tries) {
        assert.ok(Date.parse(h.startedAt) >= opened[wave], `${n.name} (wave ${wave}) started 1.1.0 at ${h.startedAt}, before its wave opened at ${new Date(opened[wave]).toISOString()}`)
      }
      lines.push(`${n.name}: wave ${wave}, ${tries.map(h => h.outcome).join(', ')}`)
    }
    t.diagnostic(lines.join('; '))
  })
})
