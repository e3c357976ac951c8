import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { IdleCollector } from '../../../src/daemon/idle-collector.js'
import { captureLogger } from '../../helpers/capture-logger.js'

const MiB = 1024 * 1024

function collector (over: { busy?: () => boolean } = {}): { c: IdleCollector, move: (bytes: number) => void, collected: () => number, lines: string[] } {
  let moved = 0
  let collected = 0
  const { logger, lines } = captureLogger()
  const c = new IdleCollector({ moved: () => moved, collect: () => { collected++ }, burstBytes: 16 * MiB, quietMs: 10_000, log: logger, ...over })
  return { c, move: (bytes) => { moved += bytes }, collected: () => collected, lines }
}

describe('idle collector', () => {
  it('collects once when a burst has been quiet long enough, then waits for the next burst', () => {
    const { c, move, collected, lines } = collector()
    let t = 0
    move(10 * MiB); c.check(t += 5_000)
    move(10 * MiB); c.check(t += 5_000)
    c.check(t += 5_000)
    assert.equal(collected(), 0, 'quiet for 5 s only')
    c.check(t += 5_000)
    assert.equal(collected(), 1, 'quiet for 10 s after 20 MiB')
    assert.match(lines[0], /collected garbage after 20 MiB/)
    c.check(t += 5_000); c.check(t += 60_000)
    assert.equal(collected(), 1, 'nothing moved since: no second collection')
    move(20 * MiB); c.check(t += 5_000); c.check(t += 5_000); c.check(t += 5_000)
    assert.equal(collected(), 2, 'the next burst gets its own')
  })

  it('leaves small traffic alone, and waits while an install runs', () => {
    let installing = true
    const { c, move, collected } = collector({ busy: () => installing })
    let t = 0
    move(MiB); c.check(t += 5_000); c.check(t += 60_000)
    move(20 * MiB); c.check(t += 5_000)
    c.check(t += 30_000)
    assert.equal(collected(), 0, 'an install under way counts as traffic')
    installing = false
    c.check(t += 5_000)
    assert.equal(collected(), 0)
    c.check(t += 10_000)
    assert.equal(collected(), 1)
  })

  it('fetches V8\'s full collection when none is given, and it runs', () => {
    let moved = 0
    const c = new IdleCollector({ moved: () => moved, burstBytes: 1, quietMs: 0, log: captureLogger().logger })
    moved = 10; c.check(1)
    c.check(2)
    assert.equal(c.collections, 1)
    assert.equal(typeof (globalThis as any).gc, 'undefined', 'the main context gets no global gc')
  })
})
