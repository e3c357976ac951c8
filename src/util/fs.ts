/**
 * File writes that never leave a half-written file behind: write a temporary
 * file beside the target, fsync it, rename it over the target, fsync the
 * directory. A crash leaves the old file or the new one, whole.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { dirname, basename, join } from 'node:path'

export function fsyncDir (dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

export function writeFileAtomic (path: string, data: string | Uint8Array, mode = 0o644, durable = true): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  const fd = openSync(tmp, 'w', mode)
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
    if (durable) fsyncSync(fd)
  } catch (err) {
    closeSync(fd)
    rmSync(tmp, { force: true })
    throw err
  }
  closeSync(fd)
  renameSync(tmp, path)
  if (durable) fsyncDir(dirname(path))
}
