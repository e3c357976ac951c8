/**
 * A lock file beside the audit log, so two writers (the CLI and the
 * coordinator's HTTP API, or two operators) never chain to the same entry.
 * Held for one append (milliseconds); the same technique as the
 * repository's rollouts lock: O_EXCL create, a lock older than a minute is
 * taken to be left by a process that died.
 */
import { closeSync, openSync, rmSync, statSync } from 'node:fs'
import { AuditError } from './errors.js'

const STALE_MS = 60_000

export function withFileLock<T> (lock: string, fn: () => T, timeoutMs = 5_000): T {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600))
      break
    } catch (err: any) {
      if (err.code !== 'EEXIST') throw new AuditError(`cannot take the audit lock ${lock}: ${err.message as string}`)
      try { if (Date.now() - statSync(lock).mtimeMs > STALE_MS) rmSync(lock, { force: true }) } catch {}
      if (Date.now() > deadline) throw new AuditError(`${lock} is held by another writer; try again, or remove it if no umesh process is running`)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20)
    }
  }
  try {
    return fn()
  } finally {
    rmSync(lock, { force: true })
  }
}
