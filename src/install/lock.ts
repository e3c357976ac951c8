/**
 * The install lock of one package (`<installRoot>/install.lock`): only one
 * install, rollback or recovery of a package runs at a time, across every
 * process on the machine (the daemon, a CLI run beside it).
 *
 * The lock file is written whole to a unique temporary name and then
 * hard-linked to `install.lock`: link() fails when the name exists, like
 * O_EXCL, and a reader never sees a half-written lock. It holds the owner's
 * pid and, on Linux, the process's start time, so a pid reused after a
 * reboot is not mistaken for the owner. A lock whose owner is gone is stale
 * and is taken over; the takeover itself runs under a second exclusive file
 * (`install.lock.takeover`), so two processes finding the same stale lock
 * cannot both remove it and both win.
 */
import { randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { UmeshError } from '../errors.js'

export const LOCK_FILE = 'install.lock'
const TAKEOVER_SUFFIX = '.takeover'
/** tries before giving up when other processes keep racing for a stale lock */
const MAX_TRIES = 100
const RETRY_PAUSE_MS = 10

export class InstallInProgressError extends UmeshError {
  override readonly name = 'InstallInProgressError'
  constructor (readonly pkg: string, readonly pid: number | null, message?: string) {
    super(message ?? `an install of ${pkg} is already in progress (pid ${String(pid)}); wait for it or check \`umesh update status\``)
  }
}

export interface InstallLock {
  /** removes the lock if it is still this one; safe to call twice */
  release: () => void
}

interface Owner { pid: number, start: string | null }

/** the process's start time in clock ticks since boot (Linux), to tell a live owner from a reused pid */
function startTime (pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the command name (field 2) is in parentheses and may hold spaces; start time is field 22
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return fields[19] ?? null
  } catch {
    return null
  }
}

function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function parseOwner (text: string): Owner | null {
  const [pidLine, startLine] = text.split('\n')
  const pid = Number(pidLine)
  if (!Number.isSafeInteger(pid) || pid <= 0) return null
  const start = startLine?.startsWith('start ') === true ? startLine.slice(6) : null
  return { pid, start: start === '' ? null : start }
}

function isAlive (owner: Owner | null): boolean {
  if (owner == null || !pidAlive(owner.pid)) return false
  if (owner.start == null) return true
  const now = startTime(owner.pid)
  return now == null || now === owner.start
}

function readRaw (path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    return '' // unreadable: treated as stale
  }
}

/** creates `path` holding our pid, or returns false if it exists; never exposes a partial file */
function createExclusive (path: string, content: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const fd = openSync(tmp, 'wx', 0o644)
  try {
    writeSync(fd, content)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(tmp, path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  } finally {
    rmSync(tmp, { force: true })
  }
}

function pause (ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * Removes the lock if it still holds `judged` (the content found stale), under
 * the takeover file so only one process does it. Returns false when another
 * process is taking over at this moment.
 */
function removeStale (lock: string, judged: string, content: string): boolean {
  const takeover = lock + TAKEOVER_SUFFIX
  if (!createExclusive(takeover, content)) {
    const raw = readRaw(takeover)
    // a takeover lasts microseconds: one whose owner is gone died in it
    if (raw != null && !isAlive(parseOwner(raw))) rmSync(takeover, { force: true })
    return false
  }
  try {
    if (readRaw(lock) === judged) unlinkSync(lock)
  } finally {
    rmSync(takeover, { force: true })
  }
  return true
}

export function acquireInstallLock (installRoot: string, pkg: string): InstallLock {
  mkdirSync(installRoot, { recursive: true })
  const lock = join(installRoot, LOCK_FILE)
  const start = startTime(process.pid)
  const content = `${process.pid}\n${start != null ? `start ${start}\n` : ''}`
  for (let i = 0; i < MAX_TRIES; i++) {
    if (createExclusive(lock, content)) {
      let held = true
      return {
        release: () => {
          if (!held) return
          held = false
          if (readRaw(lock) === content) rmSync(lock, { force: true })
        }
      }
    }
    const raw = readRaw(lock)
    if (raw == null) continue // released in between: try again
    const owner = parseOwner(raw)
    if (isAlive(owner)) throw new InstallInProgressError(pkg, owner?.pid ?? null)
    if (!removeStale(lock, raw, content)) pause(RETRY_PAUSE_MS)
  }
  throw new InstallInProgressError(pkg, null, `could not take the install lock ${lock} of ${pkg}: other processes kept taking it over; wait for them or check \`umesh update status\``)
}

/** the pid of the live process holding the install lock, or null (no lock, or a stale one) */
export function installLockOwner (installRoot: string): number | null {
  const raw = readRaw(join(installRoot, LOCK_FILE))
  if (raw == null) return null
  const owner = parseOwner(raw)
  return owner != null && isAlive(owner) ? owner.pid : null
}
