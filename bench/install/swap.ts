/**
 * Part 1 of the install benchmark: switchCurrent between two version
 * folders, interleaved with its two parts done alone (symlink + rename, and
 * an fsync of the install root), so the figures share the machine's state.
 */
import { mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { versionDir } from '../../src/install/stage.js'
import { readCurrent, switchCurrent } from '../../src/install/switch.js'
import { fsyncDir } from '../../src/util/fs.js'
import { SWAPS, VERSIONS } from './options.js'
import { timedSync } from './timing.js'

export interface SwapResult { swap: number[], bare: number[], fsync: number[] }

export function swapBench (tmp: string): SwapResult {
  const root = join(tmp, 'swap')
  for (const v of VERSIONS.slice(0, 2)) mkdirSync(versionDir(root, v), { recursive: true })
  const result: SwapResult = { swap: [], bare: [], fsync: [] }
  const bareTmp = join(root, '.bare-tmp')
  const bareLink = join(root, 'bare')
  const once = (i: number, keep: boolean): void => {
    const v = VERSIONS[i % 2]
    const a = timedSync(() => { switchCurrent(root, v) })
    const b = timedSync(() => { symlinkSync(`versions/${v}`, bareTmp); renameSync(bareTmp, bareLink) })
    const c = timedSync(() => { fsyncDir(root) })
    if (keep) { result.swap.push(a); result.bare.push(b); result.fsync.push(c) }
  }
  for (let i = 0; i < 20; i++) once(i, false)
  for (let i = 0; i < SWAPS; i++) once(i, true)
  if (readCurrent(root) !== VERSIONS[(SWAPS - 1) % 2]) throw new Error('the swap benchmark left current pointing elsewhere than its last switch')
  rmSync(root, { recursive: true, force: true })
  return result
}
