/**
 * The byte-moving protocol of the raw, noise and yamux layers, the same on
 * each so that only the layer differs: the receiver asks for a segment of
 * bytes (a 4-byte big-endian count), the sender writes that many bytes in
 * writes of a fixed size (64 KiB by default), waiting for 'drain' whenever
 * the layer says its buffer is full. The receiver keeps two segments asked
 * for, so the sender never waits for a request, and stops asking once it has
 * asked for the whole size or the time cap has passed; a run ends when every
 * byte asked for has arrived.
 */
import { createCipheriv, createHash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { MessageStream } from '@libp2p/interface'
import type { Socket } from 'node:net'
import type { Uint8ArrayList } from 'uint8arraylist'

/** the least a layer must offer to move bytes */
export interface BytePipe {
  /** false when the layer's buffer is full: wait for drain() before sending more */
  send: (data: Uint8Array) => boolean
  drain: () => Promise<void>
  onData: (fn: (data: Uint8Array | Uint8ArrayList) => void) => void
  /** the connection or stream is gone, with or without an error */
  onClose: (fn: (err?: Error) => void) => void
}

export function socketPipe (socket: Socket): BytePipe {
  return {
    send: (data) => socket.write(data),
    drain: async () => { await new Promise(resolve => socket.once('drain', resolve)) },
    onData: (fn) => { socket.on('data', fn) },
    onClose: (fn) => {
      let error: Error | undefined
      socket.on('error', (err) => { error = err })
      socket.on('close', () => { fn(error) })
    }
  }
}

/**
 * A libp2p MessageStream (Noise's secured connection, a Yamux stream). Its
 * 'drain' event, not onDrain(): in @libp2p/utils 7.4 onDrain() keeps
 * returning the promise of the first drain once it has resolved (measured
 * here: every later wait returned with the stream still full), so a writer
 * relying on it is not held back at all (test/helpers/floods.ts says the same).
 */
export function streamPipe (stream: MessageStream): BytePipe {
  return {
    send: (data) => stream.send(data),
    drain: async () => {
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => { stream.removeEventListener('close', onClose); resolve() }
        const onClose = (): void => { stream.removeEventListener('drain', onDrain); reject(new Error('the stream closed while waiting for drain')) }
        stream.addEventListener('drain', onDrain, { once: true })
        stream.addEventListener('close', onClose, { once: true })
      })
    },
    onData: (fn) => { stream.addEventListener('message', (evt) => { fn(evt.data) }) },
    onClose: (fn) => { stream.addEventListener('close', (evt) => { fn(evt.error) }) }
  }
}

/** a segment may not ask for more than this */
export const MAX_SEGMENT_BYTES = 1 << 30

/** pseudo-random bytes, the same on every run (nothing along the path can compress them) */
export function payload (bytes: number, seed = 'umesh-dataplane'): Uint8Array {
  const key = createHash('sha256').update(seed).digest()
  return new Uint8Array(createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(bytes)))
}

/** the sender's side: answers every request, in order, with that many bytes */
export function serve (pipe: BytePipe, writeBytes: number, onError: (err: Error) => void): void {
  const block = payload(writeBytes)
  const queue: number[] = []
  let pending = new Uint8Array(0)
  let busy = false
  const drainQueue = async (): Promise<void> => {
    busy = true
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      for (let left = n; left > 0; left -= writeBytes) {
        const data = left >= writeBytes ? block : block.subarray(0, left)
        if (!pipe.send(data)) await pipe.drain()
      }
    }
    busy = false
  }
  pipe.onData((data) => {
    const bytes = data instanceof Uint8Array ? data : data.subarray()
    const all = pending.byteLength === 0 ? bytes : Buffer.concat([pending, bytes])
    let at = 0
    for (; at + 4 <= all.byteLength; at += 4) {
      const n = new DataView(all.buffer, all.byteOffset + at, 4).getUint32(0)
      if (n === 0 || n > MAX_SEGMENT_BYTES) {
        onError(new Error(`a request for ${n} bytes: expected 1 to ${MAX_SEGMENT_BYTES}`))
        return
      }
      queue.push(n)
    }
    pending = all.slice(at)
    if (!busy) drainQueue().catch(onError)
  })
}

/** the receiver's side: one per connection, one run at a time */
export class Puller {
  private requested = 0
  private received = 0
  private total = 0
  private deadline = 0
  private done?: PromiseWithResolvers<number>
  private closed?: Error

  constructor (private readonly pipe: BytePipe, private readonly segmentBytes: number) {
    pipe.onData((data) => { this.onData(data.byteLength) })
    pipe.onClose((err) => {
      this.closed = new Error(`the connection closed after ${this.received} of the ${this.requested} bytes asked for${err != null ? `: ${err.message}` : ''}`)
      this.done?.reject(this.closed)
    })
  }

  /** asks for `total` bytes (fewer once `maxMs` has passed); resolves to the bytes received */
  async run (total: number, maxMs: number): Promise<number> {
    if (this.done != null) throw new Error('a run is already under way')
    if (this.closed != null) throw this.closed
    this.requested = 0
    this.received = 0
    this.total = total
    this.deadline = performance.now() + maxMs
    this.done = Promise.withResolvers<number>()
    this.askMore()
    try {
      return await this.done.promise
    } finally {
      this.done = undefined
    }
  }

  private onData (n: number): void {
    if (this.done == null) return
    this.received += n
    if (this.received > this.requested) {
      this.done.reject(new Error(`received ${this.received} bytes, more than the ${this.requested} asked for`))
      return
    }
    if (this.requested - this.received < this.segmentBytes) this.askMore()
    if (this.received === this.requested) this.done.resolve(this.received)
  }

  private askMore (): void {
    while (this.requested - this.received < 2 * this.segmentBytes && this.requested < this.total && performance.now() < this.deadline) {
      const n = Math.min(this.segmentBytes, this.total - this.requested)
      const request = new Uint8Array(4)
      new DataView(request.buffer).setUint32(0, n)
      this.pipe.send(request)
      this.requested += n
    }
  }
}
