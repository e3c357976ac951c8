/**
 * A copy of the repository for a static web server (`umesh release mirror`):
 * only what nodes read, metadata/, targets/ and chunks/, never keys/,
 * repo.json or anything else of the publisher's. The repository folder itself
 * is servable as it is, but a web server pointed at it would also serve its
 * online keys (and the root keys, if they were never moved offline): serve
 * this copy, or only those three folders.
 *
 * Files are content-addressed (chunks by CID, targets by hash, metadata by
 * version) except `timestamp.json` (and the `root.json` convenience copy),
 * so a file already in the copy with the same size is kept, and each new one
 * is written beside its place and renamed in, so the web server never serves
 * half a file. The timestamp goes last: a node reading the new timestamp
 * finds every snapshot, targets file, index and chunk it names already there.
 */
import { copyFile, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises'
import { join, resolve, sep } from 'node:path'
import { TrustError } from './errors.js'

/** the folders a mirror serves, in the order they are copied */
export const MIRRORED_FOLDERS = ['chunks', 'targets', 'metadata'] as const
/** copied last, whatever is in the copy */
const MUTABLE = new Set(['metadata/timestamp.json', 'metadata/root.json'])

export interface MirrorExport {
  /** files written */
  copied: number
  copiedBytes: number
  /** files already in the copy (content-addressed, same size) */
  kept: number
}

async function * filesUnder (root: string, dir: string): AsyncIterable<string> {
  let entries
  try {
    entries = await readdir(join(root, dir), { withFileTypes: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    // dot files (the chunk store's .tmp) and anything but plain files and folders stay out
    if (e.name.startsWith('.')) continue
    const path = `${dir}/${e.name}`
    if (e.isDirectory()) yield * filesUnder(root, path)
    else if (e.isFile()) yield path
  }
}

/** copies what a mirror serves from `repoDir` to `outDir` (made when missing) */
export async function exportMirror (repoDir: string, outDir: string): Promise<MirrorExport> {
  const repo = resolve(repoDir)
  const out = resolve(outDir)
  if (out === repo || out.startsWith(repo + sep) || repo.startsWith(out + sep)) {
    throw new TrustError(`the mirror copy ${out} and the repository ${repo} may not contain each other; give a folder outside the repository`)
  }
  if ((await lstat(join(repo, 'metadata', 'timestamp.json')).catch(() => undefined))?.isFile() !== true) {
    throw new TrustError(`${join(repo, 'metadata', 'timestamp.json')} is missing: ${repo} is not a release repository (umesh repo init)`)
  }
  const result: MirrorExport = { copied: 0, copiedBytes: 0, kept: 0 }
  const last: string[] = []
  const copy = async (path: string, always: boolean): Promise<void> => {
    const from = join(repo, path)
    const to = join(out, path)
    const size = (await lstat(from)).size
    if (!always) {
      const there = await lstat(to).catch(() => undefined)
      if (there?.isFile() === true && there.size === size) {
        result.kept++
        return
      }
    }
    await mkdir(join(to, '..'), { recursive: true })
    const tmp = `${to}.${process.pid}.partial`
    try {
      await copyFile(from, tmp)
      await rename(tmp, to)
    } catch (err) {
      await rm(tmp, { force: true })
      throw err
    }
    result.copied++
    result.copiedBytes += size
  }
  for (const folder of MIRRORED_FOLDERS) {
    for await (const path of filesUnder(repo, folder)) {
      if (MUTABLE.has(path)) last.push(path)
      else await copy(path, false)
    }
  }
  // the timestamp names everything above: it goes last, and always (it changes in place)
  for (const path of last.sort((a, b) => (a.endsWith('timestamp.json') ? 1 : 0) - (b.endsWith('timestamp.json') ? 1 : 0))) await copy(path, true)
  return result
}
