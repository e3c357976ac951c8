/**
 * The report heartbeat by fleet size: 20 s up to 1,000 nodes, then growing
 * so the whole fleet sends at most 50 heartbeats a second; a node is
 * unreachable after 4.5 heartbeats without a report, never under 90 s; the
 * coordinator's book and views judge silence by the size of the book.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FLEET_HEARTBEATS_PER_SECOND, heartbeatMs, unreachableAfterMs } from '../../../src/rollout/index.js'
import { nextHeartbeatMs } from '../../../src/rollout/heartbeat.js'
import { ReportBook } from '../../../src/rollout/reports.js'
import { fleetRows } from '../../../src/rollout/views.js'
import type { NodeReport } from '../../../src/rollout/types.js'

function reportOf (peerId: string, at: number): NodeReport {
  return { peerId, rolloutId: 'none', package: 'app', version: '', outcome: 'healthy', current: '1.0.0', wave: 0, reason: '', tags: [], at, seq: 1 }
}

/** a book of `size` nodes, all heard at `seen` but node-0, heard at `silentSince` */
function bookOf (size: number, seen: number, silentSince: number): ReportBook {
  let now = silentSince
  const book = new ReportBook({ now: () => now })
  book.accept(reportOf('node-0', silentSince))
  now = seen
  for (let i = 1; i < size; i++) book.accept(reportOf(`node-${i}`, seen))
  return book
}

describe('the report heartbeat by fleet size', () => {
  it('is 20 s up to 1,000 nodes, then the fleet sends at most 50 a second', () => {
    assert.equal(FLEET_HEARTBEATS_PER_SECOND, 50)
    for (const n of [1, 10, 500, 1_000]) assert.equal(heartbeatMs(n), 20_000, `${n} nodes`)
    assert.equal(heartbeatMs(1_001), 21_000)
    assert.equal(heartbeatMs(10_000), 200_000)
    for (const n of [2_000, 10_000, 100_000]) assert.ok(n / (heartbeatMs(n) / 1000) <= FLEET_HEARTBEATS_PER_SECOND, `${n} nodes: ${n / (heartbeatMs(n) / 1000)} a second`)
    assert.equal(heartbeatMs(10, 2_000), 2_000, 'a configured floor holds in a small fleet')
    assert.equal(heartbeatMs(10_000, 2_000), 200_000, 'and gives way in a large one')
  })

  it('spreads each heartbeat by ±10 %', () => {
    assert.equal(nextHeartbeatMs(10, 20_000, () => 0), 18_000)
    assert.equal(nextHeartbeatMs(10, 20_000, () => 0.5), 20_000)
    assert.equal(nextHeartbeatMs(10, 20_000, () => 0.999999), 22_000)
  })

  it('a node is unreachable after 4.5 heartbeats, never under 90 s', () => {
    assert.equal(unreachableAfterMs(5), 90_000)
    assert.equal(unreachableAfterMs(1_000), 90_000)
    assert.equal(unreachableAfterMs(10_000), 900_000)
  })

  it('the book and the fleet view judge a silent node by the size of the book', () => {
    const now = 10_000_000
    const silent = now - 120_000
    const small = bookOf(10, now, silent)
    assert.equal(small.unreachableAfterMs(), 90_000)
    assert.deepEqual(fleetRows(small, {}, now).filter(r => r.unreachable).map(r => r.peerId), ['node-0'], 'silent 120 s among 10 nodes: unreachable')
    const large = bookOf(5_000, now, silent)
    assert.equal(large.unreachableAfterMs(), 450_000)
    assert.deepEqual(fleetRows(large, {}, now).filter(r => r.unreachable), [], 'silent 120 s among 5,000 nodes, whose heartbeat is 100 s: still reachable')
    const gone = bookOf(5_000, now, now - 500_000)
    assert.deepEqual(fleetRows(gone, {}, now).filter(r => r.unreachable).map(r => r.peerId), ['node-0'])
  })
})
