/**
 * Attacks on a real follower process with data, from hostile peers in this
 * process that speak the real protocols: a new root signed below the root
 * threshold, endless answers on the sync and on the chunks protocol, and
 * announcements with no signature or signed by a key the root does not name.
 * Each checks that the follower cut the attacker off or ignored it, that its
 * memory stayed bounded, that it still updates from the honest publisher,
 * and that nothing untrusted reached its trusted metadata, its mirror or its
 * chunk store.
 *
 * Traffic is bounded: a flood stops by itself after 200 MiB per stream or
 * 20 s, whichever comes first; the tests assert that the follower ended every
 * flood long before that.
 *
 * Two floods found real defects: a length prefix that never ends (endless
 * continuation bytes) was read until the request's timeout, at over 100 bytes
 * of heap per byte received (protocols/sync/length-prefix.ts), and one peer
 * that flooded its answer to the root walk failed every refresh of the
 * follower (src/trust/mesh-fetcher.ts).
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { pbStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { Metadata, MetadataKind, Root, Timestamp } from '@tufjs/models'
import { MemoryDatastore } from 'datastore-core'
import { base32upper } from 'multiformats/bases/base32'
import { ChunksRequest, ChunksResponse, MAX_CHUNK_SIZE, MAX_REQUEST_BYTES as MAX_CHUNKS_REQUEST_BYTES, chunksProtocol } from '../../protocols/chunks/index.js'
import { fetchStatus } from '../../protocols/status/index.js'
import { MAX_SUMMARY_BYTES } from '../../protocols/sync/constants.js'
import { RESPONSE_OVERHEAD_BYTES, SyncRequest, SyncResponse, syncProtocol } from '../../protocols/sync/index.js'
import { defaults } from '../../src/config/index.js'
import { chunkCid } from '../../src/content/index.js'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { LocalMesh, MeshProcess } from '../../src/demo/local-mesh.js'
import { createClientNode } from '../../src/network/client-node.js'
import { createMeshNode } from '../../src/network/create-node.js'
import { announceTopic } from '../../src/network/protocol-ids.js'
import { Repository } from '../../src/trust/repository.js'
import { generateRoleKey, signWith, tufKey } from '../../src/trust/role-keys.js'
import { pseudoRandomBytes as pseudoRandom } from '../../src/util/pseudo-random.js'
import { runCli, tempDir, waitFor } from '../helpers/cli.js'
import { claimsEveryPiece } from '../helpers/have-claims.js'
import type { StatusResponse } from '../../protocols/status/index.js'
import type { SyncSummary } from '../../protocols/sync/index.js'
import type { MeshNode } from '../../src/network/create-node.js'
import type { Libp2p, Stream } from '@libp2p/interface'

const NETWORK = 'umesh'
const MiB = 1024 * 1024
/** a flood stops by itself after this many bytes on one stream... */
const FLOOD_CAP_BYTES = 200 * MiB
/** ...or after this long, when the follower neither reads nor cuts it off */
const FLOOD_MAX_MS = 20_000
/** the follower's resident memory must stay below this while it is flooded... */
const RSS_LIMIT_MIB = 400
/** ...and grow by less than this */
const RSS_GROWTH_LIMIT_MIB = 200

/** how one flood ended: the follower cut it off, or it stopped by itself at its cap or its deadline */
interface Flood {
  mode: string
  request: string
  sent: number
  /** from the first byte written to the end */
  ms: number
  ended: 'cut off' | 'cap' | 'deadline' | 'no request'
  detail: string
}

function varint (value: number): Uint8Array {
  const out: number[] = []
  let n = value
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return Uint8Array.from(out)
}

/** one length-prefixed message, as lpStream frames it */
function framed (message: Uint8Array): Uint8Array {
  return Buffer.concat([varint(message.byteLength), message])
}

/**
 * Waits for the stream's 'drain' event. (Stream.onDrain is no help: once it
 * has resolved it keeps returning the same resolved promise, so a writer
 * relying on it queues everything in its own memory.)
 */
async function drained (stream: Stream, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
      signal.removeEventListener('abort', onAbort)
    }
    const onDrain = (): void => { cleanup(); resolve() }
    const onClose = (evt: Event): void => { cleanup(); reject((evt as Event & { error?: Error }).error ?? new Error('stream closed')) }
    const onAbort = (): void => { cleanup(); reject(signal.reason) }
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
    signal.addEventListener('abort', onAbort)
  })
}

