/**
 * A coordinator's metrics from a real report book: the fleet by package,
 * version and state (unreachable after 90 s), each rollout's state, open
 * waves and wave tallies (the same numbers as rolloutView), versions capped
 * with the rollouts' versions always kept, and a scrape over 1,000 nodes
 * that counts every one (its time is measured by bench/http, not here).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMetrics, fleetCounts, MAX_FLEET_VERSIONS } from '../../../src/metrics/index.js'
import { ReportBook, rolloutView, UNREACHABLE_MS } from '../../../src/rollout/index.js'
import { findSamples, parsePrometheus, sampleValue } from '../../helpers/prom-parse.js'
import { rolloutDoc } from '../../helpers/rollout-doc.js'
import type { CoordinatorSample } from '../../../src/metrics/index.js'
import type { NodeOutcome, NodeReport } from '../../../src/rollout/types.js'

const NOW = 1_800_000_000_000

const doc = rolloutDoc

/** a book whose clock the test sets: each report is seen at `clock.now` */
function book (): { book: ReportBook, clock: { now: number }, add: (r: Partial<NodeReport> & { peerId: string }) => void } {
  const clock = { now: NOW }
  const b = new ReportBook({ now: () => clock.now })
  let seq = 0
  return {
    book: b,
    clock,
    add: (r) => {
      assert.ok(b.accept({ rolloutId: 'none', package: 'app', version: '1.1.0', outcome: 'healthy', current: '1.1.0', wave: -1, reason: '', tags: [], at: clock.now, seq: ++seq, ...r }))
    }
  }
}

async function scrape (coordinator: () => CoordinatorSample | undefined): Promise<ReturnType<typeof parsePrometheus>> {
  const metrics = createMetrics({ coordinator })
  try {
    return parsePrometheus(await metrics.scrape())
  } finally {
    metrics.stop()
  }
}

