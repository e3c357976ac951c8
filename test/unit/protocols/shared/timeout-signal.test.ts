/**
 * Timeouts that survive garbage collection: on Node 20 a bare
 * AbortSignal.timeout() inside AbortSignal.any() is lost at a gc and never
 * fires. These abort on time with a gc forced in between.
 */
import assert from 'node:assert/strict'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, it } from 'node:test'
import { timeoutSignal, withTimeout } from '../../../../protocols/shared/index.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** resolves true if `signal` aborts within `ms`, with a full gc right after it is made */
async function abortsWithin (make: () => AbortSignal, ms: number): Promise<boolean> {
  const signal = make()
  const aborted = new Promise<boolean>(resolve => { signal.addEventListener('abort', () => { resolve(true) }, { once: true }) })
  await new Promise(resolve => setTimeout(resolve, 10))
  gc()
  const timer = new Promise<boolean>(resolve => setTimeout(() => { resolve(false) }, ms))
  return await Promise.race([aborted, timer])
}

describe('timeout signals', () => {
  it('withTimeout aborts after its time though a gc ran, and says it was a timeout', async () => {
    let signal: AbortSignal | undefined
    assert.equal(await abortsWithin(() => (signal = withTimeout(100, new AbortController().signal)), 2_000), true)
    assert.equal(signal?.reason?.name, 'TimeoutError')
  })

  it('a timeoutSignal inside AbortSignal.any aborts after its time though a gc ran', async () => {
    assert.equal(await abortsWithin(() => AbortSignal.any([new AbortController().signal, timeoutSignal(100)]), 2_000), true)
  })

  it('withTimeout aborts with the first of its signals, and stands alone without any', async () => {
    const caller = new AbortController()
    const signal = withTimeout(60_000, caller.signal, undefined)
    caller.abort(new Error('stopped'))
    assert.equal(signal.aborted, true)
    assert.equal(signal.reason.message, 'stopped')
    assert.equal(await abortsWithin(() => withTimeout(100), 2_000), true)
  })
})