/**
 * Writes `head`, then `body()` over and over, waiting for the stream to drain
 * (and `pauseMs` between writes, if set), until the follower ends the stream,
 * FLOOD_CAP_BYTES are sent, or FLOOD_MAX_MS pass.
 */
async function flood (stream: Stream, head: Uint8Array, body: () => Uint8Array, pauseMs = 0): Promise<Pick<Flood, 'sent' | 'ms' | 'ended' | 'detail'>> {
  const deadline = AbortSignal.timeout(FLOOD_MAX_MS)
  const start = Date.now()
  let sent = 0
  let next = head
  const end = (ended: Flood['ended'], detail: string): Pick<Flood, 'sent' | 'ms' | 'ended' | 'detail'> => ({ sent, ms: Date.now() - start, ended, detail })
  try {
    while (sent < FLOOD_CAP_BYTES) {
      if (stream.status !== 'open' || stream.writeStatus !== 'writable') return end('cut off', `stream ${stream.status}`)
      if (deadline.aborted) throw deadline.reason
      sent += next.byteLength
      if (!stream.send(next)) await drained(stream, deadline)
      if (pauseMs > 0) await new Promise(resolve => setTimeout(resolve, pauseMs))
      next = body()
    }
    stream.abort(new Error('flood cap reached'))
    return end('cap', '')
  } catch (err) {
    if (deadline.aborted) {
      stream.abort(new Error('flood deadline reached'))
      return end('deadline', '')
    }
    return end('cut off', (err as Error).message)
  }
}

function describeFloods (floods: Flood[]): string {
  return floods.map(f => `${f.mode} for ${f.request}: ${(f.sent / MiB).toFixed(2)} MiB sent in ${f.ms} ms, ended: ${f.ended}${f.detail !== '' ? ` (${f.detail})` : ''}`).join('\n')
}

function rssMiB (pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (match == null) throw new Error(`no VmRSS for process ${pid}`)
  return Number(match[1]) / 1024
}

/** samples a process's resident memory every 50 ms until stopped */
function watchRss (pid: number): { stop: () => { baseline: number, max: number } } {
  const baseline = rssMiB(pid)
  let max = baseline
  const timer = setInterval(() => {
    try {
      max = Math.max(max, rssMiB(pid))
    } catch {}
  }, 50)
  return {
    stop: () => {
      clearInterval(timer)
      try {
        max = Math.max(max, rssMiB(pid))
      } catch {}
      return { baseline, max }
    }
  }
}

function filesUnder (dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter(e => e.isFile()).map(e => join(e.parentPath, e.name))
}

