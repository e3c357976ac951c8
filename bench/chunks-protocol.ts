/**
 * Chunks protocol benchmark: prints figures, asserts nothing.
 *
 *   node dist/bench/chunks-protocol.js [--size 64] [--chunk 256] [--batch 16] [--inflight 1,4,8] [--runs 3]
 *
 * Two libp2p nodes in this process on loopback (TCP, Noise, Yamux). The
 * server holds --size MiB of seeded pseudo-random chunks of --chunk KiB in a
 * real chunk store (fsync off: the store is filled once, before timing) and
 * serves them with the chunks service; the client fetches all of them with
 * getChunks, --batch CIDs per request, for each --inflight count of requests
 * in flight at once. Every chunk is verified by the client (and re-hashed by
 * the store when the server reads it). Throughput is MiB/s of chunk data, the
 * median of --runs runs. The temp folder is removed at exit.
 */
import '../src/polyfill.js'
import { createCipheriv, createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { chunks, getChunks } from '../protocols/chunks/index.js'
import { chunkCid, openChunkStore } from '../src/content/index.js'
import { summarize, table } from './report.js'
import type { CID } from 'multiformats/cid'

const MiB = 1024 * 1024
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '64' },
    chunk: { type: 'string', default: '256' },
    batch: { type: 'string', default: '16' },
    inflight: { type: 'string', default: '1,4,8' },
    runs: { type: 'string', default: '3' }
  }
})
const size = Number(values.size) * MiB
const chunkSize = Number(values.chunk) * 1024
const batch = Number(values.batch)
const inflights = values.inflight.split(',').map(Number)
const runs = Math.max(1, Number(values.runs))

const dir = mkdtempSync(join(tmpdir(), 'umesh-bench-chunks-'))
const cleanup = (): void => { rmSync(dir, { recursive: true, force: true }) }
process.once('SIGINT', () => { cleanup(); process.exit(130) })
process.once('SIGTERM', () => { cleanup(); process.exit(143) })

const transport = { transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] }

/** fetches every CID, `inflight` requests at once; returns the bytes received */
async function fetchAll (client: Parameters<typeof getChunks>[0], server: Parameters<typeof getChunks>[1], cids: CID[], inflight: number): Promise<number> {
  const batches: CID[][] = []
  for (let i = 0; i < cids.length; i += batch) batches.push(cids.slice(i, i + batch))
  let bytes = 0
  let chunksGot = 0
  await Promise.all(Array.from({ length: inflight }, async () => {
    for (let next = batches.shift(); next != null; next = batches.shift()) {
      for await (const chunk of getChunks(client, server, 'bench', next, { timeout: 120_000 })) {
        bytes += chunk.bytes.byteLength
        chunksGot++
      }
    }
  }))
  if (chunksGot !== cids.length) throw new Error(`expected ${cids.length} chunks, got ${chunksGot}`)
  return bytes
}

try {
  console.log(`chunks protocol benchmark: ${size / MiB} MiB in ${chunkSize / 1024} KiB chunks, ${batch} per GET, node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? '?'}`)
  const store = await openChunkStore(join(dir, 'chunks'), { fsync: false })
  const key = createHash('sha256').update('umesh-bench-chunks').digest()
  const cids: CID[] = []
  for (let at = 0; at < size; at += chunkSize) {
    const bytes = new Uint8Array(createCipheriv('aes-256-ctr', key, Buffer.alloc(16, at / chunkSize)).update(Buffer.alloc(Math.min(chunkSize, size - at))))
    const cid = chunkCid(bytes)
    await store.put(cid, bytes)
    cids.push(cid)
  }

  const server = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    ...transport,
    services: { chunks: chunks({ network: 'bench', store }) }
  })
  const client = await createLibp2p({ addresses: { listen: [] }, ...transport })
  try {
    await client.dial(server.getMultiaddrs())
    await fetchAll(client, server.peerId, cids.slice(0, batch * 2), 1) // warm-up: connection, JIT, page cache
    const rows: string[][] = []
    for (const inflight of inflights) {
      const samples: number[] = []
      for (let run = 0; run < runs; run++) {
        const start = performance.now()
        const bytes = await fetchAll(client, server.peerId, cids, inflight)
        samples.push(bytes / MiB / ((performance.now() - start) / 1000))
      }
      const s = summarize(samples)!
      rows.push([String(inflight), `${s.median.toFixed(0)} MiB/s`, `${s.min.toFixed(0)}`, `${s.max.toFixed(0)}`])
    }
    console.log(table(['requests in flight', 'median', 'min', 'max'], rows))
  } finally {
    await client.stop()
    await server.stop()
  }
} finally {
  cleanup()
}
