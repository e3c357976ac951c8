/**
 * The one switch point of an install: `current`, a relative symlink to
 * `versions/<version>`. It is replaced by creating the new link under a
 * temporary name and renaming it over `current`; rename() is atomic, so at
 * every instant `current` is the old link or the new one, never missing.
 * A crash can leave the temporary link (`.current-<pid>-<rand>`) behind;
 * cleanSwitchLeftovers removes it.
 */
import { randomBytes } from 'node:crypto'
import { lstatSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { UmeshError } from '../errors.js'
import { fsyncDir } from '../util/fs.js'
import { checkVersionName, versionDir, VERSIONS_DIR, versionsDir } from './stage.js'

export const CURRENT_LINK = 'current'
const TEMP_PREFIX = '.current-'

export class SwitchError extends UmeshError {
  override readonly name = 'SwitchError'
}

export function switchCurrent (installRoot: string, version: string): void {
  const target = versionDir(installRoot, version)
  if (lstatSync(target, { throwIfNoEntry: false })?.isDirectory() !== true) {
    throw new SwitchError(`cannot switch ${join(installRoot, CURRENT_LINK)} to ${version}: ${target} is not a folder; stage the version first`)
  }
  const link = join(installRoot, CURRENT_LINK)
  const existing = lstatSync(link, { throwIfNoEntry: false })
  if (existing != null && !existing.isSymbolicLink()) {
    throw new SwitchError(`${link} is not a symbolic link (it is a ${existing.isDirectory() ? 'folder' : 'file'}); the install engine owns this name: move it aside and install again`)
  }
  const tmp = join(installRoot, `${TEMP_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`)
  symlinkSync(`${VERSIONS_DIR}/${version}`, tmp)
  try {
    renameSync(tmp, link)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
  fsyncDir(installRoot)
}

/** the version `current` points to, or null when there is no `current` */
export function readCurrent (installRoot: string): string | null {
  const link = join(installRoot, CURRENT_LINK)
  let target: string
  try {
    target = readlinkSync(link)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return null
    if (code === 'EINVAL') throw new SwitchError(`${link} is not a symbolic link; the install engine owns this name: move it aside, then install or roll back again`)
    throw err
  }
  const resolved = resolve(installRoot, target)
  const version = basename(resolved)
  if (dirname(resolved) !== versionsDir(installRoot)) {
    throw new SwitchError(`${link} points to ${target}, outside ${versionsDir(installRoot)}; something other than umesh changed it: remove it and run \`umesh update status\``)
  }
  try {
    checkVersionName(version)
  } catch (err) {
    throw new SwitchError(`${link} points to ${target}, which is not a version folder (${(err as Error).message}); remove it and run \`umesh update status\``)
  }
  return version
}

/** removes temporary links a crash left between creating and renaming them; returns how many */
export function cleanSwitchLeftovers (installRoot: string): number {
  let names: string[]
  try {
    names = readdirSync(installRoot)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw err
  }
  let removed = 0
  for (const name of names) {
    if (!name.startsWith(TEMP_PREFIX)) continue
    const path = join(installRoot, name)
    if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() === true) {
      unlinkSync(path)
      removed++
    }
  }
  return removed
}
