/**
 * Part 5 of the install benchmark and its tools: real bytes over unique
 * inodes of the installed versions, against full copies of the same trees
 * written without links; du as a cross-check; the type of the file system
 * they are measured on.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, lstatSync, readdirSync, rmSync, statfsSync } from 'node:fs'
import { join } from 'node:path'
import { versionDir } from '../../src/install/stage.js'
import { VERSIONS } from './options.js'
import { copyPlain } from './trees.js'
import type { ChunkStore } from '../../src/content/chunk-store.js'

export interface Usage { real: number, apparent: number, paths: number, inodes: number }

/** real bytes: st.blocks x 512 over unique inodes (files, folders, links); apparent: st.size over every path */
export function usage (dir: string): Usage {
  const seen = new Set<string>()
  const u: Usage = { real: 0, apparent: 0, paths: 0, inodes: 0 }
  const visit = (path: string): void => {
    const st = lstatSync(path, { bigint: true })
    u.paths++
    if (!st.isDirectory()) u.apparent += Number(st.size)
    const key = `${st.dev}:${st.ino}`
    if (!seen.has(key)) {
      seen.add(key)
      u.inodes++
      u.real += Number(st.blocks) * 512
    }
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name))
  }
  visit(dir)
  return u
}

function du (dir: string): number {
  try {
    return Number(execFileSync('du', ['-s', '-B1', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(/\s/)[0])
  } catch {
    return NaN
  }
}

export interface InstalledDisk { versions: Usage, du: number, copies: Usage[], backups: Usage | undefined, store: Usage }

/** versions/ with every version installed, each version's tree copied without links (one at a time, under runDir), backups/ and the chunk store */
export function installedDisk (installRoot: string, runDir: string, store: ChunkStore): InstalledDisk {
  const versions = usage(join(installRoot, 'versions'))
  const copies: Usage[] = []
  for (const v of VERSIONS) {
    const copy = join(runDir, 'full-copy')
    copyPlain(versionDir(installRoot, v), copy, false)
    copies.push(usage(copy))
    rmSync(copy, { recursive: true, force: true })
  }
  const backups = existsSync(join(installRoot, 'backups')) ? usage(join(installRoot, 'backups')) : undefined
  return { versions, du: du(join(installRoot, 'versions')), copies, backups, store: usage(store.path) }
}

const FS_TYPES: Record<number, string> = { 0xEF53: 'ext2/3/4', 0x01021994: 'tmpfs', 0x58465342: 'xfs', 0x9123683E: 'btrfs', 0x794C7630: 'overlayfs', 0x2FC12FC1: 'zfs' }

/** the file system dir is on, by name when known, else its magic number */
export function fileSystemType (dir: string): string {
  try {
    const t = Number(statfsSync(dir).type)
    return FS_TYPES[t] ?? `0x${t.toString(16)}`
  } catch {
    return 'unknown'
  }
}
