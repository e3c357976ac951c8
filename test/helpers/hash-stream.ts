/**
 * Moving bytes over a real libp2p stream and checking they all came: a
 * handler that answers with the sha256 of everything it read, and a sender
 * that writes in 64 KiB pieces (waiting on drain) and returns that answer.
 */
import { createHash } from 'node:crypto'
import type { Libp2p } from '@libp2p/interface'

export const HASH_PROTOCOL = '/test/hash/1'

/** `node` answers each stream of HASH_PROTOCOL with the hex sha256 of what it read */
export async function handleHash (node: Libp2p): Promise<void> {
  await node.handle(HASH_PROTOCOL, async (stream) => {
    const hash = createHash('sha256')
    for await (const chunk of stream) hash.update(chunk.subarray())
    stream.send(Buffer.from(hash.digest('hex')))
    await stream.close()
  })
}

/** sends `data` from `from` to `to` on one stream; resolves to the sha256 `to` computed of what it read */
export async function sendForHash (from: Libp2p, to: Libp2p, data: Uint8Array): Promise<string> {
  const stream = await from.dialProtocol(to.getMultiaddrs()[0], HASH_PROTOCOL, { signal: AbortSignal.timeout(20_000) })
  for (let i = 0; i < data.length; i += 64 * 1024) {
    if (!stream.send(data.subarray(i, i + 64 * 1024))) await new Promise(resolve => stream.addEventListener('drain', resolve, { once: true }))
  }
  await stream.close()
  const answer: Uint8Array[] = []
  for await (const chunk of stream) answer.push(chunk.subarray())
  return Buffer.concat(answer).toString()
}
