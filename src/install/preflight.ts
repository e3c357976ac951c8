/**
 * Checks made before an install touches anything: enough free disk under
 * the install root for the new tree (and its staging), enough free memory.
 * Refusing up front is better than a tree half-written when the disk fills.
 *
 * `UMESH_TEST_FREE_BYTES=<n>`, when set, replaces the measured free disk
 * bytes: the integration tests use it to simulate a small disk.
 */
import { statfsSync } from 'node:fs'
import { freemem, totalmem } from 'node:os'
import { dirname, resolve } from 'node:path'
import { UmeshError } from '../errors.js'

export class InsufficientDiskError extends UmeshError {
  override readonly name = 'InsufficientDiskError'
  constructor (readonly dir: string, readonly freeBytes: number, readonly needBytes: number) {
    super(`not enough disk space under ${dir}: ${mib(freeBytes)} free, ${mib(needBytes)} needed; free some space (remove old files, or lower keepVersions so fewer versions are kept) or move the package's installRoot to a larger disk`)
  }
}

export class InsufficientMemoryError extends UmeshError {
  override readonly name = 'InsufficientMemoryError'
  constructor (readonly freeBytes: number, readonly totalBytes: number, readonly needBytes: number) {
    super(needBytes > totalBytes
      ? `not enough memory: the install needs ${mib(needBytes)} free but this machine has ${mib(totalBytes)} in all; lower the package's minFreeMemory`
      : `not enough free memory: ${mib(freeBytes)} of ${mib(totalBytes)} free, ${mib(needBytes)} needed (the package's minFreeMemory); stop other programs or try again later`)
  }
}

export function mib (bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
}

/** free bytes for an unprivileged user on the file system holding `dir` (or its nearest existing parent) */
export function freeDiskBytes (dir: string): number {
  const override = process.env.UMESH_TEST_FREE_BYTES
  if (override != null && override !== '') {
    const n = Number(override)
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`UMESH_TEST_FREE_BYTES: expected a whole number of bytes, found ${JSON.stringify(override)}`)
    return n
  }
  let at = resolve(dir)
  for (;;) {
    try {
      const s = statfsSync(at)
      return s.bavail * s.bsize
    } catch (err) {
      const parent = dirname(at)
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === at) throw err
      at = parent
    }
  }
}

export function checkDiskSpace (dir: string, needBytes: number): void {
  const free = freeDiskBytes(dir)
  if (free < needBytes) throw new InsufficientDiskError(dir, free, needBytes)
}

export function checkMemory (minFree: number): void {
  const free = freemem()
  const total = totalmem()
  if (free < minFree) throw new InsufficientMemoryError(free, total, minFree)
}
