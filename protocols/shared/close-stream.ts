/**
 * Closing the writing end of a stream. libp2p's `stream.close()` waits for
 * its write queue to empty and, if the stream closes meanwhile, rejects with
 * the close *event* rather than an Error: callers that print or rethrow it
 * showed "[object Event]". Here every rejection becomes an Error that says
 * what happened.
 */
import type { AbortOptions, Stream } from '@libp2p/interface'

/** closes the writing end; any failure is an Error naming `what` */
export async function closeStream (stream: Stream, what: string, options: AbortOptions = {}): Promise<void> {
  try {
    await stream.close(options)
  } catch (err) {
    if (err instanceof Error) throw err
    const type = typeof (err as Event)?.type === 'string' ? ` (${(err as Event).type})` : ''
    throw new Error(`the stream of ${what} closed before its last bytes were sent${type}`)
  }
}

/**
 * For a client that already holds the whole answer: closes the writing end,
 * and if that fails aborts the stream instead. The answer stands either way.
 */
export async function finishStream (stream: Stream, what: string, options: AbortOptions = {}): Promise<void> {
  try {
    await closeStream(stream, what, options)
  } catch (err) {
    stream.abort(err as Error)
  }
}
