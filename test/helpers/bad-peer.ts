/**
 * A hostile swarm peer, run as its own process (the swarm network-namespace
 * test starts it with `ip netns exec`): a libp2p node built like the real
 * ones (src/network/create-node.ts, the real protocols and network name)
 * that claims to hold every piece of ANY release on the have exchange (a
 * full bitfield, through the real HaveSession code) and every chunk on a
 * chunks HAVE, and answers a chunks GET
 *
 * - mode `corrupt`: with wrong bytes of the right length for every CID (the
 *   real chunk with bytes flipped when --chunks names a chunk store that
 *   holds it, else 256 KiB of junk), then closes the stream as an honest
 *   server would;
 * - mode `stall`: never, keeping the stream open until the asker gives up.
 *
 * It dials every --dial address and keeps dialling those it is not
 * connected to, so the followers know it before they fetch. It prints
 * `bad-peer ready <peer id> <mode>` once listening, one line per have
 * session and per chunks request, and stops on SIGTERM or SIGINT.
 *
 *   node bad-peer.js --mode corrupt|stall --listen MA [--dial MA]... [--network NAME] [--chunks DIR]
 */
import '../../src/polyfill.js'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { pbStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { base32upper } from 'multiformats/bases/base32'
import { CID } from 'multiformats/cid'
import { ChunksRequest, ChunksResponse, MAX_REQUEST_BYTES, chunksProtocol } from '../../protocols/chunks/index.js'
import { defaults } from '../../src/config/index.js'
import { createMeshNode } from '../../src/network/create-node.js'
import { pseudoRandomBytes } from '../../src/util/pseudo-random.js'
import type { HaveHello, HaveSession } from '../../protocols/have/index.js'
import type { Connection, Stream } from '@libp2p/interface'

const { values } = parseArgs({
  options: {
    mode: { type: 'string' },
    listen: { type: 'string' },
    dial: { type: 'string', multiple: true, default: [] },
    network: { type: 'string', default: 'umesh' },
    chunks: { type: 'string' }
  },
  strict: true
})
const mode = values.mode
if (mode !== 'corrupt' && mode !== 'stall') throw new Error(`--mode: expected corrupt or stall, found ${String(mode)}`)
if (values.listen == null) throw new Error('--listen MA is required')
const network = values.network
const say = (line: string): void => { process.stdout.write(`${line}\n`) }

/** a full bitfield of `count` pieces, unused bits zero */
function full (count: number): Uint8Array {
  const bytes = new Uint8Array(Math.ceil(count / 8)).fill(0xff)
  const spare = bytes.length * 8 - count
  if (spare > 0) bytes[bytes.length - 1] = (0xff << spare) & 0xff
  return bytes
}

/** wrong bytes of the right length: the real chunk with bytes flipped, when we can read it */
function corrupted (cid: CID): Uint8Array {
  if (values.chunks != null) {
    const name = base32upper.encoder.encode(cid.multihash.bytes)
    const file = join(values.chunks, name.slice(-2), `${name}.data`)
    if (existsSync(file)) {
      const bytes = new Uint8Array(readFileSync(file))
      for (let i = 0; i < bytes.length; i += 4096) bytes[i] ^= 0x5a
      return bytes
    }
  }
  return pseudoRandomBytes(256 * 1024, 4242)
}

const stalled: Stream[] = []
const sessions: HaveSession[] = []

const { node } = await createMeshNode({
  config: { ...defaults(), listen: [values.listen], mdns: false, network, maxInboundPerIp: 1000, bootstrap: [] },
  role: 'node',
  privateKey: await generateKeyPair('Ed25519'),
  datastore: new MemoryDatastore(),
  version: `0.0.0-bad-${mode}`,
  report: () => { throw new Error('no status') },
  serve: {
    mirrorRoot: () => undefined,
    summary: () => ({ timestampVersion: 0, releases: [] }),
    store: { has: async () => false, get: async () => { throw Object.assign(new Error('none'), { name: 'ChunkNotFoundError' }) } } as any
  },
  // the have exchange: every release is known, every piece held
  swarm: () => ({
    hello: async (release: Uint8Array, count: number): Promise<HaveHello> => ({ release, count, bitfield: full(count) }),
    adopt: (session: HaveSession) => {
      say(`have session from ${session.peer.toString()}: ${session.remote.count} pieces, answered with a full bitfield`)
      sessions.push(session)
      session.events = { onClose: () => { sessions.splice(sessions.indexOf(session), 1) } }
      session.start()
    }
  })
})

// the chunks protocol, our way
await node.start()
await node.unhandle(chunksProtocol(network))
await node.handle(chunksProtocol(network), async (stream: Stream, connection: Connection) => {
  const peer = connection.remotePeer.toString()
  const pb = pbStream(stream, { maxDataLength: MAX_REQUEST_BYTES })
  let request: ChunksRequest
  try {
    request = await pb.read(ChunksRequest, { signal: AbortSignal.timeout(10_000) })
  } catch (err) {
    stream.abort(err as Error)
    return
  }
  const cids = request.cids.map(bytes => CID.decode(bytes))
  if (request.kind === ChunksRequest.Kind.HAVE) {
    say(`HAVE of ${cids.length} chunks from ${peer}: all held`)
    await pb.write({ code: ChunksResponse.Code.OK, error: '', bitfield: full(cids.length) as Uint8Array<ArrayBuffer>, cid: new Uint8Array(0), data: new Uint8Array(0) }, ChunksResponse)
      .then(async () => { await stream.close() }).catch(() => {})
    return
  }
  if (mode === 'stall') {
    say(`GET of ${cids.length} chunks from ${peer}: stalled`)
    stalled.push(stream)
    // never answered; held until the asker gives up
    await new Promise<void>(resolve => { stream.addEventListener('close', () => { resolve() }, { once: true }) })
    stalled.splice(stalled.indexOf(stream), 1)
    say(`GET from ${peer}: the asker gave up on the stalled stream`)
    return
  }
  try {
    let bytes = 0
    for (const cid of cids) {
      const data = corrupted(cid)
      bytes += data.byteLength
      await pb.write({ code: ChunksResponse.Code.OK, error: '', bitfield: new Uint8Array(0), cid: cid.bytes as Uint8Array<ArrayBuffer>, data: data as Uint8Array<ArrayBuffer> }, ChunksResponse)
    }
    await stream.close()
    say(`GET of ${cids.length} chunks from ${peer}: answered with ${bytes} corrupt bytes`)
  } catch (err) {
    say(`GET of ${cids.length} chunks from ${peer}: cut off (${(err as Error).message})`)
    stream.abort(err as Error)
  }
}, { maxInboundStreams: 64, maxOutboundStreams: 64 })

say(`bad-peer ready ${node.peerId.toString()} ${mode} on ${node.getMultiaddrs().map(String).join(' ')}`)

// stay connected to every follower
const targets = (values.dial ?? []).map(a => ({ addr: multiaddr(a), id: /\/p2p\/(\w+)$/.exec(a)?.[1] }))
let stopping = false
const keepDialling = async (): Promise<void> => {
  for (const { addr, id } of targets) {
    if (stopping) return
    if (id != null && node.getConnections().some(c => c.remotePeer.toString() === id)) continue
    try {
      await node.dial(addr, { signal: AbortSignal.timeout(5_000) })
      say(`connected to ${addr.toString()}`)
    } catch (err) {
      say(`could not dial ${addr.toString()}: ${(err as Error).message}`)
    }
  }
}
void keepDialling()
const timer = setInterval(() => { void keepDialling() }, 2_000)

const stop = async (): Promise<void> => {
  if (stopping) return
  stopping = true
  clearInterval(timer)
  for (const s of [...stalled]) s.abort(new Error('bad peer stopping'))
  for (const s of [...sessions]) s.close()
  try {
    await node.stop()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', () => { void stop() })
process.on('SIGINT', () => { void stop() })