describe('data attacks on a follower', () => {
  const tmp = tempDir('umesh-attacks-data-')
  const repoDir = join(tmp.path, 'repo')
  const src = join(tmp.path, 'src')
  const followerLog = join(tmp.path, 'follower.log')
  const mesh = new LocalMesh({ dir: join(tmp.path, 'mesh'), nodes: 0 })
  const hostiles: MeshNode[] = []
  let client: Libp2p
  let publisher: MeshProcess
  let follower: MeshProcess
  let followerDir: string

  const status = async (): Promise<StatusResponse> => {
    const info = readDaemonFile(follower.dataDir)
    return await fetchStatus(client, info.addrs.map(a => multiaddr(a)), info.network, { signal: AbortSignal.timeout(3_000) })
  }
  const trustedVersion = async (): Promise<number> => (await status()).trust?.timestampVersion ?? -1
  const holds = async (version: string): Promise<boolean> => (await status()).releases.some(r => r.version === version && r.state === 'held')
  /** the whole follower log (MeshProcess.output keeps only its first 256 KiB) */
  const log = (): string => existsSync(followerLog) ? readFileSync(followerLog, 'utf8') : ''
  const repo = (): Repository => Repository.open(repoDir)
  const publish = async (version: string, seed: number, size = 3 * MiB): Promise<void> => {
    writeFileSync(join(src, 'data.bin'), pseudoRandom(size, seed))
    const r = await runCli(['release', 'add', src, '--repo', repoDir, '--package', 'app', '--version', version])
    assert.equal(r.code, 0, r.stderr)
  }
  const waitHolds = async (version: string): Promise<void> => {
    await waitFor(`the follower holding ${version}`, async () => await holds(version), 45_000, 300)
      .catch(err => { throw new Error(`${(err as Error).message}\nfollower log:\n${log().slice(-4000)}`) })
  }

  /** a hostile peer with the real protocols, serving what `content` says */
  const hostile = async (content: { mirrorRoot?: () => string | undefined, summary?: () => SyncSummary, claimsPieces?: boolean } = {}): Promise<MeshNode> => {
    const node = (await createMeshNode({
      config: { ...defaults(), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, maxInboundPerIp: 1000 },
      role: 'node',
      privateKey: await generateKeyPair('Ed25519'),
      datastore: new MemoryDatastore(),
      version: '0.0.0-evil',
      report: () => { throw new Error('no status') },
      content: {
        mirrorRoot: content.mirrorRoot ?? (() => undefined),
        summary: content.summary ?? (() => ({ timestampVersion: 0, releases: [] })),
        store: { has: async () => false, get: async () => { throw Object.assign(new Error('none'), { name: 'ChunkNotFoundError' }) } } as any,
        swarm: content.claimsPieces === true ? claimsEveryPiece : undefined
      }
    })).node
    hostiles.push(node)
    await node.start()
    return node
  }
  const followerAddr = (): ReturnType<typeof multiaddr> => multiaddr(readDaemonFile(follower.dataDir).addrs[0])
  const stopHostile = async (node: MeshNode): Promise<void> => {
    try {
      await node.stop()
    } catch {}
    hostiles.splice(hostiles.indexOf(node), 1)
  }

  /**
   * Nothing untrusted was kept: the trusted root is the publisher's, every
   * metadata and target file the follower mirrors for peers is byte for byte
   * the publisher's, and every chunk it stores hashes to its name.
   */
  const assertNothingUntrustedStored = (): void => {
    const r = repo()
    const rootVersion = r.signedOf('root').version as number
    assert.deepEqual(readFileSync(join(followerDir, 'tuf', 'metadata', 'root.json')), readFileSync(join(repoDir, 'metadata', `${rootVersion}.root.json`)), 'the trusted root is the publisher\'s newest')
    const trustedRoot = Metadata.fromJSON(MetadataKind.Root, JSON.parse(readFileSync(join(repoDir, 'metadata', `${rootVersion}.root.json`), 'utf8')))
    const mirror = join(followerDir, 'tuf', 'mirror')
    for (const file of filesUnder(mirror)) {
      const path = relative(mirror, file)
      const original = join(repoDir, path)
      assert.ok(existsSync(original), `the follower mirrors ${path}, which the publisher never made`)
      if (path === join('metadata', 'timestamp.json')) {
        // the publisher has moved on since: an older timestamp, but signed by the trusted key
        trustedRoot.verifyDelegate('timestamp', Metadata.fromJSON(MetadataKind.Timestamp, JSON.parse(readFileSync(file, 'utf8'))))
      } else {
        assert.deepEqual(readFileSync(file), readFileSync(original), `the follower's mirrored ${path} differs from the publisher's`)
      }
    }
    const chunks = filesUnder(join(followerDir, 'chunks')).filter(f => f.endsWith('.data') && !f.includes(`${join('chunks', '.tmp')}/`))
    assert.ok(chunks.length > 0)
    for (const file of chunks) {
      const name = base32upper.encoder.encode(chunkCid(readFileSync(file)).multihash.bytes)
      assert.ok(file.endsWith(`${name}.data`), `chunk file ${file} does not hold the bytes its name promises`)
    }
  }

  before(async () => {
    client = await createClientNode()
    mkdirSync(src, { recursive: true })
    const init = await runCli(['repo', 'init', '--repo', repoDir, '--root-keys', '2', '--root-threshold', '2'])
    assert.equal(init.code, 0, init.stderr)
    assert.equal(readdirSync(join(repoDir, 'keys')).filter(f => f.startsWith('root-')).length, 2, 'two root key files')
    // a first root rotation the follower walks honestly: 1 -> 2, signed by both root keys
    const rotate = await runCli(['repo', 'rotate', '--repo', repoDir, '--role', 'timestamp'])
    assert.equal(rotate.code, 0, rotate.stderr)
    await publish('1.0.0', 1)
    await mesh.start()
    publisher = mesh.addNode('publisher', ['--repo', repoDir])
    await publisher.waitReady()
    followerDir = join(tmp.path, 'follower')
    follower = new MeshProcess('follower', 'node', followerDir, [...mesh.nodeArgs(), '--trusted-root', join(repoDir, 'metadata', '1.root.json'), '--follow', 'app'],
      followerLog, { DEBUG: 'umesh:follower,umesh:content,umesh:announce,umesh:announce:trace,umesh:swarm' })
    await follower.waitReady()
    await waitHolds('1.0.0')
    assert.equal(JSON.parse(readFileSync(join(followerDir, 'tuf', 'metadata', 'root.json'), 'utf8')).signed.version, 2, 'the follower walked to root 2')
  })

  after(async () => {
    for (const node of [...hostiles]) {
      try {
        await node.stop()
      } catch {}
    }
    await follower?.stop()
    await mesh.stop()
    await client?.stop()
    tmp.remove()
  })

  it('does not take a new root signed by one of its two root keys, and updates from the publisher', async () => {
    const r = repo()
    const current = r.signedOf('root')
    const n = current.version as number
    const trustedRoot = Metadata.fromJSON(MetadataKind.Root, JSON.parse(readFileSync(join(repoDir, 'metadata', `${n}.root.json`), 'utf8')))
    // root N+1 that hands the timestamp role to the attacker's key
    const attacker = generateRoleKey('timestamp')
    const signed = structuredClone(current)
    signed.version = n + 1
    for (const id of signed.roles.timestamp.keyids) delete signed.keys[id]
    signed.keys[attacker.keyId] = tufKey(attacker).toJSON()
    signed.roles.timestamp.keyids = [attacker.keyId]
    const rootKeys = r.keysFor('root')
    assert.equal(rootKeys.length, 2)
    const forged = new Metadata(Root.fromJSON(signed))
    signWith(forged, [rootKeys[0]])
    // the forged root lacks only the second signature: with both, it would be a valid next root
    const control = new Metadata(Root.fromJSON(structuredClone(signed)))
    signWith(control, rootKeys)
    trustedRoot.verifyDelegate('root', control)
    assert.throws(() => { trustedRoot.verifyDelegate('root', forged) }, /root was signed by 1\/2 keys/)

    // the attacker's mirror: the repository's metadata, the forged root, and a
    // timestamp signed by the attacker's key that the forged root would make valid
    const mirror = join(tmp.path, 'evil-root-mirror')
    cpSync(join(repoDir, 'metadata'), join(mirror, 'metadata'), { recursive: true })
    writeFileSync(join(mirror, 'metadata', `${n + 1}.root.json`), JSON.stringify(forged.toJSON(), null, 1))
    const timestamp = new Metadata(Timestamp.fromJSON({ ...r.signedOf('timestamp'), version: 1_000_000 }))
    signWith(timestamp, [attacker])
    writeFileSync(join(mirror, 'metadata', 'timestamp.json'), JSON.stringify(timestamp.toJSON(), null, 1))

    const before = await trustedVersion()
    const evil = await hostile({ mirrorRoot: () => mirror, summary: () => ({ timestampVersion: 1_000_000, releases: [] }) })
    try {
      // its summary claims a much newer timestamp, so the follower syncs with it at once
      await evil.dial(followerAddr())
      const id = evil.peerId.toString()
      await waitFor('the follower not believing the hostile peer', () => new RegExp(`not believing [^\\n]*${id}[^\\n]*root was signed by 1/2 keys`).test(log()), 20_000, 200)
        .catch(err => { throw new Error(`${(err as Error).message}\nfollower log:\n${log().slice(-4000)}`) })
      const trusted = JSON.parse(readFileSync(join(followerDir, 'tuf', 'metadata', 'root.json'), 'utf8'))
      assert.equal(trusted.signed.version, n, `the trusted root stays at version ${n}`)
      assert.ok(!(attacker.keyId in trusted.signed.keys), 'the attacker\'s key is not trusted')
      assert.ok(!existsSync(join(followerDir, 'tuf', 'mirror', 'metadata', `${n + 1}.root.json`)), 'the forged root is not mirrored for other peers')
      assert.ok(await trustedVersion() >= before)
      assert.ok(await trustedVersion() < 1_000_000, 'the attacker\'s timestamp is not trusted')

      // the hostile peer stays connected; a later release comes from the publisher
      assert.ok(evil.getConnections().length > 0, 'the hostile peer is still connected')
      await publish('1.1.0', 2)
      await waitHolds('1.1.0')
      assert.equal(await trustedVersion(), r.signedOf('timestamp').version + 1, 'the follower trusts the publisher\'s newest timestamp')
      assert.equal(JSON.parse(readFileSync(join(followerDir, 'tuf', 'metadata', 'root.json'), 'utf8')).signed.version, n)
      assertNothingUntrustedStored()
    } finally {
      await stopHostile(evil)
    }
  })

  it('cuts off a peer that answers every sync request with endless data, in bounded memory, and updates from the publisher', async () => {
    const floods: Array<Promise<Flood>> = []
    const junk = pseudoRandom(64 * 1024, 77)
    const ffs = new Uint8Array(32 * 1024).fill(0xff)
    const valid = framed(SyncResponse.encode({ code: SyncResponse.Code.OK, error: '', data: new Uint8Array(junk.subarray(0, 8 * 1024)), timestampVersion: 1_000_000, releases: [] }))
    const validRun = Buffer.concat(Array.from({ length: 8 }, () => valid))
    // summaries get every mode; files only those that break the protocol, so
    // the hostile peer never serves metadata that fails verification, is never
    // set aside as a suspect, and is asked again in every refresh
    const fileModes = ['huge length prefix', 'length prefix at the cap, then more', 'a length prefix that never ends']
    const summaryModes = [...fileModes.slice(0, 2), 'endless valid answers', fileModes[2]]
    let files = 0
    let summaries = 0
    const rootWalk = `metadata/${(repo().signedOf('root').version as number) + 1}.root.json`
    const evil = await hostile()
    await evil.unhandle(syncProtocol(NETWORK))
    await evil.handle(syncProtocol(NETWORK), async (stream: Stream) => {
      const run = (async (): Promise<Flood> => {
        let request: SyncRequest
        try {
          request = await pbStream(stream, { maxDataLength: 8 * 1024 }).read(SyncRequest, { signal: AbortSignal.timeout(5_000) })
        } catch (err) {
          stream.abort(err as Error)
          return { mode: 'none', request: '?', sent: 0, ms: 0, ended: 'no request', detail: (err as Error).message }
        }
        const file = request.kind === SyncRequest.Kind.FILE
        const mode = file ? fileModes[files++ % fileModes.length] : summaryModes[summaries++ % summaryModes.length]
        const what = file ? request.path : 'a summary'
        // what the client accepts for this request
        const cap = request.kind === SyncRequest.Kind.FILE ? Number(request.maxLength) + RESPONSE_OVERHEAD_BYTES : MAX_SUMMARY_BYTES
        let result
        switch (mode) {
          case 'huge length prefix': result = await flood(stream, varint(2 ** 40), () => junk); break
          case 'length prefix at the cap, then more': result = await flood(stream, varint(cap), () => junk); break
          case 'endless valid answers': result = await flood(stream, validRun, () => validRun); break
          // continuation bytes at a pace the reader keeps up with, so no read buffer overflows
          default: result = await flood(stream, ffs, () => ffs, 20)
        }
        return { mode, request: what, ...result }
      })()
      floods.push(run)
      await run
    }, { maxInboundStreams: 64, maxOutboundStreams: 64 })

    const pid = follower.child.pid!
    const rss = watchRss(pid)
    let memory = { baseline: 0, max: 0 }
    try {
      // every new connection makes the follower ask for a summary: one per mode
      for (let i = 0; i < summaryModes.length; i++) {
        await evil.dial(followerAddr())
        await waitFor(`summary request ${i + 1} from the follower`, () => summaries > i, 15_000, 100)
        await Promise.all(floods)
        for (const connection of evil.getConnections()) await connection.close().catch(() => {})
      }
      // and while it is connected, releases: every refresh asks it for files,
      // the next root at least (no one has it), and gets floods; one release
      // at least, four at most, until every file mode was tried
      await evil.dial(followerAddr())
      for (let i = 0; i < 4 && (i < 1 || files < fileModes.length); i++) {
        await publish(`1.2.${i}`, 3 + i)
        await waitHolds(`1.2.${i}`)
      }
      await Promise.all(floods)
    } finally {
      memory = rss.stop()
      await stopHostile(evil)
    }
    const results = await Promise.all(floods)
    const report = `${describeFloods(results)}\nfollower RSS ${memory.baseline.toFixed(0)} MiB before, ${memory.max.toFixed(0)} MiB at most`
    for (const mode of summaryModes) assert.ok(results.some(f => f.request === 'a summary' && f.mode === mode), `mode ${mode} was tried on a summary:\n${report}`)
    for (const mode of fileModes) assert.ok(results.some(f => f.request !== 'a summary' && f.mode === mode), `mode ${mode} was tried on a file:\n${report}`)
    assert.ok(results.some(f => f.request === rootWalk), `the follower's root walk asked the hostile peer for ${rootWalk}:\n${report}`)
    // a stream the follower closed before it asked anything carries no flood
    for (const f of results.filter(f => f.ended !== 'no request')) {
      assert.equal(f.ended, 'cut off', `every flood was cut off by the follower:\n${report}`)
      // by its read caps, not by a request's timeout: a few windows of data, within seconds
      // (what is in flight is up to a yamux window, 16 MiB, plus what the read caps allow)
      assert.ok(f.sent < 64 * MiB && f.ms < 5_000, `every flood was cut off early:\n${report}`)
    }
    assert.ok(memory.max < RSS_LIMIT_MIB, `the follower's RSS stays under ${RSS_LIMIT_MIB} MiB:\n${report}`)
    assert.ok(memory.max - memory.baseline < RSS_GROWTH_LIMIT_MIB, `the follower's RSS grows by less than ${RSS_GROWTH_LIMIT_MIB} MiB:\n${report}`)
    const id = evil.peerId.toString()
    assert.match(log(), new RegExp(`no summary from ${id}`), 'the follower logs the summaries it could not read')
    // it updated with the hostile peer asked all along: no refresh failed for its floods, and it was never set aside
    assert.doesNotMatch(log(), new RegExp(`refresh failed[^\\n]*${id}`), 'a flooding peer does not fail a refresh')
    assert.doesNotMatch(log(), new RegExp(`not believing [^\\n]*${id}`))
    assert.equal(await trustedVersion(), repo().signedOf('timestamp').version, 'the follower trusts the publisher\'s newest timestamp, not the hostile answers')
    assertNothingUntrustedStored()
    console.log(`# sync floods:\n${report}`)
  })

  it('cuts off a peer that answers chunk requests with more than a chunk and endless answers, and completes from the publisher', async () => {
    const floods: Array<Promise<Flood>> = []
    const big = pseudoRandom(MAX_CHUNK_SIZE + 1024, 78)
    const junk = pseudoRandom(64 * 1024, 79)
    const ffs = new Uint8Array(32 * 1024).fill(0xff)
    const modes = ['a chunk larger than the cap', 'huge length prefix', 'answers past the count', 'a length prefix that never ends']
    let count = 0
    // it claims to hold every release
    const evil = await hostile({ summary: () => ({ timestampVersion: 0, releases: Object.keys(repo().targets()) }), claimsPieces: true })
    await evil.unhandle(chunksProtocol(NETWORK))
    await evil.handle(chunksProtocol(NETWORK), async (stream: Stream) => {
      const run = (async (): Promise<Flood> => {
        let request: ChunksRequest
        try {
          request = await pbStream(stream, { maxDataLength: MAX_CHUNKS_REQUEST_BYTES }).read(ChunksRequest, { signal: AbortSignal.timeout(5_000) })
        } catch (err) {
          stream.abort(err as Error)
          return { mode: 'none', request: '?', sent: 0, ms: 0, ended: 'no request', detail: (err as Error).message }
        }
        const mode = modes[count++ % modes.length]
        const what = `a ${request.kind} of ${request.cids.length} chunks`
        const cids = request.cids.length > 0 ? request.cids : [new Uint8Array(36)]
        let result
        switch (mode) {
          case 'a chunk larger than the cap': {
            // fits the message cap (a chunk plus overhead), but holds more than a chunk may
            const answer = framed(ChunksResponse.encode({ code: ChunksResponse.Code.OK, error: '', bitfield: new Uint8Array(0), cid: cids[0], data: new Uint8Array(big) }))
            result = await flood(stream, answer, () => answer)
            break
          }
          case 'huge length prefix': result = await flood(stream, varint(2 ** 40), () => junk); break
          case 'answers past the count': {
            // NOT_FOUND for each CID in order, and then more, without end
            let i = 0
            const answers = (): Uint8Array => Buffer.concat(Array.from({ length: 128 }, () => framed(ChunksResponse.encode({ code: ChunksResponse.Code.NOT_FOUND, error: 'x'.repeat(400), bitfield: new Uint8Array(0), cid: cids[i++ % cids.length], data: new Uint8Array(0) }))))
            result = await flood(stream, answers(), answers)
            break
          }
          default: result = await flood(stream, ffs, () => ffs, 20)
        }
        return { mode, request: what, ...result }
      })()
      floods.push(run)
      await run
    }, { maxInboundStreams: 64, maxOutboundStreams: 64 })

    const pid = follower.child.pid!
    const rss = watchRss(pid)
    let memory = { baseline: 0, max: 0 }
    const versions: string[] = []
    try {
      await evil.dial(followerAddr())
      // the hostile peer claims every piece in the have exchange, so the swarm
      // asks it too (about two requests a release, before it is dropped for
      // that release); two releases at least, four at most, until every mode was tried
      for (let i = 0; i < 4 && (i < 2 || count < modes.length); i++) {
        const version = `1.${3 + i}.0`
        versions.push(version)
        await publish(version, 10 + i, 16 * MiB)
        await waitHolds(version)
      }
      await Promise.all(floods)
    } finally {
      memory = rss.stop()
      await stopHostile(evil)
    }
    const results = await Promise.all(floods)
    const report = `${describeFloods(results)}\nfollower RSS ${memory.baseline.toFixed(0)} MiB before, ${memory.max.toFixed(0)} MiB at most`
    assert.ok(results.length >= 2, `the hostile peer was asked for chunks:\n${report}\nfollower log:\n${log().slice(-3000)}`)
    for (const mode of modes) assert.ok(results.some(f => f.mode === mode), `mode ${mode} was tried:\n${report}`)
    // a stream the follower closed before it asked anything carries no flood
    for (const f of results.filter(f => f.ended !== 'no request')) {
      assert.equal(f.ended, 'cut off', `every flood was cut off by the follower:\n${report}`)
      // by its read caps, not by a request's timeout: a few windows of data, within seconds
      // (what is in flight is up to a yamux window, 16 MiB, plus what the read caps allow)
      assert.ok(f.sent < 64 * MiB && f.ms < 5_000, `every flood was cut off early:\n${report}`)
    }
    assert.ok(memory.max < RSS_LIMIT_MIB, `the follower's RSS stays under ${RSS_LIMIT_MIB} MiB:\n${report}`)
    assert.ok(memory.max - memory.baseline < RSS_GROWTH_LIMIT_MIB, `the follower's RSS grows by less than ${RSS_GROWTH_LIMIT_MIB} MiB:\n${report}`)
    assert.match(log(), new RegExp(`dropping ${evil.peerId.toString()} for release`), 'the chunk fetcher drops the hostile peer')
    for (const version of versions) assert.ok(await holds(version))
    assertNothingUntrustedStored()
    console.log(`# chunk floods:\n${report}`)
  })

  it('ignores announcements with no signature or signed by a key the root does not name', async () => {
    const evil = await hostile()
    try {
      evil.services.pubsub.subscribe(announceTopic(NETWORK))
      await evil.dial(followerAddr())
      await waitFor('the hostile peer in the follower\'s announce mesh', () => evil.services.pubsub.getSubscribers(announceTopic(NETWORK)).length > 0, 20_000, 200)
      const before = await trustedVersion()
      const id = evil.peerId.toString()
      const ignored = (): number => log().split('\n').filter(l => l.includes(`ignoring announcement from ${id}: signed by keys this node does not trust`)).length
      const newer = { ...repo().signedOf('timestamp'), version: before + 1000 }

      const unsigned = { signed: newer, signatures: [] }
      await evil.services.pubsub.publish(announceTopic(NETWORK), Buffer.from(JSON.stringify(unsigned)))
      await waitFor('the unsigned announcement ignored', () => ignored() >= 1, 10_000, 100)

      const stranger = generateRoleKey('timestamp')
      const wrongKey = new Metadata(Timestamp.fromJSON({ ...newer, version: before + 2000 }))
      signWith(wrongKey, [stranger])
      await evil.services.pubsub.publish(announceTopic(NETWORK), Buffer.from(JSON.stringify(wrongKey.toJSON())))
      await waitFor('the announcement signed by an unknown key ignored', () => ignored() >= 2, 10_000, 100)

      await new Promise(resolve => setTimeout(resolve, 1_000))
      assert.equal(await trustedVersion(), before, 'the trusted timestamp version does not change')
      assert.doesNotMatch(log(), new RegExp(`rejecting announcement from ${id}`), 'neither claims the trusted keys, so neither is rejected as forged')
      assertNothingUntrustedStored()
    } finally {
      await stopHostile(evil)
    }
  })
})
