/**
 * Closing a stream: libp2p rejects `close()` with the close event when the
 * stream closes while unsent bytes wait; the protocols must turn that into
 * an Error that says what happened (a status answer once printed as
 * "[object Event]"), and a client holding its whole answer must keep it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { closeStream, finishStream } from '../../../../protocols/shared/index.js'
import type { Stream } from '@libp2p/interface'

function stubStream (rejection: unknown): { stream: Stream, aborted: unknown[] } {
  const aborted: unknown[] = []
  const stream = {
    close: async () => { if (rejection !== undefined) throw rejection },
    abort: (err: unknown) => { aborted.push(err) }
  } as unknown as Stream
  return { stream, aborted }
}

describe('closing a stream', () => {
  it('turns a close event into an Error naming the exchange and the event', async () => {
    const { stream } = stubStream(new Event('close'))
    await assert.rejects(closeStream(stream, 'a status answer'), (err: unknown) => {
      assert.ok(err instanceof Error)
      assert.equal(err.message, 'the stream of a status answer closed before its last bytes were sent (close)')
      return true
    })
  })

  it('passes an Error through unchanged', async () => {
    const cause = new Error('aborted by signal')
    const { stream } = stubStream(cause)
    await assert.rejects(closeStream(stream, 'x'), (err) => err === cause)
  })

  it('finishStream keeps the answer: a failed close aborts the stream with an Error and resolves', async () => {
    const { stream, aborted } = stubStream(new Event('close'))
    await finishStream(stream, 'a sync request')
    assert.equal(aborted.length, 1)
    assert.ok(aborted[0] instanceof Error)
    assert.match((aborted[0] as Error).message, /a sync request closed before/)
  })

  it('finishStream on a clean close aborts nothing', async () => {
    const { stream, aborted } = stubStream(undefined)
    await finishStream(stream, 'a sync request')
    assert.deepEqual(aborted, [])
  })
})
