/**
 * Timeouts that fire. On Node 20 an `AbortSignal.timeout()` is held only
 * weakly by its own timer, and `AbortSignal.any()` holds its sources weakly
 * too: a timeout whose only holder is an `any()` is lost at the next garbage
 * collection, and the combined signal never aborts (run with --expose-gc:
 * `AbortSignal.any([new AbortController().signal, AbortSignal.timeout(300)])`
 * was still not aborted 2 s after a gc()). A wait bounded that way could
 * last for ever. A timeout with an 'abort' listener is kept until it fires,
 * so every timeout here gets one.
 */

const keep = (): void => {}

/** `AbortSignal.timeout(ms)` that no garbage collection loses before it fires */
export function timeoutSignal (ms: number): AbortSignal {
  const signal = AbortSignal.timeout(ms)
  signal.addEventListener('abort', keep, { once: true })
  return signal
}

/** aborts when any of `signals` does, or after `ms` */
export function withTimeout (ms: number, ...signals: Array<AbortSignal | undefined>): AbortSignal {
  const timeout = timeoutSignal(ms)
  const others = signals.filter((s): s is AbortSignal => s != null)
  return others.length === 0 ? timeout : AbortSignal.any([...others, timeout])
}
