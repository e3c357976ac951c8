/**
 * The byte token bucket: bursts, debt, the long-run rate, rate changes, the
 * order waiters are served in, and aborts. Time is simulated: the bucket's
 * clock is injected and its sleeps run on node:test's mocked setTimeout, so
 * every delay is asserted to the millisecond; one test checks the rate on
 * the real clock.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TokenBucket } from '../../../src/swarm/token-bucket.js'
import type { TestContext } from 'node:test'

/** lets promise chains and the bucket's next sleep get scheduled */
async function settle (): Promise<void> {
  for (let n = 0; n < 3; n++) await new Promise<void>(resolve => { setImmediate(resolve) })
}

interface Clock {
  now: () => number
  /** moves the clock (and the mocked timers) forward `ms` in 1 ms steps */
  advance: (ms: number) => Promise<void>
  /** moves it `ms` in one jump */
  jump: (ms: number) => Promise<void>
}

function simulated (t: TestContext): Clock {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  let time = 0
  // settles first, so timers set by what the test just started count from now
  const jump = async (ms: number): Promise<void> => {
    await settle()
    time += ms
    t.mock.timers.tick(ms)
    await settle()
  }
  return {
    now: () => time,
    jump,
    advance: async (ms) => { for (let n = 0; n < ms; n++) await jump(1) }
  }
}

/** a take, with when (simulated time) and how it ended */
interface Tracked { name: string, settled?: 'ok' | 'rejected', at?: number, reason?: unknown }

function track (clock: Clock, name: string, take: Promise<void>, log: Tracked[] = []): Tracked {
  const t: Tracked = { name }
  take.then(() => { t.settled = 'ok'; t.at = clock.now(); log.push(t) }, (err) => { t.settled = 'rejected'; t.at = clock.now(); t.reason = err; log.push(t) })
  return t
}

