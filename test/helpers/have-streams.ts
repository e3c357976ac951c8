/**
 * The have protocol's wire, for tests that play a peer byte by byte: raw
 * messages of any shape, their framing, a session's listener, and the checks
 * every fault must pass (a HaveProtocolError and a cut stream, never a hang).
 */
import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { chunkCid } from '../../src/content/index.js'
import { Bitfield } from '../../protocols/shared/index.js'
import { HaveMessage, haveProtocol } from '../../protocols/have/index.js'
import type { HaveHello, HaveSession } from '../../protocols/have/index.js'
import type { Connection, Stream } from '@libp2p/interface'

export const NETWORK = 'test'
export const PROTOCOL = haveProtocol(NETWORK)
export const PEER = peerIdFromString('12D3KooWECDtH8SELx8Ztv9sSnjarqgNvdkRaAZR8kSc58FwqWZu')
export const connection = { remotePeer: PEER } as unknown as Connection
export const RELEASE = chunkCid(new TextEncoder().encode('release index')).bytes
export const OTHER_RELEASE = chunkCid(new TextEncoder().encode('another release')).bytes

export function bitfield (count: number, pieces: number[] = []): Uint8Array {
  const b = new Bitfield(count)
  for (const i of pieces) b.set(i)
  return b.bytes
}

export function hello (count: number, pieces: number[] = [], release: Uint8Array = RELEASE): HaveHello {
  return { release, count, bitfield: bitfield(count, pieces) }
}

/** any fields, of any size: what a peer may put on the wire */
export interface RawMessage { release?: Uint8Array, count?: number, bitfield?: Uint8Array, added?: number[], unknown?: boolean }

export function encode (message: RawMessage): Uint8Array {
  return HaveMessage.encode({ added: [], unknown: false, ...message } as unknown as HaveMessage)
}

export function varint (n: number): Uint8Array {
  const bytes: number[] = []
  for (; n >= 0x80; n = Math.floor(n / 0x80)) bytes.push((n & 0x7f) | 0x80)
  bytes.push(n)
  return Uint8Array.from(bytes)
}

/** a message with its length prefix, as on the wire */
export function framed (message: RawMessage): Uint8Array {
  const body = encode(message)
  return Uint8Array.from([...varint(body.length), ...body])
}

/** `p`, or a failure once `ms` have passed: a broken session must fail the test, not hang it */
export async function within<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`timed out waiting for ${what}`)) }, ms) })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

export async function waitFor (what: string, condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

/**
 * AbortSignal.timeout does not hold the event loop open; a test waiting only
 * on one would end as unfinished. This interval does, from `before` to `after`.
 */
export function keepEventLoopAlive (): void {
  let keepAlive: NodeJS.Timeout | undefined
  before(() => { keepAlive = setInterval(() => {}, 1000) })
  after(() => { clearInterval(keepAlive) })
}

/** what one side of a session heard */
export interface Heard {
  session: HaveSession
  added: number[][]
  /** how the session ended; fails when it has not ended within `ms` */
  closed: (ms?: number) => Promise<Error | undefined>
  isClosed: () => boolean
}

export function listen (session: HaveSession): Heard {
  const added: number[][] = []
  let done = false
  const closed = new Promise<Error | undefined>(resolve => {
    session.events = {
      onAdded: (pieces) => { added.push([...pieces]) },
      onClose: (err) => { done = true; resolve(err) }
    }
  })
  session.start()
  return { session, added, closed: async (ms = 3000) => await within(closed, ms, 'the session to close'), isClosed: () => done }
}

export function isProtocolError (pattern: RegExp): (err: any) => boolean {
  return (err: any) => {
    assert.equal(err?.name, 'HaveProtocolError', `expected HaveProtocolError, got ${String(err?.name)}: ${String(err?.message)}`)
    assert.match(err.message, pattern)
    return true
  }
}

/** resolves with what `p` rejected with; fails when it resolves */
export async function rejection (p: Promise<unknown>): Promise<any> {
  return await p.then(value => assert.fail(`expected a rejection, got ${String(value)}`), (err: unknown) => err)
}

/** reading on `stream` fails (the other side cut it) rather than waiting */
export async function assertCut (stream: Stream, ms = 3000): Promise<void> {
  const err = await rejection(lpStream(stream).read({ signal: AbortSignal.timeout(ms) }))
  assert.notEqual(err.name, 'TimeoutError', 'the stream was left open')
  assert.notEqual(err.name, 'AbortError', 'the stream was left open')
}
