/**
 * One daemon per data dir: an exclusive lock file holding the owner's pid.
 * A lock whose process is gone is taken over; a live one is refused.
 */
import { openSync, writeSync, closeSync, readFileSync, rmSync, fsyncSync } from 'node:fs'
import { DataDirLockedError } from '../errors.js'
import { DATA_FILES, dataPaths } from '../data-dir/index.js'

export const LOCK_FILE = DATA_FILES.lock

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err.code === 'EPERM'
  }
}

/** The pid holding the data dir's lock, or null when none is alive. */
export function lockOwner (dataDir: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(dataPaths(dataDir).lock, 'utf8'), 10)
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : null
  } catch {
    return null
  }
}

export interface DataDirLock {
  release: () => void
}

export function acquireLock (dataDir: string): DataDirLock {
  const path = dataPaths(dataDir).lock
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600)
      writeSync(fd, `${process.pid}\n`)
      fsyncSync(fd)
      closeSync(fd)
      return {
        release: () => {
          if (lockOwner(dataDir) === process.pid) rmSync(path, { force: true })
        }
      }
    } catch (err: any) {
      if (err.code !== 'EEXIST') throw err
      const owner = lockOwner(dataDir)
      if (owner != null && owner !== process.pid) {
        throw new DataDirLockedError(`data dir ${dataDir} is in use by another daemon (pid ${owner}); stop it first, or give this one its own --data-dir`)
      }
      // the owner is gone: the lock is stale
      rmSync(path, { force: true })
    }
  }
  throw new DataDirLockedError(`could not take the lock ${path}; another daemon may be starting on the same data dir`)
}
