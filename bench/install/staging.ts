/**
 * Part 2 of the install benchmark, one round: stageVersion of the whole
 * package into a fresh staging folder, and of the next version beside it
 * (unchanged files hashed and hard-linked), with the baselines measured in
 * the same round over the source tree.
 */
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { linkSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { promoteStaged, stageVersion, versionDir } from '../../src/install/stage.js'
import { VERSIONS } from './options.js'
import { timed } from './timing.js'
import { copyPlain, listFiles } from './trees.js'
import type { ChunkStore } from '../../src/content/chunk-store.js'
import type { ReleaseIndex } from '../../src/release/release-index.js'

export interface StageRound { stageFull: number, stageLinked: number, linkedCounts: string, cp: number, copyFsync: number, hashRead: number, linkOnly: number }

export async function stageRound (tmp: string, store: ChunkStore, srcDir: string, indexes: Map<string, ReleaseIndex>): Promise<StageRound> {
  const scratch = join(tmp, 'scratch')
  const v1 = indexes.get(VERSIONS[0])!
  const v2 = indexes.get(VERSIONS[1])!
  const files = listFiles(srcDir)
  mkdirSync(scratch, { recursive: true })

  const cp = await timed(() => execFileSync('cp', ['-r', srcDir, join(scratch, 'cp')], { stdio: 'ignore' }))
  rmSync(join(scratch, 'cp'), { recursive: true, force: true })

  const copyFsync = await timed(() => { copyPlain(srcDir, join(scratch, 'copy'), true) })
  rmSync(join(scratch, 'copy'), { recursive: true, force: true })

  const hashRead = await timed(() => { for (const f of files) createHash('sha256').update(readFileSync(join(srcDir, f))).digest('hex') })

  const root = join(scratch, 'root')
  const stageFull = await timed(async () => { await stageVersion({ index: v1, store, installRoot: root, stagingName: '.staging-full' }) })
  promoteStaged(root, '.staging-full', VERSIONS[0])
  let linkedCounts = ''
  const stageLinked = await timed(async () => {
    const r = await stageVersion({ index: v2, store, installRoot: root, stagingName: '.staging-linked', previous: { dir: versionDir(root, VERSIONS[0]), index: v1 } })
    linkedCounts = `${r.written} written, ${r.linked} linked`
  })

  const links = join(scratch, 'links')
  const from = versionDir(root, VERSIONS[0])
  const linkOnly = await timed(() => {
    for (const f of files) {
      const target = join(links, f)
      mkdirSync(dirname(target), { recursive: true })
      linkSync(join(from, f), target)
    }
  })
  rmSync(scratch, { recursive: true, force: true })
  return { stageFull, stageLinked, linkedCounts, cp, copyFsync, hashRead, linkOnly }
}
