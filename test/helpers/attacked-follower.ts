/**
 * A real follower process with data, for attacks from hostile peers in the
 * test process that speak the real protocols. The repository has two root
 * keys (threshold 2) and a first root rotation the follower walks honestly;
 * an honest publisher serves it; the follower holds app 1.0.0 before the
 * tests start. Also the test's view of the follower (status, log, what it
 * stores) and a factory for hostile peers, stopped with the rest.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { after, before } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { Metadata, MetadataKind } from '@tufjs/models'
import { MemoryDatastore } from 'datastore-core'
import { base32upper } from 'multiformats/bases/base32'
import { fetchStatus } from '../../protocols/status/index.js'
import { defaults } from '../../src/config/index.js'
import { chunkCid } from '../../src/content/index.js'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { LocalMesh, MeshProcess } from '../../src/demo/local-mesh.js'
import { createClientNode } from '../../src/network/client-node.js'
import { createMeshNode } from '../../src/network/create-node.js'
import { Repository } from '../../src/trust/repository.js'
import { pseudoRandomBytes as pseudoRandom } from '../../src/util/pseudo-random.js'
import { runCli, tempDir, waitFor } from './cli.js'
import { claimsEveryPiece } from './have-claims.js'
import type { StatusResponse } from '../../protocols/status/index.js'
import type { SyncSummary } from '../../protocols/sync/index.js'
import type { MeshNode } from '../../src/network/create-node.js'
import type { Libp2p } from '@libp2p/interface'

const MiB = 1024 * 1024

/** what the hostile peer serves */
export interface HostileContent { mirrorRoot?: () => string | undefined, summary?: () => SyncSummary, claimsPieces?: boolean }

export interface AttackedFollower {
  tmp: { path: string, remove: () => void }
  repoDir: string
  followerDir: string
  /** the follower's process, once `before` has started it */
  followerProcess: () => MeshProcess
  trustedVersion: () => Promise<number>
  holds: (version: string) => Promise<boolean>
  /** the whole follower log (MeshProcess.output keeps only its first 256 KiB) */
  log: () => string
  repo: () => Repository
  publish: (version: string, seed: number, size?: number) => Promise<void>
  waitHolds: (version: string) => Promise<void>
  hostile: (content?: HostileContent) => Promise<MeshNode>
  followerAddr: () => ReturnType<typeof multiaddr>
  stopHostile: (node: MeshNode) => Promise<void>
  assertNothingUntrustedStored: () => void
}

function filesUnder (dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter(e => e.isFile()).map(e => join(e.parentPath, e.name))
}

/** call inside a `describe`: starts the publisher and the follower in `before`, stops everything in `after` */
export function attackedFollower (): AttackedFollower {
  const tmp = tempDir('umesh-attacks-data-')
  const repoDir = join(tmp.path, 'repo')
  const src = join(tmp.path, 'src')
  const followerLog = join(tmp.path, 'follower.log')
  const mesh = new LocalMesh({ dir: join(tmp.path, 'mesh'), nodes: 0 })
  const hostiles: MeshNode[] = []
  let client: Libp2p
  let publisher: MeshProcess
  let follower: MeshProcess
  const followerDir = join(tmp.path, 'follower')

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
    // a 16 MiB release on a loaded CI machine (both lanes, a flood in progress) took more than runCli's default 20 s
    const r = await runCli(['release', 'add', src, '--repo', repoDir, '--package', 'app', '--version', version], { timeoutMs: 90_000 })
    assert.equal(r.code, 0, `release add ${version}${r.code == null ? ' was killed after 90 s' : ''}: ${r.stderr}`)
  }
  const waitHolds = async (version: string): Promise<void> => {
    await waitFor(`the follower holding ${version}`, async () => await holds(version), 45_000, 300)
      .catch(err => { throw new Error(`${(err as Error).message}\nfollower log:\n${log().slice(-4000)}`) })
  }

  /** a hostile peer with the real protocols, serving what `content` says */
  const hostile = async (content: HostileContent = {}): Promise<MeshNode> => {
    const node = (await createMeshNode({
      config: { ...defaults(), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, maxInboundPerIp: 1000 },
      role: 'node',
      privateKey: await generateKeyPair('Ed25519'),
      datastore: new MemoryDatastore(),
      version: '0.0.0-evil',
      report: () => { throw new Error('no status') },
      serve: {
        mirrorRoot: content.mirrorRoot ?? (() => undefined),
        summary: content.summary ?? (() => ({ timestampVersion: 0, releases: [] })),
        store: { has: async () => false, get: async () => { throw Object.assign(new Error('none'), { name: 'ChunkNotFoundError' }) } } as any
      },
      ...(content.claimsPieces === true ? { swarm: claimsEveryPiece } : {})
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
    follower = new MeshProcess('follower', 'node', followerDir, [...mesh.nodeArgs(), '--trusted-root', join(repoDir, 'metadata', '1.root.json'), '--follow', 'app'],
      followerLog, { DEBUG: 'umesh:follower,umesh:content,umesh:announce,umesh:announce:trace,umesh:swarm,umesh:peers' })
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

  return { tmp, repoDir, followerDir, followerProcess: () => follower, trustedVersion, holds, log, repo, publish, waitHolds, hostile, followerAddr, stopHostile, assertNothingUntrustedStored }
}