describe('TokenBucket', () => {
  it('rate 0 never waits and still counts the bytes', async (t) => {
    const clock = simulated(t)
    const bucket = new TokenBucket(0, undefined, clock.now)
    const takes = [1e9, 1e9, 5, 1e12].map((n, i) => track(clock, `t${i}`, bucket.take(n)))
    await settle()
    assert.deepEqual(takes.map(x => x.settled), ['ok', 'ok', 'ok', 'ok'], 'no timer was needed')
    assert.equal(bucket.delayMs(), 0)
    assert.equal(bucket.total, 2e9 + 5 + 1e12)
    assert.equal(bucket.rate, 0)
  })

  it('passes a full burst at once, then one take into debt, and the next waits out the debt', async (t) => {
    const clock = simulated(t)
    const bucket = new TokenBucket(1000, 2000, clock.now)
    await bucket.take(1500)
    assert.equal(bucket.delayMs(), 0)
    await bucket.take(1000) // 500 left: not in debt, so it passes and leaves 500 of debt
    assert.equal(bucket.delayMs(), 500)
    await clock.jump(200)
    assert.equal(bucket.delayMs(), 300, 'the debt shrinks at the rate')
    const next = track(clock, 'next', bucket.take(1))
    await clock.jump(299)
    assert.equal(next.settled, undefined, 'still 1 ms of debt')
    await clock.advance(1)
    assert.deepEqual([next.settled, next.at], ['ok', 500])
    assert.equal(bucket.delayMs(), 1, 'one byte of debt at 1000 B/s')
    assert.equal(bucket.total, 2501)
  })

  it('saves up at most a burst while idle', async (t) => {
    const clock = simulated(t)
    const bucket = new TokenBucket(1000, 2000, clock.now)
    await bucket.take(2000)
    await clock.jump(60_000)
    await bucket.take(3000) // a minute idle saves 2000, not 60 000
    assert.equal(bucket.delayMs(), 1000)
  })

  it('defaults the burst to a quarter second of the rate, at least 64 KiB', async (t) => {
    const clock = simulated(t)
    const fast = new TokenBucket(4_000_000, undefined, clock.now)
    await fast.take(1_000_000 + 8000)
    assert.equal(fast.delayMs(), 2, 'a burst of 1 MB, 8000 B of debt at 4 MB/s')
    const slow = new TokenBucket(1000, undefined, clock.now)
    await slow.take(64 * 1024 + 1500)
    assert.equal(slow.delayMs(), 1500)
  })

  it('a take larger than the burst passes at once, in debt, and delays the next by the debt', async (t) => {
    const clock = simulated(t)
    const bucket = new TokenBucket(1000, 100, clock.now)
    const big = track(clock, 'big', bucket.take(5000))
    await settle()
    assert.equal(big.settled, 'ok')
    assert.equal(bucket.delayMs(), 4900)
    const next = track(clock, 'next', bucket.take(10))
    await clock.jump(4899)
    assert.equal(next.settled, undefined)
    await clock.advance(1)
    assert.deepEqual([next.settled, next.at], ['ok', 4900])
  })

  it('holds the rate over a long stretch: 500 takes of 1000 B at 100 kB/s', async (t) => {
    const clock = simulated(t)
    const bucket = new TokenBucket(100_000, 10_000, clock.now)
    const at: number[] = []
    const sender = (async () => {
      for (let n = 0; n < 500; n++) {
        await bucket.take(1000)
        at.push(clock.now())
      }
    })()
    await settle()
    while (at.length < 500) await clock.advance(1)
    await sender
    // the burst (10 takes) and one more pass at once; every other take waits for its 1000 B
    const expected = (500 * 1000 - 1000 - 10_000) / 100_000 * 1000
    const last = at[at.length - 1]
    assert.ok(Math.abs(last - expected) <= expected * 0.02, `500 kB took ${last} ms, expected ${expected}`)
    const inWindow = at.filter(x => x > 1000 && x <= 4000).length * 1000
    assert.ok(Math.abs(inWindow / 3 - 100_000) <= 3000, `${inWindow / 3} B/s between 1 s and 4 s`)
    assert.equal(at.filter(x => x === 0).length, 11)
    assert.equal(bucket.total, 500_000)
  })

  it('holds the rate on the real clock within 10 %', async () => {
    const bucket = new TokenBucket(200_000, 20_000)
    const start = performance.now()
    for (let n = 0; n < 200; n++) await bucket.take(1000)
    const elapsed = performance.now() - start
    const expected = (200 * 1000 - 1000 - 20_000) / 200_000 * 1000
    assert.ok(elapsed >= expected * 0.98 && elapsed <= expected * 1.1, `200 kB at 200 kB/s with a 20 kB burst took ${Math.round(elapsed)} ms, expected ${expected}`)
  })

  it('setRate changes the debt delay at once and keeps what was saved within the new burst', async (t) => {
    const clock = simulated(t)
    const bucket = new TokenBucket(1000, 1000, clock.now)
    await bucket.take(3000)
    assert.equal(bucket.delayMs(), 2000)
    bucket.setRate(4000, 1000)
    assert.equal(bucket.rate, 4000)
    assert.equal(bucket.delayMs(), 500, '2000 B of debt at 4000 B/s')
    await clock.jump(250)
    assert.equal(bucket.delayMs(), 250)
    await clock.jump(1000)
    bucket.setRate(1000, 300)
    assert.equal(bucket.delayMs(), 0)
    await bucket.take(300)
    await bucket.take(600)
    assert.equal(bucket.delayMs(), 600, 'only the new burst of 300 was kept, not 1000')
    bucket.setRate(0)
    assert.equal(bucket.delayMs(), 0, 'unlimited: no debt')
    const free = track(clock, 'free', bucket.take(1e9))
    await settle()
    assert.equal(free.settled, 'ok')
    bucket.setRate(1000, 500)
    assert.equal(bucket.delayMs(), 0, 'what passed while unlimited is not owed under the new cap')
    await bucket.take(500)
    await bucket.take(2000)
    assert.equal(bucket.delayMs(), 2000)
    const waiting = track(clock, 'waiting', bucket.take(1))
    await clock.advance(1999)
    assert.equal(waiting.settled, undefined)
    await clock.advance(1)
    assert.equal(waiting.at, 1250 + 2000)
  })

  it('serves takes in order: a small take does not pass a large one queued before it', async (t) => {
    const clock = simulated(t)
    const bucket = new TokenBucket(1000, 1000, clock.now)
    await bucket.take(2000)
    const log: Tracked[] = []
    track(clock, 'large', bucket.take(500), log)
    track(clock, 'small', bucket.take(10), log)
    track(clock, 'tiny', bucket.take(1), log)
    await clock.advance(1600)
    assert.deepEqual(log.map(x => [x.name, x.at]), [['large', 1000], ['small', 1500], ['tiny', 1510]])
    assert.equal(bucket.total, 2511)
  })

  it('an aborted take rejects with the signal\'s reason, takes nothing, and does not hold up the next', async (t) => {
    const clock = simulated(t)
    const bucket = new TokenBucket(1000, 1000, clock.now)
    await bucket.take(2000)
    const controller = new AbortController()
    const aborted = track(clock, 'aborted', bucket.take(500, controller.signal))
    const next = track(clock, 'next', bucket.take(10))
    await clock.advance(100)
    const reason = new Error('the peer went away')
    controller.abort(reason)
    await settle()
    assert.equal(aborted.settled, 'rejected')
    assert.equal(aborted.reason, reason)
    assert.equal(aborted.at, 100)
    await clock.advance(1000)
    assert.deepEqual([next.settled, next.at], ['ok', 1000], 'the next take waits only for the debt before it')
    assert.equal(bucket.total, 2010)
  })

  it('a take aborted while queued behind another rejects and the one after it is not delayed', async (t) => {
    const clock = simulated(t)
    const bucket = new TokenBucket(1000, 1000, clock.now)
    await bucket.take(2000)
    const controller = new AbortController()
    const first = track(clock, 'first', bucket.take(100))
    const aborted = track(clock, 'aborted', bucket.take(400, controller.signal))
    const last = track(clock, 'last', bucket.take(100))
    await clock.advance(10)
    const reason = new Error('cancelled')
    controller.abort(reason)
    await clock.advance(1200)
    assert.deepEqual([first.settled, first.at], ['ok', 1000])
    assert.equal(aborted.settled, 'rejected')
    assert.equal(aborted.reason, reason)
    assert.deepEqual([last.settled, last.at], ['ok', 1100], 'the aborted 400 B were not taken')
    assert.equal(bucket.total, 2200)
  })

  it('a take with a signal aborted already rejects without taking, even with tokens to spare', async (t) => {
    const clock = simulated(t)
    const bucket = new TokenBucket(1000, 1000, clock.now)
    const reason = new Error('too late')
    await assert.rejects(bucket.take(10, AbortSignal.abort(reason)), (err) => err === reason)
    assert.equal(bucket.total, 0)
    await bucket.take(1000)
    assert.equal(bucket.delayMs(), 0, 'the full burst was still there')
  })

  // Known gaps, reported with the tests: a take that is already sleeping
  // ignores a new rate, and a take aborted while queued rejects only when its
  // turn comes.
  it('a take already waiting when the rate is raised finishes at the new rate', async (t) => {
    const clock = simulated(t)
    const bucket = new TokenBucket(1000, 1000, clock.now)
    await bucket.take(3000)
    const waiting = track(clock, 'waiting', bucket.take(1))
    await clock.advance(10)
    bucket.setRate(0)
    await clock.advance(10)
    assert.equal(waiting.settled, 'ok', 'unlimited now, yet it sleeps out the 2 s computed before')
  })

  it('a take aborted while queued rejects at once', async (t) => {
    const clock = simulated(t)
    const bucket = new TokenBucket(1000, 1000, clock.now)
    await bucket.take(2000)
    const controller = new AbortController()
    track(clock, 'first', bucket.take(100))
    const aborted = track(clock, 'aborted', bucket.take(400, controller.signal))
    await clock.advance(10)
    controller.abort(new Error('cancelled'))
    await clock.advance(10)
    assert.equal(aborted.settled, 'rejected', `still pending 10 ms after the abort (it rejects at ${1000} ms, when its turn comes)`)
  })
})
