/**
 * File trees for the install benchmark's baselines: a plain copy (no links,
 * no reflinks) and the list of files under a folder.
 */
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { fsyncDir } from '../../src/util/fs.js'

function writeAll (fd: number, bytes: Uint8Array): void {
  let off = 0
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
}

/** copies a tree file by file with read + write (never a link, a reflink or copy_file_range); fsync per file when asked */
export function copyPlain (from: string, to: string, fsync: boolean): void {
  const dirs: string[] = []
  const walk = (src: string, dst: string): void => {
    mkdirSync(dst, { recursive: true })
    dirs.push(dst)
    for (const name of readdirSync(src).sort()) {
      const s = join(src, name)
      const d = join(dst, name)
      const st = lstatSync(s)
      if (st.isDirectory()) walk(s, d)
      else {
        const bytes = readFileSync(s)
        const fd = openSync(d, 'wx', st.mode & 0o7777)
        try {
          writeAll(fd, bytes)
          if (fsync) fsyncSync(fd)
        } finally {
          closeSync(fd)
        }
      }
    }
  }
  walk(from, to)
  if (fsync) for (const d of dirs.reverse()) fsyncDir(d)
}

export function listFiles (dir: string, rel = ''): string[] {
  const found: string[] = []
  for (const name of readdirSync(rel === '' ? dir : join(dir, rel)).sort()) {
    const r = rel === '' ? name : `${rel}/${name}`
    if (lstatSync(join(dir, r)).isDirectory()) found.push(...listFiles(dir, r))
    else found.push(r)
  }
  return found
}
