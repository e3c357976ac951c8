/**
 * Resource usage for status: memory and CPU of this process, and disk used
 * by the data dir. The disk walk runs in the background at most every 30 s,
 * so a status request never waits on it. Memory is RSS and V8's view of it:
 * the heap in use and reserved, and what JS objects hold outside the heap
 * (external, of which ArrayBuffers and Buffers: chunk data lives there), so
 * an RSS that stays high after a transfer can be told apart from a leak.
 */
import { readdir, lstat } from 'node:fs/promises'
import { join } from 'node:path'

export interface ResourceUsage {
  rssBytes: bigint
  heapUsedBytes: bigint
  heapTotalBytes: bigint
  externalBytes: bigint
  arrayBuffersBytes: bigint
  cpuUserUs: bigint
  cpuSystemUs: bigint
  dataDirBytes: bigint
}

const MAX_ENTRIES = 100_000

export async function directorySize (dir: string): Promise<number> {
  let total = 0
  let seen = 0
  const stack = [dir]
  while (stack.length > 0 && seen < MAX_ENTRIES) {
    const current = stack.pop() as string
    let entries
    try {
      entries = await readdir(current, { withFileTypes: true })
    } catch {
      continue
    }
    for (const entry of entries) {
      seen++
      const path = join(current, entry.name)
      if (entry.isDirectory()) stack.push(path)
      else if (entry.isFile()) total += await lstat(path).then(s => s.size, () => 0)
    }
  }
  return total
}

export class ResourceSampler {
  private diskBytes = 0
  private diskAt = 0
  private walking = false

  constructor (private readonly dataDir: string, private readonly refreshMs = 30_000) {}

  usage (): ResourceUsage {
    if (!this.walking && Date.now() - this.diskAt > this.refreshMs) {
      this.walking = true
      directorySize(this.dataDir)
        .then(n => { this.diskBytes = n; this.diskAt = Date.now() })
        .finally(() => { this.walking = false })
    }
    const mem = process.memoryUsage()
    const cpu = process.cpuUsage()
    return {
      rssBytes: BigInt(mem.rss),
      heapUsedBytes: BigInt(mem.heapUsed),
      heapTotalBytes: BigInt(mem.heapTotal),
      externalBytes: BigInt(mem.external),
      arrayBuffersBytes: BigInt(mem.arrayBuffers),
      cpuUserUs: BigInt(cpu.user),
      cpuSystemUs: BigInt(cpu.system),
      dataDirBytes: BigInt(this.diskBytes)
    }
  }
}
