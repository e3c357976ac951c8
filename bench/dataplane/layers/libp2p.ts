/**
 * The libp2p layers, each a pair of full libp2p nodes built from a variant
 * (variants.ts; stock: TCP + Noise + Yamux) and nothing else (no identify,
 * no DHT), with the peer store in memory:
 *
 * - `yamux`: the receiver opens one stream of a bench protocol and pulls
 *   bytes through it (pull.ts), as the raw and noise layers do;
 * - `chunks`: the sender serves the project's chunks protocol from a real
 *   chunk store filled before timing; the receiver fetches the chunks as the
 *   swarm does (src/swarm/download.ts: GETs of up to 3 chunks, 5 GETs in
 *   flight by default, about its 16 pieces in flight for a fast peer; it
 *   was 2 GETs, 6 pieces, before 2026-12-03), getChunks
 *   verifying every chunk against its CID. It does not store them (the
 *   store's write and fsync are not the data plane), and goes round the
 *   store's chunks again when the size asked for is larger than the store.
 */
import { createCipheriv, createHash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import { chunks, getChunks } from '../../../protocols/chunks/index.js'
import { chunkCid, openChunkStore } from '../../../src/content/index.js'
import { Puller, serve, streamPipe } from '../pull.js'
import { VARIANTS } from '../variants.js'
import type { EndConfig, SenderAddress } from '../messages.js'
import type { Libp2p, PeerId } from '@libp2p/interface'

const PULL_PROTOCOL = '/umesh-bench/dataplane/pull/1.0.0'
const NETWORK = 'dataplane'
const DIAL_TIMEOUT_MS = 10_000
const GET_TIMEOUT_MS = 60_000

async function node (config: EndConfig, listen: string[], services: Record<string, any> = {}): Promise<Libp2p> {
  const variant = VARIANTS[config.variant]
  if (variant == null) throw new Error(`no variant named ${config.variant} in variants.ts`)
  return await createLibp2p({ addresses: { listen }, ...await variant.options(), services })
}

function listenOn (config: EndConfig): string[] {
  return [VARIANTS[config.variant].listen(config.host)]
}

/** `count` chunks of pseudo-random bytes, the same for the same index */
function chunkBytes (index: number, size: number): Uint8Array {
  const key = createHash('sha256').update('umesh-dataplane-chunks').digest()
  const iv = Buffer.alloc(16)
  iv.writeUInt32BE(index, 12)
  return new Uint8Array(createCipheriv('aes-256-ctr', key, iv).update(Buffer.alloc(size)))
}

export async function libp2pSender (config: EndConfig, onError: (err: Error) => void): Promise<{ address: SenderAddress, node: Libp2p }> {
  if (config.layer === 'yamux') {
    const sender = await node(config, listenOn(config))
    await sender.handle(PULL_PROTOCOL, (stream) => { serve(streamPipe(stream), config.writeBytes, onError) })
    return { address: { multiaddrs: sender.getMultiaddrs().map(String) }, node: sender }
  }
  if (config.storeDir == null) throw new Error('the chunks sender needs a store folder')
  const store = await openChunkStore(config.storeDir, { fsync: false })
  const cids: string[] = []
  for (let i = 0; i * config.chunkBytes < config.storeBytes; i++) {
    const bytes = chunkBytes(i, config.chunkBytes)
    const cid = chunkCid(bytes)
    await store.put(cid, bytes)
    cids.push(cid.toString())
  }
  const sender = await node(config, listenOn(config), { chunks: chunks({ network: NETWORK, store }) })
  return { address: { multiaddrs: sender.getMultiaddrs().map(String), cids }, node: sender }
}

export interface Receiver {
  run: (total: number, maxMs: number) => Promise<number>
  node?: Libp2p
}

export async function libp2pReceiver (config: EndConfig): Promise<Receiver> {
  const target = config.target?.multiaddrs?.[0]
  if (target == null) throw new Error('the receiver has no address to dial')
  const receiver = await node(config, [])
  const ma = multiaddr(target)
  if (config.layer === 'yamux') {
    const stream = await receiver.dialProtocol(ma, PULL_PROTOCOL, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
    const puller = new Puller(streamPipe(stream), config.segmentBytes)
    return { run: async (total, maxMs) => await puller.run(total, maxMs), node: receiver }
  }
  await receiver.dial(ma, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
  const peer = peerIdFromString(ma.getComponents().findLast(c => c.name === 'p2p')?.value ?? '')
  const cids = (config.target?.cids ?? []).map(c => CID.parse(c))
  if (cids.length === 0) throw new Error('the chunks sender holds no chunks')
  return { run: async (total, maxMs) => await fetchChunks(receiver, peer, cids, config, total, maxMs), node: receiver }
}

/** GETs of `batch` chunks, `inflight` at once, round the store's chunks until `total` bytes or `maxMs` */
async function fetchChunks (receiver: Libp2p, peer: PeerId, cids: CID[], config: EndConfig, total: number, maxMs: number): Promise<number> {
  const deadline = performance.now() + maxMs
  let next = 0
  let asked = 0
  let bytes = 0
  const nextBatch = (): CID[] | undefined => {
    if (asked >= total || performance.now() >= deadline) return undefined
    const batch: CID[] = []
    while (batch.length < config.batch && asked < total) {
      batch.push(cids[next])
      next = (next + 1) % cids.length
      asked += config.chunkBytes
    }
    return batch
  }
  await Promise.all(Array.from({ length: config.inflight }, async () => {
    for (let batch = nextBatch(); batch != null; batch = nextBatch()) {
      let got = 0
      for await (const chunk of getChunks(receiver, peer, NETWORK, batch, { timeout: GET_TIMEOUT_MS })) {
        bytes += chunk.bytes.byteLength
        got++
      }
      if (got !== batch.length) throw new Error(`asked for ${batch.length} chunks, got ${got}`)
    }
  }))
  return bytes
}
