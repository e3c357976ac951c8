/**
 * The release the follow benchmark publishes: --mib MiB of seeded
 * pseudo-random bytes (the same every run) in --files files, written to a
 * source tree; and what one pass over those bytes costs on this machine,
 * measured beside the follow in the same run: sha256 of every file (page
 * cache), and a read + write + fsync copy of every file.
 */
import { createCipheriv, createHash } from 'node:crypto'
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { MiB } from './options.js'

/** seeded pseudo-random bytes: the AES-256-CTR keystream under a key derived from the seed */
function seeded (bytes: number, seed: string): Buffer {
  return createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16)).update(Buffer.alloc(bytes))
}

export interface ReleaseTree {
  dir: string
  files: string[]
  bytes: number
}

export function writeReleaseTree (dir: string, mib: number, files: number, seed: string): ReleaseTree {
  mkdirSync(dir, { recursive: true })
  const total = mib * MiB
  const names: string[] = []
  for (let i = 0; i < files; i++) {
    const size = Math.floor(total / files) + (i < total % files ? 1 : 0)
    const name = `part-${String(i).padStart(4, '0')}.bin`
    writeFileSync(join(dir, name), seeded(size, `${seed} ${i}`))
    names.push(name)
  }
  return { dir, files: names, bytes: total }
}

export interface OnePass {
  sha256Ms: number
  copyFsyncMs: number
}

/** sha256 of every file, then a read + write + fsync copy of every file into `scratch` (removed after) */
export function onePass (tree: ReleaseTree, scratch: string): OnePass {
  let t0 = performance.now()
  for (const f of tree.files) createHash('sha256').update(readFileSync(join(tree.dir, f))).digest()
  const sha256Ms = performance.now() - t0
  mkdirSync(scratch, { recursive: true })
  t0 = performance.now()
  for (const f of tree.files) {
    const bytes = readFileSync(join(tree.dir, f))
    const fd = openSync(join(scratch, f), 'w')
    try {
      let off = 0
      while (off < bytes.length) off += writeSync(fd, bytes, off)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  }
  const copyFsyncMs = performance.now() - t0
  rmSync(scratch, { recursive: true, force: true })
  return { sha256Ms, copyFsyncMs }
}
