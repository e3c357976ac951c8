/**
 * The daemon's datastore with libp2p's peer records (keys under /peers/)
 * held in memory in front of LevelDB.
 *
 * libp2p reads a peer's record for each peer in every DHT answer it gives
 * (up to 20 per FIND_NODE or GET_PROVIDERS) and, on every stream opened or
 * accepted, merges the stream's protocol into the record: a read and a
 * rewrite. Each was a LevelDB get, and a put, on the daemon's one thread.
 * Here a record is read from memory once known, and a record's writes reach
 * LevelDB at most once per `flushMs` (default 5 s), in one batch. A query
 * that can reach /peers/ (`peerStore.all()`), `flush()` and a full write
 * buffer write them first. A crash loses at most the last interval's
 * changes to peer records: addresses and protocols, which identify tells a
 * node again. Every other key (the DHT's records) goes straight through.
 *
 * Bounded: at most `maxRecords` records in memory (least recently used
 * first out; a record not yet written stays until it is), at most
 * `maxPending` records waiting to be written.
 */
import { Key } from 'interface-datastore'
import type { AbortOptions } from '@libp2p/interface'
import type { Batch, Datastore, KeyQuery, Pair, Query } from 'interface-datastore'

const PREFIX = '/peers/'

/** what LevelDatastore throws for a missing key: libp2p tests `name` */
class NotFoundError extends Error {
  override name = 'NotFoundError'
}

/** a query with this prefix may return peer records */
function reachesPeers (prefix: string | undefined): boolean {
  return prefix == null || PREFIX.startsWith(prefix) || prefix.startsWith(PREFIX)
}

export interface PeerRecordCacheInit {
  /** pending writes go to the store this often (default 5,000 ms) */
  flushMs?: number
  /** records kept in memory (default 4,096) */
  maxRecords?: number
  /** records waiting to be written before a write is forced (default 1,024) */
  maxPending?: number
  /** a batch that failed to write (it is tried again at the next flush) */
  onError?: (err: Error) => void
}

export class PeerRecordCache implements Datastore {
  /** known records, least recently used first */
  private readonly records = new Map<string, Uint8Array>()
  /** records to write: bytes, or undefined to delete */
  private pending = new Map<string, Uint8Array | undefined>()
  /** the records of the batch being written */
  private writing = new Map<string, Uint8Array | undefined>()
  private timer?: NodeJS.Timeout
  private flushing?: Promise<void>
  private readonly flushMs: number
  private readonly maxRecords: number
  private readonly maxPending: number

  constructor (private readonly store: Datastore, private readonly init: PeerRecordCacheInit = {}) {
    this.flushMs = init.flushMs ?? 5_000
    this.maxRecords = init.maxRecords ?? 4_096
    this.maxPending = init.maxPending ?? 1_024
  }

  /** records in memory and records waiting to be written, for tests and status */
  get size (): { records: number, pending: number } {
    return { records: this.records.size, pending: this.pending.size + this.writing.size }
  }

  async put (key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    const k = key.toString()
    if (!k.startsWith(PREFIX)) return await this.store.put(key, value, options)
    this.remember(k, value)
    this.pending.set(k, value)
    await this.schedule()
    return key
  }

  async get (key: Key, options?: AbortOptions): Promise<Uint8Array> {
    const k = key.toString()
    if (!k.startsWith(PREFIX)) return await this.store.get(key, options)
    const unwritten = this.unwritten(k)
    if (unwritten != null) {
      if (unwritten.value == null) throw new NotFoundError(`no record for ${k}`)
      return unwritten.value
    }
    const known = this.records.get(k)
    if (known != null) {
      // most recently used last
      this.records.delete(k)
      this.records.set(k, known)
      return known
    }
    const value = await this.store.get(key, options)
    // a write or delete that came in while the store was read wins
    if (this.unwritten(k) == null) this.remember(k, value)
    return value
  }

  async has (key: Key, options?: AbortOptions): Promise<boolean> {
    const k = key.toString()
    if (!k.startsWith(PREFIX)) return await this.store.has(key, options)
    const unwritten = this.unwritten(k)
    if (unwritten != null) return unwritten.value != null
    return this.records.has(k) || await this.store.has(key, options)
  }

