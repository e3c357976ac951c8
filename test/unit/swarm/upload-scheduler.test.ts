/**
 * Upload slots: round-robin over the peers waiting, rare chunks first within
 * a peer, the slot cap, aborts, and the upload bucket taken inside the slot.
 * Bucket timings run on an injected clock and node:test's mocked setTimeout.
 */
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { describe, it } from 'node:test'
import { TokenBucket } from '../../../src/swarm/token-bucket.js'
import { UploadScheduler } from '../../../src/swarm/upload-scheduler.js'
import type { TestContext } from 'node:test'

async function settle (): Promise<void> {
  for (let n = 0; n < 3; n++) await new Promise<void>(resolve => { setImmediate(resolve) })
}

/** the answers granted so far, in order, each with the function that frees its slot */
class Grants {
  readonly order: string[] = []
  readonly frees = new Map<string, () => void>()
  readonly failed = new Map<string, unknown>()
  readonly at = new Map<string, number>()

  constructor (private readonly scheduler: UploadScheduler, private readonly now: () => number = () => 0) {}

  ask (peer: string, key: string, bytes = 1, signal?: AbortSignal): void {
    const name = `${peer}:${key}`
    this.scheduler.acquire(peer, key, bytes, signal).then(free => {
      this.order.push(name)
      this.frees.set(name, free)
      this.at.set(name, this.now())
    }, err => { this.failed.set(name, err) })
  }

  free (name: string): void {
    const free = this.frees.get(name)
    assert.ok(free != null, `${name} holds no slot`)
    free()
  }

  /** frees every slot, and those of the answers that then get one, so no slot timer outlives the test */
  async releaseAll (): Promise<void> {
    for (;;) {
      const granted = this.order.length
      for (const free of this.frees.values()) free()
      await settle()
      if (this.order.length === granted) return
    }
  }

  /** frees the latest grant, one at a time, until `n` are granted */
  async drain (n: number): Promise<void> {
    await settle()
    while (this.order.length < n) {
      const before = this.order.length
      this.free(this.order[before - 1])
      await settle()
      assert.ok(this.order.length > before, `no grant after freeing ${this.order[before - 1]}; granted ${this.order.join(' ')}`)
    }
  }
}

function simulated (t: TestContext): { now: () => number, advance: (ms: number) => Promise<void> } {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  let time = 0
  return {
    now: () => time,
    // settles first, so timers set by what the test just started count from now
    advance: async (ms) => {
      for (let n = 0; n < ms; n++) {
        await settle()
        time++
        t.mock.timers.tick(1)
      }
      await settle()
    }
  }
}

