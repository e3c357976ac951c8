import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Backoff } from '../../../src/discovery/backoff.js'

describe('backoff', () => {
  it('doubles the wait per failure up to the cap, and resets on success', () => {
    let now = 0
    const b = new Backoff({ baseMs: 100, maxMs: 1000, now: () => now })
    assert.equal(b.ready('p'), true)
    assert.deepEqual([b.fail('p'), b.fail('p'), b.fail('p'), b.fail('p'), b.fail('p')], [100, 200, 400, 800, 1000])
    assert.equal(b.ready('p'), false)
    now += 1000
    assert.equal(b.ready('p'), true)
    b.succeed('p')
    assert.equal(b.fail('p'), 100)
  })

  it('says which keys are failing, and forgets them all when the network changed', () => {
    let now = 0
    const b = new Backoff({ baseMs: 100, maxMs: 1000, now: () => now })
    b.fail('p')
    b.fail('p')
    b.fail('q')
    assert.equal(b.failing('p'), true)
    assert.equal(b.failing('r'), false)
    b.clear()
    assert.equal(b.ready('p'), true)
    assert.equal(b.ready('q'), true)
    assert.equal(b.failing('p'), false)
    assert.equal(b.fail('p'), 100, 'the doubling starts over')
    now += 1
  })
})
