/**
 * A release as the swarm test knows it: published with `umesh release add`
 * and read back from its signed index, then looked for in a node's chunk
 * store: each chunk checked against its CID, every file rebuilt byte for
 * byte, and the time from the first chunk landing to the release being held.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { base32upper } from 'multiformats/bases/base32'
import { CID } from 'multiformats/cid'
import { parseReleaseIndex } from '../../src/release/index.js'
import { Repository, targetFilePath } from '../../src/trust/repository.js'
import { runCli } from './cli.js'
import { cleanEnv } from './netns-node.js'
import type { ReleaseIndex } from '../../src/release/index.js'
import type { NsNode } from './netns-node.js'

/** a published release, as the test knows it */
export interface Release {
  pkg: string
  version: string
  targetPath: string
  index: ReleaseIndex
  /** distinct chunks, in order */
  pieces: Array<{ cid: CID, size: number }>
  /** bytes of the distinct chunks: one copy */
  bytes: number
  maxChunk: number
  /** what was published, file by file */
  sources: Map<string, Buffer>
}

/** writes the files under `workDir`, adds the release to the repository, reads back its signed index */
export async function publishRelease (repoDir: string, workDir: string, pkg: string, version: string, files: Record<string, Buffer>): Promise<Release> {
  const src = join(workDir, `src-${pkg}-${version}`)
  const sources = new Map<string, Buffer>()
  for (const [path, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(src, path)), { recursive: true })
    writeFileSync(join(src, path), bytes)
    sources.set(path, bytes)
  }
  const added = await runCli(['release', 'add', src, '--repo', repoDir, '--package', pkg, '--version', version, '--json'], { timeoutMs: 60_000, env: cleanEnv() })
  assert.equal(added.code, 0, added.stderr)
  const targetPath = (JSON.parse(added.stdout) as { target: string }).target
  const repo = Repository.open(repoDir)
  const hash = repo.targets()[targetPath].hashes.sha256
  const index = parseReleaseIndex(readFileSync(join(repo.targetsDir, targetFilePath(targetPath, hash))))
  const seen = new Set<string>()
  const pieces: Release['pieces'] = []
  for (const f of index.files) {
    for (const c of f.chunks) {
      if (seen.has(c.cid)) continue
      seen.add(c.cid)
      pieces.push({ cid: CID.parse(c.cid), size: c.size })
    }
  }
  return { pkg, version, targetPath, index, pieces, bytes: pieces.reduce((a, p) => a + p.size, 0), maxChunk: Math.max(...pieces.map(p => p.size)), sources }
}

export function chunkPath (chunksDir: string, cid: CID): string {
  const name = base32upper.encoder.encode(cid.multihash.bytes)
  return join(chunksDir, name.slice(-2), `${name}.data`)
}

/** the release's chunks in a chunk store, each read and checked against its CID */
export function verifiedChunks (chunksDir: string, release: Release): { count: number, bytes: number, bad: string[] } {
  let count = 0
  let bytes = 0
  const bad: string[] = []
  for (const { cid, size } of release.pieces) {
    const file = chunkPath(chunksDir, cid)
    if (!existsSync(file)) continue
    const data = readFileSync(file)
    const digest = createHash('sha256').update(data).digest()
    if (data.byteLength !== size || Buffer.compare(digest, cid.multihash.digest) !== 0) {
      bad.push(cid.toString())
      continue
    }
    count++
    bytes += size
  }
  return { count, bytes, bad }
}

/** bytes of the release's chunks in a store, by size only (cheap enough to poll) */
export function bytesOnDisk (chunksDir: string, release: Release): number {
  let bytes = 0
  for (const { cid } of release.pieces) {
    try {
      bytes += statSync(chunkPath(chunksDir, cid)).size
    } catch {}
  }
  return bytes
}

/** every file of the release rebuilt from a node's chunk store, byte for byte what was published */
export function assertHoldsContent (node: NsNode, release: Release): void {
  for (const file of release.index.files) {
    const bytes = Buffer.concat(file.chunks.map(c => {
      const path = chunkPath(node.chunksDir, CID.parse(c.cid))
      assert.ok(existsSync(path), `${node.name} lacks chunk ${c.cid} of ${file.path} in ${release.pkg} ${release.version}`)
      return readFileSync(path)
    }))
    const source = release.sources.get(file.path)
    assert.ok(source != null, `the test did not publish ${file.path}`)
    assert.equal(bytes.byteLength, file.size, `${node.name}: ${file.path} rebuilt to ${bytes.byteLength} bytes, the index says ${file.size}`)
    assert.equal(createHash('sha256').update(bytes).digest('hex'), file.sha256, `${node.name}: ${file.path} does not hash to the index's sha256`)
    assert.ok(Buffer.compare(bytes, source) === 0, `${node.name}: ${file.path} differs from what was published`)
  }
}

/**
 * Polls a fetching node's chunk store and held.json every 50 ms: when the
 * first chunk of the release landed beyond the `baseline` bytes already on
 * disk (and the bytes on disk then), and when the release was held in full.
 */
export async function timeFetch (node: NsNode, release: Release, timeoutMs: number, baseline = 0): Promise<{ firstAt: number, firstBytes: number, heldAt: number }> {
  const deadline = Date.now() + timeoutMs
  let firstAt = 0
  let firstBytes = 0
  while (Date.now() < deadline) {
    const now = Date.now()
    if (firstAt === 0) {
      const bytes = bytesOnDisk(node.chunksDir, release)
      if (bytes > baseline) {
        firstAt = now
        firstBytes = bytes
      }
    }
    if (node.held().includes(release.targetPath)) {
      if (firstAt === 0) throw new Error(`${node.name} held ${release.targetPath} before a chunk of it was seen on disk`)
      return { firstAt, firstBytes, heldAt: now }
    }
    if (node.proc?.running() !== true) throw new Error(`${node.name} exited while fetching:\n${node.tail()}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new Error(`${node.name} did not hold ${release.targetPath} within ${timeoutMs} ms:\n${node.tail()}`)
}
