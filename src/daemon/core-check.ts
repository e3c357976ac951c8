/**
 * The first phase: the runtime is one this code works on, the clock is
 * plausible (signed metadata expiry depends on it), and the data dir exists,
 * is writable, has room, and belongs to this daemon alone.
 */
import { mkdirSync, rmSync, statfsSync, writeFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CoreCheckError } from '../errors.js'
import { acquireLock } from '../identity/index.js'
import { dataPaths } from '../data-dir/index.js'
import type { DataDirLock } from '../identity/index.js'

/** no clock on a machine running this code reads earlier than this */
export const CLOCK_FLOOR = Date.UTC(2025, 0, 1)
export const MIN_FREE_BYTES = 64 * 1024 * 1024

export interface CoreCheckResult {
  lock: DataDirLock
  warnings: string[]
}

export function checkRuntime (): void {
  const major = Number(process.versions.node.split('.')[0])
  if (major < 20) {
    throw new CoreCheckError(`Node.js ${process.versions.node} is too old; update-mesh needs Node.js 20 or newer`)
  }
  if (typeof (Promise as any).withResolvers !== 'function') {
    throw new CoreCheckError('Promise.withResolvers is missing: the entry point did not load src/polyfill.js first')
  }
}

export function checkClock (dataDir: string, now = Date.now()): string[] {
  if (now < CLOCK_FLOOR) {
    throw new CoreCheckError(`the system clock reads ${new Date(now).toISOString()}, before ${new Date(CLOCK_FLOOR).toISOString()}; set the clock (NTP) before starting: signature expiry checks depend on it`)
  }
  try {
    const last = JSON.parse(readFileSync(dataPaths(dataDir).clock, 'utf8')).lastSeen
    if (typeof last === 'number' && last - now > 5 * 60_000) {
      return [`the clock reads ${Math.round((last - now) / 1000)} s earlier than when this node last ran; check NTP`]
    }
  } catch {}
  return []
}

/** records the time, so the next start can tell a clock that went backwards */
export function stampClock (dataDir: string, now = Date.now()): void {
  writeFileSync(dataPaths(dataDir).clock, JSON.stringify({ lastSeen: now }) + '\n')
}

export function checkDataDir (dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    const probe = join(dataDir, `.write-probe-${process.pid}`)
    writeFileSync(probe, 'ok')
    rmSync(probe)
  } catch (err: any) {
    throw new CoreCheckError(`data dir ${dataDir} is not writable (${err.code ?? err.message}); fix its permissions or choose another with --data-dir`)
  }
  const fs = statfsSync(dataDir)
  const free = fs.bavail * fs.bsize
  if (free < MIN_FREE_BYTES) {
    throw new CoreCheckError(`only ${Math.round(free / 1024 / 1024)} MiB free under ${dataDir}; at least ${MIN_FREE_BYTES / 1024 / 1024} MiB is needed`)
  }
}

export function coreCheck (dataDir: string): CoreCheckResult {
  checkRuntime()
  checkDataDir(dataDir)
  const warnings = checkClock(dataDir)
  const lock = acquireLock(dataDir)
  return { lock, warnings }
}
