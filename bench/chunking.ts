/**
 * Chunking benchmark: prints figures, asserts nothing.
 *
 *   node dist/bench/chunking.js [--size 256] [--runs 3]
 *
 * Over --size MiB of seeded pseudo-random data (AES-CTR keystream, the same
 * every run), beside a baseline measured in the same run (node:crypto sha256
 * over the same bytes, one pass):
 * 1. FastCDC alone: over the bytes in memory, and streamed from a file;
 * 2. FastCDC plus a chunk CID per chunk plus the whole-file sha256 (what
 *    `chunkStream` computes), no disk;
 * 3. chunkFile into a fresh store (fsync on, then off), and again into a store
 *    that already holds every chunk (the "new version, nothing changed" path);
 * and the chunk size distribution. Throughput is MiB/s of input, the median of
 * --runs runs for the in-memory figures. The temp folder is removed at exit.
 */
import { createCipheriv, createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { chunkBytes, chunkCid, chunkSource, openChunkStore } from '../src/content/index.js'
import { section, summarize, table } from './report.js'

const MiB = 1024 * 1024
const { values } = parseArgs({ options: { size: { type: 'string', default: '256' }, runs: { type: 'string', default: '3' } } })
const size = Number(values.size) * MiB
const runs = Math.max(1, Number(values.runs))

const dir = mkdtempSync(join(tmpdir(), 'umesh-bench-chunking-'))
const cleanup = (): void => { rmSync(dir, { recursive: true, force: true }) }
process.once('SIGINT', () => { cleanup(); process.exit(130) })
process.once('SIGTERM', () => { cleanup(); process.exit(143) })

function rate (bytes: number, ms: number): string {
  return `${(bytes / MiB / (ms / 1000)).toFixed(0)} MiB/s`
}

async function timed (fn: () => unknown): Promise<number> {
  const start = performance.now()
  await fn()
  return performance.now() - start
}

async function median (fn: () => unknown, n = runs): Promise<number> {
  const samples: number[] = []
  for (let i = 0; i < n; i++) samples.push(await timed(fn))
  return summarize(samples)?.median ?? NaN
}

function pieces (data: Uint8Array, piece = MiB): Iterable<Uint8Array> {
  return (function * () { for (let at = 0; at < data.length; at += piece) yield data.subarray(at, at + piece) })()
}

try {
  console.log(`chunking benchmark: ${size / MiB} MiB of seeded data, node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? '?'}`)
  const data = new Uint8Array(createCipheriv('aes-256-ctr', createHash('sha256').update('umesh-bench').digest(), Buffer.alloc(16)).update(Buffer.alloc(size)))
  const file = join(dir, 'data.bin')
  writeFileSync(file, data)

  const rows: string[][] = []
  const sha = await median(() => createHash('sha256').update(data).digest())
  rows.push(['baseline: node:crypto sha256, one pass', rate(size, sha)])
  rows.push(['FastCDC, bytes in memory', rate(size, await median(() => { for (const _ of chunkBytes(data)); }))])
  rows.push(['FastCDC, streamed from a file', rate(size, await median(async () => { for await (const _ of chunkSource(file)); }))])
  rows.push(['FastCDC + chunk CIDs + file sha256, no disk', rate(size, await median(async () => {
    const whole = createHash('sha256')
    for await (const chunk of chunkSource(pieces(data))) { whole.update(chunk.bytes); chunkCid(chunk.bytes) }
    whole.digest()
  }))])
  let newChunks = 0
  const fresh = await openChunkStore(join(dir, 'store-fsync'))
  rows.push(['chunkFile into an empty store, fsync', rate(size, await timed(async () => { newChunks = (await fresh.chunkFile(file)).newChunks }))])
  rows.push(['chunkFile into an empty store, no fsync', rate(size, await timed(async () => { await (await openChunkStore(join(dir, 'store-nosync'), { fsync: false })).chunkFile(file) }))])
  rows.push(['chunkFile, every chunk already stored', rate(size, await timed(async () => { await fresh.chunkFile(file) }))])
  console.log(section('throughput (MiB/s of input)'))
  console.log(table(['what', 'throughput'], rows))

  const sizes = [...chunkBytes(data)].map(c => c.length)
  const body = sizes.slice(0, -1)
  const sorted = [...body].sort((a, b) => a - b)
  const pct = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
  const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`
  console.log(section('chunk sizes (defaults: min 64 KiB, avg 256 KiB, max 1 MiB; the last chunk left out of min)'))
  console.log(table(['chunks', 'average', 'min', 'p10', 'median', 'p90', 'max', 'stored new'], [[
    String(sizes.length), kib(size / sizes.length), kib(sorted[0]), kib(pct(0.1)), kib(pct(0.5)), kib(pct(0.9)), kib(Math.max(...sizes)), String(newChunks)
  ]]))
} finally {
  cleanup()
}
