/**
 * A lock file for writers in different processes (the CLI, a daemon's HTTP
 * API, two operators) that must not interleave: the repository's signing,
 * its rollouts, the audit log. Held for one change (milliseconds): an
 * O_EXCL create, retried every 20 ms until `timeoutMs`; a lock older than a
 * minute is taken to be left by a process that died and is removed. The
 * wait blocks the thread, as the writes it guards are synchronous.
 */
import { closeSync, openSync, rmSync, statSync } from 'node:fs'

const STALE_MS = 60_000
const RETRY_MS = 20

export interface FileLockOptions {
  /** how long to wait for another writer (default 10 s) */
  timeoutMs?: number
  /** who holds it, for the error: "another writer of this repository" */
  holder?: string
  /** the error to throw (default Error), so each caller keeps its own error class */
  error?: (message: string) => Error
}

/** runs `fn` holding the lock file `lock`, and removes it after, whatever `fn` did */
export function withFileLock<T> (lock: string, fn: () => T, options: FileLockOptions = {}): T {
  const fail = options.error ?? ((message: string) => new Error(message))
  const deadline = Date.now() + (options.timeoutMs ?? 10_000)
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600))
      break
    } catch (err: any) {
      if (err.code !== 'EEXIST') throw fail(`cannot take the lock ${lock}: ${err.message as string}`)
      try { if (Date.now() - statSync(lock).mtimeMs > STALE_MS) rmSync(lock, { force: true }) } catch {}
      if (Date.now() > deadline) throw fail(`${lock} is held by ${options.holder ?? 'another writer'}; try again, or remove it if no umesh process is running`)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, RETRY_MS)
    }
  }
  try {
    return fn()
  } finally {
    rmSync(lock, { force: true })
  }
}