  async delete (key: Key, options?: AbortOptions): Promise<void> {
    const k = key.toString()
    if (!k.startsWith(PREFIX)) { await this.store.delete(key, options); return }
    this.records.delete(k)
    this.pending.set(k, undefined)
    await this.schedule()
  }

  async * putMany (source: Iterable<Pair> | AsyncIterable<Pair>, options?: AbortOptions): AsyncGenerator<Key> {
    for await (const { key, value } of source) yield await this.put(key, value, options)
  }

  async * getMany (source: Iterable<Key> | AsyncIterable<Key>, options?: AbortOptions): AsyncGenerator<Pair> {
    for await (const key of source) yield { key, value: await this.get(key, options) }
  }

  async * deleteMany (source: Iterable<Key> | AsyncIterable<Key>, options?: AbortOptions): AsyncGenerator<Key> {
    for await (const key of source) {
      await this.delete(key, options)
      yield key
    }
  }

  /** written to the store as one batch; peer records it touches are forgotten here (the batch is newer) */
  batch (): Batch {
    const inner = this.store.batch()
    const touched: string[] = []
    return {
      put: (key, value) => { inner.put(key, value); touched.push(key.toString()) },
      delete: (key) => { inner.delete(key); touched.push(key.toString()) },
      commit: async (options) => {
        const forget = (): void => {
          for (const k of touched) {
            if (!k.startsWith(PREFIX)) continue
            this.records.delete(k)
            this.pending.delete(k)
            this.writing.delete(k)
          }
        }
        forget()
        await inner.commit(options)
        // a read while the batch was written may have cached the old value
        forget()
      }
    }
  }

  async * query (q: Query, options?: AbortOptions): AsyncGenerator<Pair> {
    if (reachesPeers(q.prefix)) await this.flush()
    yield * this.store.query(q, options)
  }

  async * queryKeys (q: KeyQuery, options?: AbortOptions): AsyncGenerator<Key> {
    if (reachesPeers(q.prefix)) await this.flush()
    yield * this.store.queryKeys(q, options)
  }

  /** writes every pending record now (one batch); a failed batch stays pending and the error is thrown */
  async flush (): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    // a write already under way goes first; if it fails, its records are pending again and go in this one
    while (this.flushing != null) await this.flushing.catch(() => {})
    if (this.pending.size === 0) return
    const writing = this.writing = this.pending
    this.pending = new Map()
    const batch = this.store.batch()
    for (const [k, value] of writing) {
      if (value == null) batch.delete(new Key(k))
      else batch.put(new Key(k), value)
    }
    this.flushing = (async () => { await batch.commit() })()
    try {
      await this.flushing
    } catch (err) {
      // what was written since stays newer than what failed
      for (const [k, value] of writing) if (!this.pending.has(k)) this.pending.set(k, value)
      this.arm()
      throw err
    } finally {
      this.flushing = undefined
      this.writing = new Map()
    }
  }

  /** stops the timer after writing what is pending; the store itself stays open */
  async close (): Promise<void> {
    await this.flush()
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private remember (k: string, value: Uint8Array): void {
    this.records.delete(k)
    this.records.set(k, value)
    if (this.records.size <= this.maxRecords) return
    for (const old of this.records.keys()) {
      if (this.records.size <= this.maxRecords) break
      if (this.unwritten(old) == null) this.records.delete(old)
    }
  }

  /** a record not yet in the store: pending, or in the batch being written */
  private unwritten (k: string): { value: Uint8Array | undefined } | undefined {
    if (this.pending.has(k)) return { value: this.pending.get(k) }
    if (this.writing.has(k)) return { value: this.writing.get(k) }
    return undefined
  }

  private async schedule (): Promise<void> {
    if (this.pending.size >= this.maxPending) {
      await this.flush()
      return
    }
    this.arm()
  }

  private arm (): void {
    if (this.timer != null) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.flush().catch(err => { this.init.onError?.(err as Error) })
    }, this.flushMs)
    this.timer.unref()
  }
}
