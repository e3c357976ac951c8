/**
 * Releases in a real TUF repository for unit tests: a small source tree
 * written to disk and added with `addRelease` (chunked, indexed, signed), and
 * the signed bytes read back the way a node would see them. Every file a
 * release holds differs by package, version and path, so no two releases
 * share a chunk unless a test makes them.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { addRelease, parseReleaseIndex } from '../../src/release/index.js'
import { Repository, targetFilePath } from '../../src/trust/repository.js'
import { pseudoRandomBytes } from '../../src/util/pseudo-random.js'
import type { AddedRelease, ReleaseIndex } from '../../src/release/index.js'

/** a few files: `big.bin` (`bigBytes` pseudo-random bytes, several FastCDC chunks when large) and two small ones */
export async function addTreeRelease (repo: Repository, workDir: string, pkg: string, version: string, bigBytes = 150 * 1024): Promise<AddedRelease> {
  const src = join(workDir, `src-${pkg}-${version}`)
  const seed = [...`${pkg}@${version}`].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7)
  const files: Record<string, Uint8Array | string> = {
    'big.bin': pseudoRandomBytes(bigBytes, seed),
    'README': `${pkg} ${version}\n`,
    'bin/run': `#!/bin/sh\necho ${pkg} ${version}\n`
  }
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(src, path)), { recursive: true })
    writeFileSync(join(src, path), content)
  }
  return await addRelease(repo, src, { package: pkg, version })
}

/** the sha256 the repository signed for a target (of the targets or rollouts role) */
export function signedHash (repoDir: string, targetPath: string, role: 'targets' | 'rollouts' = 'targets'): string {
  const entry = Repository.open(repoDir).targets(role)[targetPath]
  if (entry == null) throw new Error(`${targetPath} is not signed in ${repoDir}`)
  return entry.hashes.sha256
}

/** the bytes of a signed target, as the repository stores them */
export function signedBytes (repoDir: string, targetPath: string, role: 'targets' | 'rollouts' = 'targets'): Buffer {
  return readFileSync(join(repoDir, 'targets', targetFilePath(targetPath, signedHash(repoDir, targetPath, role))))
}

export function signedIndex (repoDir: string, targetPath: string): ReleaseIndex {
  return parseReleaseIndex(signedBytes(repoDir, targetPath))
}

/** the repository's current timestamp: its version and its signed bytes */
export function repoTimestamp (repoDir: string): { version: number, bytes: Buffer, expires: string } {
  const bytes = readFileSync(join(repoDir, 'metadata', 'timestamp.json'))
  const signed = JSON.parse(bytes.toString('utf8')).signed
  return { version: signed.version, expires: signed.expires, bytes }
}
