/**
 * Fetches the chunks a release needs and the store lacks, from every peer
 * that may hold them: batches spread over the peers, a few requests in
 * flight per peer, every chunk verified (by the protocol client, and again by
 * the store) before it counts. A peer that sends a wrong chunk is dropped for
 * this release; one that fails repeatedly is dropped too; a chunk no peer has
 * is retried on the next round, when other peers may have it. Chunks already
 * stored (from an earlier version, or an interrupted download) are never
 * fetched again.
 */
import type { PeerId, Logger } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

export interface FetchedChunk {
  cid: CID
  bytes: Uint8Array
}

export interface ChunkSink {
  has: (cid: CID) => Promise<boolean>
  put: (cid: CID, bytes: Uint8Array) => Promise<unknown>
}

export interface ChunkFetchInit {
  cids: CID[]
  store: ChunkSink
  /** peers to ask, best first; called again each round */
  peers: () => PeerId[]
  /** asks one peer for some chunks; yields the ones it has, verified; throws on a wrong chunk */
  get: (peer: PeerId, cids: CID[], signal: AbortSignal) => AsyncIterable<FetchedChunk> | Promise<FetchedChunk[]>
  /** true when the error means the peer sent bad data (drop it at once) */
  isBadData: (err: unknown) => boolean
  onProgress?: (held: number, total: number) => void
  log: Logger
  signal?: AbortSignal
  batchSize?: number
  perPeer?: number
  rounds?: number
  requestTimeoutMs?: number
}

export class ChunksUnavailableError extends Error {
  override readonly name = 'ChunksUnavailableError'
}

export async function fetchChunks (init: ChunkFetchInit): Promise<void> {
  const batchSize = init.batchSize ?? 16
  const perPeer = init.perPeer ?? 2
  const unique = [...new Map(init.cids.map(c => [c.toString(), c])).values()]
  const missing: CID[] = []
  for (const cid of unique) if (!(await init.store.has(cid))) missing.push(cid)
  let held = unique.length - missing.length
  init.onProgress?.(held, unique.length)
  const dropped = new Set<string>()
  const failures = new Map<string, number>()
  let wanted = missing

  for (let round = 0; wanted.length > 0 && round < (init.rounds ?? 5); round++) {
    init.signal?.throwIfAborted()
    const peers = init.peers().filter(p => !dropped.has(p.toString()))
    if (peers.length === 0) {
      await new Promise(resolve => setTimeout(resolve, 1_000))
      continue
    }
    // which peers already said they lack a chunk, so it goes elsewhere
    const lacks = new Map<string, Set<string>>()
    const queue: CID[][] = []
    for (let i = 0; i < wanted.length; i += batchSize) queue.push(wanted.slice(i, i + batchSize))
    const notFound: CID[] = []

    const worker = async (peer: PeerId): Promise<void> => {
      const key = peer.toString()
      while (!dropped.has(key)) {
        const index = queue.findIndex(batch => batch.some(c => lacks.get(c.toString())?.has(key) !== true))
        if (index === -1) return
        const [batch] = queue.splice(index, 1)
        const ask = batch.filter(c => lacks.get(c.toString())?.has(key) !== true)
        const rest = batch.filter(c => !ask.includes(c))
        if (rest.length > 0) queue.push(rest)
        const got = new Set<string>()
        try {
          const signal = AbortSignal.any([AbortSignal.timeout(init.requestTimeoutMs ?? 30_000), ...(init.signal != null ? [init.signal] : [])])
          const answer = init.get(peer, ask, signal)
          const chunks = Symbol.asyncIterator in answer ? answer : await answer
          for await (const chunk of chunks) {
            await init.store.put(chunk.cid, chunk.bytes)
            got.add(chunk.cid.toString())
            init.onProgress?.(++held, unique.length)
          }
          failures.delete(key)
        } catch (err) {
          if (init.isBadData(err)) {
            init.log('dropping %p for this release: %e', peer, err)
            dropped.add(key)
          } else {
            const n = (failures.get(key) ?? 0) + 1
            failures.set(key, n)
            init.log('chunk request to %p failed (%d) - %e', peer, n, err)
            if (n >= 3) dropped.add(key)
          }
        }
        const left = ask.filter(c => !got.has(c.toString()))
        for (const cid of left) {
          const who = lacks.get(cid.toString()) ?? new Set<string>()
          who.add(key)
          lacks.set(cid.toString(), who)
        }
        // give what is left to a peer that has not said it lacks it, or keep for the next round
        const elsewhere = left.filter(c => peers.some(p => !dropped.has(p.toString()) && lacks.get(c.toString())?.has(p.toString()) !== true))
        if (elsewhere.length > 0) queue.push(elsewhere)
        notFound.push(...left.filter(c => !elsewhere.includes(c)))
      }
    }
    await Promise.all(peers.flatMap(peer => Array.from({ length: perPeer }, async () => { await worker(peer) })))
    wanted = [...new Map([...notFound, ...queue.flat()].map(c => [c.toString(), c])).values()]
    if (wanted.length > 0) await new Promise(resolve => setTimeout(resolve, 500 * (round + 1)))
  }
  if (wanted.length > 0) {
    throw new ChunksUnavailableError(`${wanted.length} of ${unique.length} chunks are held by none of the peers asked; will retry when peers change`)
  }
}