describe('UploadScheduler', () => {
  it('grants slots round-robin over the peers, not all of a greedy peer\'s answers first', async () => {
    const scheduler = new UploadScheduler({ slots: 1 })
    const g = new Grants(scheduler)
    g.ask('x', 'blocker')
    for (let n = 1; n <= 5; n++) g.ask('A', `a${n}`)
    g.ask('B', 'b1')
    g.ask('C', 'c1')
    await settle()
    assert.deepEqual(g.order, ['x:blocker'])
    assert.equal(scheduler.queued, 7)
    await g.drain(8)
    assert.deepEqual(g.order.slice(1), ['A:a1', 'B:b1', 'C:c1', 'A:a2', 'A:a3', 'A:a4', 'A:a5'])
    assert.equal(scheduler.queued, 0)
    await g.releaseAll()
  })

  it('a peer whose queue ran dry and asks again waits behind the peers already waiting', async () => {
    const scheduler = new UploadScheduler({ slots: 1 })
    const g = new Grants(scheduler)
    g.ask('x', 'blocker')
    g.ask('A', 'a1')
    g.ask('B', 'b1')
    g.ask('B', 'b2')
    await g.drain(2) // a1 has the slot; A waits for nothing more
    g.ask('A', 'a2')
    g.ask('C', 'c1')
    await g.drain(6)
    assert.deepEqual(g.order.slice(1), ['A:a1', 'B:b1', 'A:a2', 'C:c1', 'B:b2'])
    await g.releaseAll()
  })

  it('within a peer: fewest holders first, then fewest sends, then first come; holders read when the slot frees', async () => {
    const holders = new Map([['k1', 3], ['k2', 1], ['k3', 1], ['k4', 1]])
    const scheduler = new UploadScheduler({ slots: 1, holders: key => holders.get(key) ?? 0 })
    const sendOnce = async (key: string): Promise<void> => { (await scheduler.acquire('other', key, 1))() }
    await sendOnce('k3')
    assert.equal(scheduler.sentCount('k3'), 1)
    assert.equal(scheduler.sentCount('k4'), 0)
    const g = new Grants(scheduler)
    g.ask('x', 'blocker')
    for (const key of ['k1', 'k3', 'k2', 'k4', 'k5']) g.ask('P', key)
    await g.drain(3)
    assert.deepEqual(g.order.slice(1), ['P:k5', 'P:k2'], 'k5 has no known holder; k2 and k4 tie on holders and sends, k2 came first')
    holders.set('k1', 0)
    await g.drain(6)
    assert.deepEqual(g.order.slice(1), ['P:k5', 'P:k2', 'P:k1', 'P:k4', 'P:k3'], 'k1 became rare while waiting; k3 was sent once before')
    assert.equal(scheduler.sentCount('k3'), 2)
    assert.equal(scheduler.sentCount('k1'), 1)
    await g.releaseAll()
  })

  it('a seeder sends every piece once before any piece twice', async () => {
    const scheduler = new UploadScheduler({ slots: 1 })
    const g = new Grants(scheduler)
    g.ask('x', 'blocker')
    // one peer asks for pieces it lacks, then again for the ones it did not get (a re-request), in an order that favours repeats
    for (const key of ['p0', 'p1', 'p0', 'p2', 'p1', 'p3']) g.ask('P', key)
    await g.drain(3)
    assert.deepEqual(g.order.slice(1), ['P:p0', 'P:p1'])
    await g.drain(7)
    assert.deepEqual(g.order.slice(3), ['P:p2', 'P:p3', 'P:p0', 'P:p1'], 'p2 and p3 (never sent) before the second p0 and p1')
    await g.releaseAll()
  })

  it('never has more answers in flight than slots', async () => {
    const scheduler = new UploadScheduler({ slots: 2 })
    const g = new Grants(scheduler)
    for (const peer of ['a', 'b', 'c', 'd', 'e']) g.ask(peer, `${peer}1`)
    await settle()
    assert.deepEqual(g.order, ['a:a1', 'b:b1'])
    assert.equal(scheduler.queued, 3)
    g.free('b:b1')
    await settle()
    assert.deepEqual(g.order, ['a:a1', 'b:b1', 'c:c1'])
    g.free('a:a1')
    g.free('c:c1')
    await settle()
    assert.deepEqual(g.order.slice(3), ['d:d1', 'e:e1'])
    assert.equal(scheduler.queued, 0)
    g.ask('f', 'f1')
    await settle()
    assert.equal(g.order.length, 5, 'both slots are taken by d and e')
    await g.releaseAll()
  })

  it('defaults to 4 slots', async () => {
    const scheduler = new UploadScheduler()
    const g = new Grants(scheduler)
    for (let n = 0; n < 6; n++) g.ask(`p${n}`, 'k')
    await settle()
    assert.equal(g.order.length, 4)
    await g.releaseAll()
  })

  it('freeing a slot twice frees it once', async () => {
    const scheduler = new UploadScheduler({ slots: 1 })
    const free = await scheduler.acquire('a', 'k', 1)
    free()
    free()
    const g = new Grants(scheduler)
    g.ask('b', 'k1')
    g.ask('c', 'k2')
    await settle()
    assert.deepEqual(g.order, ['b:k1'], 'one slot, not two')
    assert.equal(scheduler.queued, 1)
    await g.releaseAll()
  })

  it('an aborted acquire rejects with the reason, leaves the queue and takes no slot', async () => {
    const scheduler = new UploadScheduler({ slots: 1 })
    const g = new Grants(scheduler)
    g.ask('x', 'blocker')
    const alone = new AbortController()
    const second = new AbortController()
    g.ask('A', 'a1', 1, alone.signal) // A's only answer: A leaves the round
    g.ask('B', 'b1', 1, second.signal)
    g.ask('B', 'b2')
    g.ask('C', 'c1')
    await settle()
    assert.equal(scheduler.queued, 4)
    const reason = new Error('stream closed')
    alone.abort(reason)
    second.abort(new Error('b1 cancelled'))
    await settle()
    assert.equal(g.failed.get('A:a1'), reason)
    assert.equal((g.failed.get('B:b1') as Error).message, 'b1 cancelled')
    assert.equal(scheduler.queued, 2)
    await g.drain(3)
    assert.deepEqual(g.order, ['x:blocker', 'B:b2', 'C:c1'])
    assert.equal(scheduler.sentCount('a1'), 0)
    assert.equal(scheduler.sentCount('b1'), 0)
    g.ask('D', 'd1')
    await settle()
    assert.equal(g.order.length, 3, 'c1 holds the one slot: the aborted acquires left none behind')
    alone.abort() // again, after: harmless
    await assert.rejects(scheduler.acquire('E', 'e1', 1, AbortSignal.abort(reason)), (err) => err === reason)
    assert.equal(scheduler.queued, 1, 'an acquire aborted before it starts is not queued')
    await g.releaseAll()
  })

  it('takes the bucket inside the slot: a capped bucket paces the grants', async (t) => {
    const clock = simulated(t)
    const bucket = new TokenBucket(10_000, 1000, clock.now)
    const scheduler = new UploadScheduler({ slots: 4, bucket })
    const g = new Grants(scheduler, clock.now)
    for (const peer of ['a', 'b', 'c', 'd', 'e']) g.ask(peer, `${peer}1`, 1000)
    await settle()
    // the first takes the burst, the second passes into 1000 B of debt, then 1000 B every 100 ms
    for (const name of g.order) g.free(name)
    assert.deepEqual(g.order, ['a:a1', 'b:b1'])
    const freed = new Set(g.order)
    for (let n = 0; n < 4; n++) {
      await clock.advance(100)
      for (const name of g.order) if (!freed.has(name)) g.free(name)
      for (const name of g.order) freed.add(name)
    }
    assert.deepEqual(g.order.map(name => [name, g.at.get(name)]), [['a:a1', 0], ['b:b1', 0], ['c:c1', 100], ['d:d1', 200], ['e:e1', 300]])
    assert.equal(bucket.total, 5000)
  })

  it('an answer waiting for the bucket holds its slot, so rarer answers asked later still go first', async (t) => {
    const clock = simulated(t)
    const bucket = new TokenBucket(1000, 1000, clock.now)
    await bucket.take(2000)
    const holders = new Map([['common', 5], ['common2', 5]])
    const scheduler = new UploadScheduler({ slots: 1, bucket, holders: key => holders.get(key) ?? 0 })
    const g = new Grants(scheduler, clock.now)
    g.ask('P', 'common', 500)
    await settle()
    g.ask('P', 'common2', 10)
    g.ask('P', 'rare', 10)
    await settle()
    assert.equal(scheduler.queued, 2, 'common has the slot while it waits for the bucket')
    await clock.advance(1000)
    assert.deepEqual(g.order.map(name => [name, g.at.get(name)]), [['P:common', 1000]])
    g.free('P:common')
    await clock.advance(600)
    assert.deepEqual(g.order.map(name => [name, g.at.get(name)]), [['P:common', 1000], ['P:rare', 1500]])
  })

  it('an acquire aborted while it waits for the bucket frees its slot and is not counted as sent', async (t) => {
    const clock = simulated(t)
    const bucket = new TokenBucket(1000, 1000, clock.now)
    await bucket.take(2000)
    const scheduler = new UploadScheduler({ slots: 1, bucket })
    const g = new Grants(scheduler, clock.now)
    const controller = new AbortController()
    g.ask('A', 'a1', 500, controller.signal)
    g.ask('B', 'b1', 10)
    await clock.advance(100)
    assert.equal(scheduler.queued, 1)
    const reason = new Error('gone')
    controller.abort(reason)
    await settle()
    assert.equal(g.failed.get('A:a1'), reason)
    assert.equal(scheduler.queued, 0, 'b1 got the slot')
    await clock.advance(900)
    assert.deepEqual(g.order.map(name => [name, g.at.get(name)]), [['B:b1', 1000]], 'b1 waited only for the debt from before')
    assert.equal(scheduler.sentCount('a1'), 0)
    assert.equal(scheduler.sentCount('b1'), 1)
    assert.equal(bucket.total, 2010)
  })

  it('gives a slot back after slotMs when its answer is not freed (a peer that stopped reading)', async (t) => {
    const clock = simulated(t)
    const scheduler = new UploadScheduler({ slots: 1, slotMs: 500 })
    const g = new Grants(scheduler, clock.now)
    g.ask('stuck', 's1')
    g.ask('B', 'b1')
    g.ask('C', 'c1')
    await clock.advance(499)
    assert.deepEqual(g.order, ['stuck:s1'])
    await clock.advance(1)
    assert.deepEqual(g.order, ['stuck:s1', 'B:b1'])
    g.free('stuck:s1') // the write ends at last: its slot was given back already
    await settle()
    assert.deepEqual(g.order, ['stuck:s1', 'B:b1'], 'c1 still waits: b1 holds the one slot')
    g.free('B:b1')
    await settle()
    assert.deepEqual(g.order, ['stuck:s1', 'B:b1', 'C:c1'], 'freed in time: no timer left to free it twice')
    await clock.advance(600)
    g.ask('D', 'd1')
    await settle()
    assert.equal(g.order.length, 4, 'c1\'s timer gave its slot back')
    assert.equal(scheduler.queued, 0)
  })

  it('gives a slot back after 2 s by default', async (t) => {
    const clock = simulated(t)
    const g = new Grants(new UploadScheduler({ slots: 1 }), clock.now)
    g.ask('stuck', 's1')
    g.ask('B', 'b1')
    await clock.advance(1999)
    assert.equal(g.order.length, 1)
    await clock.advance(1)
    assert.equal(g.order.length, 2)
  })

  it('an answer waiting for the upload cap keeps its slot past slotMs', async (t) => {
    const clock = simulated(t)
    const bucket = new TokenBucket(1000, 1000, clock.now)
    await bucket.take(4000) // 3 s of debt
    const scheduler = new UploadScheduler({ slots: 1, slotMs: 500, bucket })
    const g = new Grants(scheduler, clock.now)
    g.ask('A', 'a1', 100)
    g.ask('B', 'b1', 100)
    g.ask('C', 'c1', 100)
    await clock.advance(1000)
    assert.equal(scheduler.queued, 2, 'a1 has written nothing yet, but b1 and c1 left the queue for the bucket')
  })

  it('remembers the send counts of at most maxTracked chunks, forgetting the oldest', async () => {
    const scheduler = new UploadScheduler({ slots: 1, maxTracked: 2 })
    for (const key of ['k1', 'k2', 'k2', 'k3']) (await scheduler.acquire('p', key, 1))()
    assert.deepEqual(['k1', 'k2', 'k3'].map(k => scheduler.sentCount(k)), [0, 2, 1])
  })

  it('leaves no listener on the request\'s signal once the slot is granted (the signal may live for its whole timeout)', async () => {
    const scheduler = new UploadScheduler({ slots: 1 })
    const first = new AbortController()
    const second = new AbortController()
    const free = await scheduler.acquire('p', 'k1', 1, first.signal)
    const waiting = scheduler.acquire('q', 'k2', 1, second.signal)
    assert.equal(getEventListeners(first.signal, 'abort').length, 0, 'granted at once: nothing left behind')
    assert.equal(getEventListeners(second.signal, 'abort').length, 1, 'a waiter can still be aborted')
    free()
    ;(await waiting)()
    assert.equal(getEventListeners(second.signal, 'abort').length, 0, 'granted after waiting: its listener is gone too')
  })
})
