/**
 * Upload slots shared fairly among the peers that ask for chunks, with rare
 * pieces first. A chunk answer waits here for a slot before it is written:
 * slots go round-robin over the peers with answers waiting, so one greedy
 * peer with many requests cannot starve the others; within a peer, the
 * waiting chunk that is rarest goes first (fewest known holders, then fewest
 * times this node has sent it), so a seeder sends every piece about once
 * before it sends any piece twice. The upload token bucket is taken from
 * inside the slot, so a cap paces the slots, not the queue. A slot is given
 * back after a short while even when its write is still blocked (a peer that
 * stopped reading), so a few such peers cannot stop every upload.
 */
import type { TokenBucket } from './token-bucket.js'

export const DEFAULT_MAX_TRACKED = 16384

export interface UploadSchedulerInit {
  /** chunk answers being written at once (default 4) */
  slots?: number
  /** the node's upload cap, if any */
  bucket?: TokenBucket
  /** how many known peers hold this chunk (from the have exchange); unknown is 0 */
  holders?: (key: string) => number
  /** chunks whose send counts are remembered (default 16384: the pieces of a 4 GiB release; about 2 MB of CID strings) */
  maxTracked?: number
  /**
   * a slot is given back after this long even if its write has not finished
   * (default 2 s), so peers that stop reading cannot hold the slots
   */
  slotMs?: number
}

interface Waiter {
  key: string
  bytes: number
  grant: () => void
  seq: number
}

export class UploadScheduler {
  private readonly slots: number
  private readonly waiting = new Map<string, Waiter[]>()
  /** peers in the order they get their turn */
  private order: string[] = []
  private active = 0
  private seq = 0
  private readonly sent = new Map<string, number>()

  constructor (private readonly init: UploadSchedulerInit = {}) {
    this.slots = init.slots ?? 4
  }

  /** answers waiting for a slot */
  get queued (): number {
    let n = 0
    for (const w of this.waiting.values()) n += w.length
    return n
  }

  /** times this node sent the chunk `key` (as far as it remembers) */
  sentCount (key: string): number {
    return this.sent.get(key) ?? 0
  }

  /**
   * Waits for a slot (and the upload cap) to send `bytes` of chunk `key` to
   * `peer`; returns the function that frees the slot, to call once written.
   */
  async acquire (peer: string, key: string, bytes: number, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const list = this.waiting.get(peer) ?? []
      const onAbort = (): void => {
        const at = list.indexOf(waiter)
        if (at === -1) return
        list.splice(at, 1)
        if (list.length === 0) this.forget(peer)
        reject(signal!.reason)
      }
      // the listener goes with the grant: the signal (a request's, alive for its whole timeout) must not keep it and this waiter
      const waiter: Waiter = { key, bytes, grant: () => { signal?.removeEventListener('abort', onAbort); resolve() }, seq: this.seq++ }
      if (list.length === 0) this.order.push(peer)
      list.push(waiter)
      this.waiting.set(peer, list)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.dispatch()
    })
    let freed = false
    let timer: NodeJS.Timeout | undefined
    const free = (): void => {
      if (freed) return
      freed = true
      clearTimeout(timer)
      this.active--
      this.dispatch()
    }
    try {
      await this.init.bucket?.take(bytes, signal)
    } catch (err) {
      free()
      throw err
    }
    // the write's time starts once the cap let it through: waiting for tokens keeps the slot
    timer = setTimeout(free, this.init.slotMs ?? 2_000)
    this.count(key)
    return free
  }

  private dispatch (): void {
    while (this.active < this.slots && this.order.length > 0) {
      const peer = this.order.shift()!
      const list = this.waiting.get(peer)!
      let at = 0
      for (let i = 1; i < list.length; i++) if (this.before(list[i], list[at])) at = i
      const [waiter] = list.splice(at, 1)
      // the peer goes to the back of the line if it still waits for more
      if (list.length > 0) this.order.push(peer)
      else this.waiting.delete(peer)
      this.active++
      waiter.grant()
    }
  }

  /** a is sent before b: fewer holders, then fewer sends, then first come */
  private before (a: Waiter, b: Waiter): boolean {
    const ha = this.init.holders?.(a.key) ?? 0
    const hb = this.init.holders?.(b.key) ?? 0
    if (ha !== hb) return ha < hb
    const sa = this.sentCount(a.key)
    const sb = this.sentCount(b.key)
    if (sa !== sb) return sa < sb
    return a.seq < b.seq
  }

  private forget (peer: string): void {
    this.waiting.delete(peer)
    this.order = this.order.filter(p => p !== peer)
  }

  private count (key: string): void {
    this.sent.set(key, (this.sent.get(key) ?? 0) + 1)
    if (this.sent.size > (this.init.maxTracked ?? DEFAULT_MAX_TRACKED)) this.sent.delete(this.sent.keys().next().value!)
  }
}
