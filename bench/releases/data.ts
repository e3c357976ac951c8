/**
 * The bytes the release benchmark publishes: the same every run, so a
 * figure from one run compares with the next.
 */
import { createReadStream } from 'node:fs'
import { createCipheriv, createHash } from 'node:crypto'
import { MiB } from './options.js'

/** seeded pseudo-random bytes: the AES-256-CTR keystream under a key derived from the seed */
export function seeded (bytes: number, seed: string): Buffer {
  return createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16)).update(Buffer.alloc(bytes))
}

export async function sha256File (file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
