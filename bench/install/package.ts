/**
 * The package the install benchmark installs: --mib files of 1 MiB of
 * seeded pseudo-random bytes, chunked into a chunk store, and an unsigned
 * release index per version (the Installer takes the indexes it is given as
 * verified). Each later version rewrites 1% of the files, other ones each time.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { pseudoRandomBytes } from '../../src/util/pseudo-random.js'
import { CHANGED, FILES, MiB, PKG, VERSIONS } from './options.js'
import type { ChunkStore } from '../../src/content/chunk-store.js'
import type { IndexFile, ReleaseIndex } from '../../src/release/release-index.js'

function relPath (i: number): string {
  return `lib/d${i % 10}/part-${String(i).padStart(4, '0')}.bin`
}

function seed (file: number, version: number): number {
  return (version * 1_000_003 + file * 7919 + 1) >>> 0
}

/** the files version v (0, 1, 2) rewrites: 1% of them, spread out, other ones each version */
function changedBy (v: number): number[] {
  if (v === 0) return []
  const step = FILES / CHANGED
  return Array.from({ length: CHANGED }, (_, j) => Math.floor(j * step + (v - 1) * step / 2) % FILES)
}

async function indexFile (store: ChunkStore, file: string, rel: string): Promise<IndexFile> {
  const c = await store.chunkFile(file)
  return { path: rel, mode: 0o644, size: c.size, sha256: c.sha256, chunks: c.chunks.map(x => ({ cid: x.cid.toString(), size: x.size })) }
}

function releaseIndex (version: string, files: IndexFile[]): ReleaseIndex {
  return {
    format: 'umesh-release/1',
    package: PKG,
    version,
    scheme: 'semver',
    channel: 'stable',
    changelog: '',
    created: new Date().toISOString(),
    totalSize: files.reduce((n, f) => n + f.size, 0),
    files,
    requires: [],
    conflicts: [],
    requiredStep: false,
    critical: false
  }
}

/** writes 1.0.0's tree to srcDir (kept for the baselines) and each version's rewritten files beside it, under tmp; chunks all into the store */
export async function buildPackage (store: ChunkStore, srcDir: string, tmp: string): Promise<Map<string, ReleaseIndex>> {
  const indexes = new Map<string, ReleaseIndex>()
  let files: IndexFile[] = []
  for (let i = 0; i < FILES; i++) {
    const file = join(srcDir, relPath(i))
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, pseudoRandomBytes(MiB, seed(i, 0)))
    files.push(await indexFile(store, file, relPath(i)))
  }
  indexes.set(VERSIONS[0], releaseIndex(VERSIONS[0], files))
  for (let v = 1; v < VERSIONS.length; v++) {
    files = [...files]
    for (const i of changedBy(v)) {
      const file = join(tmp, `changes-${VERSIONS[v]}`, relPath(i))
      mkdirSync(dirname(file), { recursive: true })
      writeFileSync(file, pseudoRandomBytes(MiB, seed(i, v)))
      files[i] = await indexFile(store, file, relPath(i))
    }
    indexes.set(VERSIONS[v], releaseIndex(VERSIONS[v], files))
    rmSync(join(tmp, `changes-${VERSIONS[v]}`), { recursive: true, force: true })
  }
  return indexes
}
