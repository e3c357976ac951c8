import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { LevelDatastore } from 'datastore-level'
import { Key } from 'interface-datastore'
import { PeerRecordCache } from '../../../src/network/peer-record-cache.js'
import type { Datastore } from 'interface-datastore'

const dirs: string[] = []
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

/** a LevelDB store whose gets, puts and batches are counted */
async function counted (): Promise<{ level: LevelDatastore, store: Datastore, calls: { get: number, put: number, batches: number }, dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'umesh-peer-cache-'))
  dirs.push(dir)
  const level = new LevelDatastore(dir)
  await level.open()
  const calls = { get: 0, put: 0, batches: 0 }
  const store = new Proxy(level, {
    get (target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver)
      if (typeof v !== 'function') return v
      if (prop === 'get') return async (...args: any[]) => { calls.get++; return await v.apply(target, args) }
      if (prop === 'put') return async (...args: any[]) => { calls.put++; return await v.apply(target, args) }
      if (prop === 'batch') return (...args: any[]) => { calls.batches++; return v.apply(target, args) }
      return v.bind(target)
    }
  }) as Datastore
  return { level, store, calls, dir }
}

async function all<T> (source: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of source) out.push(x)
  return out
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array): string => new TextDecoder().decode(b)
const peer = (n: number): Key => new Key(`/peers/peer${n}`)

describe('PeerRecordCache', () => {
  it('reads a peer record from the store once, and writes it once per flush, the latest value', async () => {
    const { level, store, calls, dir } = await counted()
    await level.put(peer(1), bytes('v0'))
    const cache = new PeerRecordCache(store, { flushMs: 60_000 })
    // libp2p's merge on every stream: a read, then a rewrite
    for (let i = 1; i <= 50; i++) {
      assert.equal(text(await cache.get(peer(1))), i === 1 ? 'v0' : `v${i - 1}`)
      await cache.put(peer(1), bytes(`v${i}`))
    }
    assert.equal(calls.get, 1)
    assert.equal(calls.put, 0)
    assert.deepEqual(cache.size, { records: 1, pending: 1 })
    await cache.close()
    assert.equal(calls.batches, 1)
    await level.close()
    // what a restart reads
    const again = new LevelDatastore(dir)
    await again.open()
    assert.equal(text(await again.get(peer(1))), 'v50')
    await again.close()
  })

  it('passes every other key straight through', async () => {
    const { level, store, calls } = await counted()
    const cache = new PeerRecordCache(store, { flushMs: 60_000 })
    const dht = new Key('/umesh/umesh/dht/providers/abc')
    await cache.put(dht, bytes('p'))
    assert.equal(calls.put, 1)
    assert.equal(text(await level.get(dht)), 'p')
    assert.equal(text(await cache.get(dht)), 'p')
    assert.equal(text(await cache.get(dht)), 'p')
    assert.equal(calls.get, 2)
    await cache.close()
    await level.close()
  })

  it('writes pending records before a query that can return them, and deletes as it was told', async () => {
    const { level, store } = await counted()
    await level.put(peer(9), bytes('old'))
    const cache = new PeerRecordCache(store, { flushMs: 60_000 })
    await cache.put(peer(1), bytes('a'))
    await cache.put(peer(2), bytes('b'))
    await cache.delete(peer(9))
    await assert.rejects(cache.get(peer(9)), { name: 'NotFoundError' })
    assert.equal(await cache.has(peer(9)), false)
    assert.equal(await cache.has(peer(1)), true)
    // peerStore.all(): a query of /peers/
    const found = (await all(cache.query({ prefix: '/peers/' }))).map(p => `${p.key.toString()}=${text(p.value)}`).sort()
    assert.deepEqual(found, ['/peers/peer1=a', '/peers/peer2=b'])
    assert.equal(cache.size.pending, 0)
    // a query elsewhere does not force a write
    await cache.put(peer(3), bytes('c'))
    await all(cache.query({ prefix: '/umesh/' }))
    assert.equal(cache.size.pending, 1)
    await cache.close()
    await level.close()
  })

  it('writes on its timer without being asked', async () => {
    const { level, store } = await counted()
    const cache = new PeerRecordCache(store, { flushMs: 20 })
    await cache.put(peer(1), bytes('a'))
    const by = Date.now() + 5_000
    while (cache.size.pending > 0 && Date.now() < by) await new Promise(resolve => setTimeout(resolve, 10))
    assert.equal(text(await level.get(peer(1))), 'a')
    await cache.close()
    await level.close()
  })

  it('keeps at most maxRecords in memory and writes once maxPending records wait', async () => {
    const { level, store, calls } = await counted()
    for (let i = 0; i < 10; i++) await level.put(peer(i), bytes(`r${i}`))
    const cache = new PeerRecordCache(store, { flushMs: 60_000, maxRecords: 3, maxPending: 4 })
    for (let i = 0; i < 10; i++) assert.equal(text(await cache.get(peer(i))), `r${i}`)
    assert.equal(cache.size.records, 3)
    // the least recently used went first: the last three are still in memory
    const before = calls.get
    for (let i = 7; i < 10; i++) await cache.get(peer(i))
    assert.equal(calls.get, before)
    for (let i = 0; i < 4; i++) await cache.put(peer(100 + i), bytes('w'))
    assert.equal(cache.size.pending, 0, 'the fourth pending record forced a write')
    assert.equal(text(await level.get(peer(103))), 'w')
    await cache.close()
    await level.close()
  })

  it('keeps records pending when a write fails, without overwriting a newer value, and says why', async () => {
    const { level, store } = await counted()
    let fail = true
    /** commits still to fail after fail is set back to false */
    let failures = 0
    const flaky = new Proxy(store, {
      get (target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver)
        if (prop !== 'batch') return typeof v === 'function' ? v.bind(target) : v
        return () => {
          const b = (v as Datastore['batch']).call(target)
          return { put: b.put.bind(b), delete: b.delete.bind(b), commit: async () => { if (fail || failures-- > 0) throw new Error('disk full'); await b.commit() } }
        }
      }
    })
    const errors: string[] = []
    const cache = new PeerRecordCache(flaky, { flushMs: 60_000, onError: err => { errors.push(err.message) } })
    await cache.put(peer(1), bytes('first'))
    await assert.rejects(cache.flush(), /disk full/)
    assert.equal(cache.size.pending, 1)
    assert.equal(text(await cache.get(peer(1))), 'first')
    await cache.put(peer(1), bytes('second'))
    fail = false
    await cache.flush()
    assert.equal(text(await level.get(peer(1))), 'second')

    // a flush that waits on one that fails writes the failed records itself, and does not throw its error
    failures = 1
    await cache.put(peer(2), bytes('third'))
    const first = cache.flush()
    const second = cache.flush()
    await assert.rejects(first, /disk full/)
    await second
    assert.equal(text(await level.get(peer(2))), 'third')
    assert.equal(cache.size.pending, 0)
    await cache.close()
    await level.close()
  })

  it('forgets a peer record a batch writes, so the batch\'s value is what is read', async () => {
    const { level, store } = await counted()
    const cache = new PeerRecordCache(store, { flushMs: 60_000 })
    await cache.put(peer(1), bytes('cached'))
    const b = cache.batch()
    b.put(peer(1), bytes('batched'))
    await b.commit()
    assert.equal(text(await cache.get(peer(1))), 'batched')
    await cache.close()
    assert.equal(text(await level.get(peer(1))), 'batched')
    await level.close()
  })
})
