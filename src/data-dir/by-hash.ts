/**
 * Files named by their sha256 (verified release indexes, rollout documents):
 * read back only when the bytes still hash to the name. tuf-js checked them
 * when they were downloaded; a file changed on disk since (a bad disk, a
 * hand edit, an attacker with write access to the data dir) is not that
 * release any more, so it is refused rather than used.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { UmeshError } from '../errors.js'

const SHA256_HEX = /^[0-9a-f]{64}$/

export class HashMismatchError extends UmeshError {
  override readonly name = 'HashMismatchError'
  constructor (readonly file: string, readonly expected: string) {
    super(`${file} does not match its signed hash (sha256 ${expected}); it is not used. Delete it and the node fetches it again`)
  }
}

/** the bytes of `file` when it exists and hashes to `sha256`; undefined when absent; HashMismatchError when changed */
export function readByHash (file: string, sha256: string): Uint8Array | undefined {
  if (!SHA256_HEX.test(sha256)) throw new HashMismatchError(file, sha256)
  if (!existsSync(file)) return undefined
  const bytes = readFileSync(file)
  if (createHash('sha256').update(bytes).digest('hex') !== sha256) throw new HashMismatchError(file, sha256)
  return bytes
}