describe('createMetrics: a coordinator', () => {
  it('the fleet by package, version (none: nothing installed) and state, unreachable after 90 s without a report', async () => {
    const b = book()
    b.clock.now = NOW - UNREACHABLE_MS - 1
    for (let i = 0; i < 3; i++) b.add({ peerId: `gone-${i}`, current: '1.0.0', outcome: 'healthy' })
    b.clock.now = NOW
    for (let i = 0; i < 5; i++) b.add({ peerId: `a-${i}`, current: '1.0.0', outcome: 'healthy' })
    for (let i = 0; i < 2; i++) b.add({ peerId: `b-${i}`, current: '1.1.0', outcome: 'rolled-back' })
    b.add({ peerId: 'c-0', current: '', outcome: 'waiting' })
    b.add({ peerId: 'd-0', package: 'db', current: '9.0.0', outcome: 'failed' })
    const f = await scrape(() => ({ book: b.book, rollouts: [], now: NOW }))
    const rows = findSamples(f, 'umesh_fleet_nodes').map(s => `${s.labels.package} ${s.labels.version} ${s.labels.state} ${s.value}`).sort()
    assert.deepEqual(rows, ['app 1.0.0 healthy 5', 'app 1.0.0 unreachable 3', 'app 1.1.0 rolled_back 2', 'app none waiting 1', 'db 9.0.0 failed 1'])
  })

  it('each rollout: its version, state (one of four), open waves and each wave\'s nodes by state, as rolloutView counts them', async () => {
    const b = book()
    const app = doc('app', '1.1.0', 'canary:1,50%,100%', { open: 1 })
    const db = doc('db', '2.0.0', 'all:100%', { state: 'halted', rollback: true })
    const outcomes: Array<[number, NodeOutcome, number]> = [[0, 'healthy', 1], [1, 'healthy', 4], [1, 'installing', 2], [1, 'failed', 1], [1, 'deferred', 3], [1, 'waiting', 2], [1, 'rolled-back', 1], [2, 'waiting', 5], [2, 'refused', 1]]
    let n = 0
    for (const [wave, outcome, count] of outcomes) for (let i = 0; i < count; i++) b.add({ peerId: `p-${n++}`, rolloutId: app.id, wave, outcome })
    b.add({ peerId: 'q-0', package: 'db', rolloutId: db.id, version: '2.0.0', current: '1.0.0', wave: 0, outcome: 'rolled-back' })
    const f = await scrape(() => ({ book: b.book, rollouts: [app, db], now: NOW }))
    assert.equal(sampleValue(f, 'umesh_rollout_info', { package: 'app', version: '1.1.0' }), 1)
    assert.equal(sampleValue(f, 'umesh_rollout_info', { package: 'db', version: '2.0.0' }), 1)
    const states = (pkg: string): Record<string, number> => Object.fromEntries(findSamples(f, 'umesh_rollout_state', { package: pkg }).map(s => [s.labels.state, s.value]))
    assert.deepEqual(states('app'), { running: 1, paused: 0, halted: 0, completed: 0 })
    assert.deepEqual(states('db'), { running: 0, paused: 0, halted: 1, completed: 0 })
    assert.deepEqual(findSamples(f, 'umesh_rollout_wave_open', { package: 'app' }).map(s => [s.labels.wave, s.value]), [['canary', 1], ['wave-2', 1], ['wave-3', 0]])
    const wave = (pkg: string, name: string): Record<string, number> => Object.fromEntries(findSamples(f, 'umesh_rollout_wave_nodes', { package: pkg, wave: name }).map(s => [s.labels.state, s.value]))
    assert.deepEqual(wave('app', 'canary'), { healthy: 1, failed: 0, pending: 0, installing: 0, deferred: 0, rolled_back: 0 })
    assert.deepEqual(wave('app', 'wave-2'), { healthy: 4, failed: 1, pending: 2, installing: 2, deferred: 3, rolled_back: 1 })
    assert.deepEqual(wave('app', 'wave-3'), { healthy: 0, failed: 0, pending: 6, installing: 0, deferred: 0, rolled_back: 0 })
    assert.deepEqual(wave('db', 'all'), { healthy: 0, failed: 0, pending: 0, installing: 0, deferred: 0, rolled_back: 1 })
    // the same numbers as `umesh rollout status`
    for (const w of rolloutView(b.book, app, []).waves) {
      assert.deepEqual(wave('app', w.name), { healthy: w.healthy, failed: w.failed, pending: w.pending, installing: w.installing, deferred: w.deferred, rolled_back: w.rolledBack })
    }
  })

  it('versions are capped: the rollouts\' versions first, then the most common; the rest are version other, every node still counted', () => {
    const b = book()
    const versions = MAX_FLEET_VERSIONS + 30
    let n = 0
    // version i runs on (i % 7) + 2 nodes; 9.9.9, which a rollout names, on one
    for (let i = 0; i < versions; i++) for (let k = 0; k < (i % 7) + 2; k++) b.add({ peerId: `n-${n++}`, current: `1.${i}.0` })
    b.add({ peerId: 'canary', current: '9.9.9', outcome: 'installing' })
    b.add({ peerId: 'other-pkg', package: 'tool', current: '0.1.0' })
    const total = n + 2
    const counts = fleetCounts({ book: b.book, rollouts: [doc('app', '9.9.9', '100%')], now: NOW })
    const kept = new Set(counts.filter(c => c.version !== 'other').map(c => `${c.package} ${c.version}`))
    assert.equal(kept.size, MAX_FLEET_VERSIONS)
    assert.ok(kept.has('app 9.9.9'), 'the version a rollout names is kept, on one node')
    // the most common versions are kept: every kept version runs on at least as many nodes as any folded one
    const nodesOf = (version: string): number => (Number(version.split('.')[1]) % 7) + 2
    const keptCommon = [...kept].filter(k => k !== 'app 9.9.9' && k.startsWith('app ')).map(k => nodesOf(k.split(' ')[1]))
    const folded = Array.from({ length: versions }, (_, i) => `1.${i}.0`).filter(vr => !kept.has(`app ${vr}`)).map(nodesOf)
    assert.ok(Math.min(...keptCommon) >= Math.max(...folded), `kept ${Math.min(...keptCommon)} vs folded ${Math.max(...folded)}`)
    assert.equal(counts.reduce((sum, c) => sum + c.nodes, 0), total)
    assert.ok(counts.some(c => c.version === 'other' && c.package === 'app'))
    // a package with no kept version is package other too
    assert.ok(!kept.has('tool 0.1.0'))
    assert.ok(counts.some(c => c.package === 'other' && c.version === 'other'))
    assert.equal(new Set(counts.map(c => `${c.package} ${c.version} ${c.state}`)).size, counts.length, 'no duplicate label set')
  })

  it('1,000 nodes, three packages in rollout: every node counted once in the fleet and the waves', async () => {
    const b = book()
    const docs = [doc('app', '2.0.0', 'canary:1,10%,50%,100%', { open: 2 }), doc('db', '5.1.0', '25%,100%', { open: 1 }), doc('tool', '0.3.0', '100%', { state: 'paused' })]
    const outcomes: NodeOutcome[] = ['healthy', 'healthy', 'healthy', 'installing', 'waiting', 'deferred', 'failed', 'rolled-back']
    for (let i = 0; i < 1000; i++) {
      const d = docs[i % 3]
      b.add({ peerId: `12D3KooWnode${i}`, package: d.package, rolloutId: d.id, version: d.version, current: i % 5 === 0 ? d.version : `1.${i % 40}.0`, wave: i % d.waves.length, outcome: outcomes[i % outcomes.length], tags: ['rack-a'] })
    }
    const metrics = createMetrics({ coordinator: () => ({ book: b.book, rollouts: docs }) })
    try {
      await metrics.scrape()
      // the second scrape reports how long the first took
      const text = await metrics.scrape()
      const f = parsePrometheus(text)
      assert.equal(findSamples(f, 'umesh_fleet_nodes').reduce((sum, s) => sum + s.value, 0), 1000)
      assert.equal(findSamples(f, 'umesh_rollout_wave_nodes').reduce((sum, s) => sum + s.value, 0), 1000)
      assert.ok(sampleValue(f, 'umesh_metrics_last_scrape_duration_seconds')! > 0)
    } finally {
      metrics.stop()
    }
  })
})
