/**
 * The sync protocol on real stream pairs over a real TUF repository, and
 * tuf-js's Updater refreshing through MeshFetcher between two libp2p nodes.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, cpSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { lpStream, pbStream, streamPair } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { Updater } from 'tuf-js'
import { DownloadHTTPError, DownloadLengthMismatchError } from 'tuf-js/dist/error.js'
import { fetchFile, fetchSummary } from '../../../protocols/sync/client.js'
import { MAX_SUMMARY_RELEASES, syncProtocol } from '../../../protocols/sync/constants.js'
import { sync } from '../../../protocols/sync/index.js'
import { SyncService } from '../../../protocols/sync/sync-service.js'
import { SyncRequest, SyncResponse } from '../../../protocols/sync/sync.js'
import { createClientNode } from '../../../src/network/client-node.js'
import { MESH_METADATA_URL, MESH_TARGETS_URL, MeshFetcher, meshPathOf } from '../../../src/trust/mesh-fetcher.js'
import { Repository, targetFilePath } from '../../../src/trust/repository.js'
import { tempDir } from '../../helpers/cli.js'
import type { SyncInit, SyncSummary } from '../../../protocols/sync/index.js'
import type { Connection, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

const PEER = '12D3KooWECDtH8SELx8Ztv9sSnjarqgNvdkRaAZR8kSc58FwqWZu'
const connection = { remotePeer: peerIdFromString(PEER) } as unknown as Connection
const RELEASE = 'releases/app/1.0.0.json'
const SECRET = 'the secret outside the mirror'

function service (extra: Partial<SyncInit> & Pick<SyncInit, 'mirrorRoot'>): SyncService {
  const registrar = { handle: async () => {}, unhandle: async () => {} } as any
  return new SyncService({ registrar, logger: defaultLogger() }, { network: 'test', summary: () => ({ timestampVersion: 0, releases: [] }), ...extra })
}

/** sends one raw request on a real stream pair and returns the answer */
async function ask (svc: SyncService, request: Partial<SyncRequest>): Promise<SyncResponse> {
  const [client, server] = await streamPair()
  const served = svc.handle(server, connection)
  const pb = pbStream(client, { maxDataLength: 128 * 1024 * 1024, maxBufferSize: 128 * 1024 * 1024 })
  await pb.write({ kind: SyncRequest.Kind.FILE, path: '', maxLength: 0n, ...request }, SyncRequest)
  const response = await pb.read(SyncResponse)
  await served
  return response
}

/** an opener whose every dial lands on the service through a fresh stream pair */
function openerFor (svc: SyncService | ((stream: Stream) => Promise<void>)): { dialProtocol: () => Promise<Stream> } {
  return {
    dialProtocol: async () => {
      const [client, server] = await streamPair()
      void (svc instanceof SyncService ? svc.handle(server, connection) : svc(server))
      return client
    }
  }
}

function sha256 (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

describe('sync protocol', () => {
  // AbortSignal.timeout does not hold the event loop open; in a daemon the sockets do, here this does
  let keepAlive: NodeJS.Timeout
  const tmp = tempDir('umesh-sync-')
  let repo: Repository
  let svc: SyncService
  const index = Buffer.from(JSON.stringify({ package: 'app', version: '1.0.0' }))
  const targetPath = (): string => `targets/${targetFilePath(RELEASE, sha256(index))}`

  before(() => {
    keepAlive = setInterval(() => {}, 1000)
    repo = Repository.init(join(tmp.path, 'repo'))
    repo.addTargets([{ path: RELEASE, bytes: index }])
    writeFileSync(join(tmp.path, 'secret.txt'), SECRET)
    mkdirSync(join(tmp.path, 'outside'))
    writeFileSync(join(tmp.path, 'outside', 'x.json'), SECRET)
    svc = service({ mirrorRoot: () => repo.dir })
  })
  after(() => {
    clearInterval(keepAlive)
    tmp.remove()
  })

  it('names the network in its protocol id', () => {
    assert.equal(syncProtocol('lab'), '/umesh/lab/sync/1.0.0')
    assert.equal(svc.protocol, '/umesh/test/sync/1.0.0')
  })

  it('serves every kind of metadata file, byte for byte', async () => {
    for (const name of ['root.json', '1.root.json', 'timestamp.json', '2.snapshot.json', '2.targets.json', '1.rollouts.json']) {
      const response = await ask(svc, { path: `metadata/${name}` })
      assert.equal(response.code, SyncResponse.Code.OK, `${name}: ${response.error}`)
      assert.deepEqual(Buffer.from(response.data), readFileSync(join(repo.metadataDir, name)), name)
    }
  })

  it('serves a target by its consistent-snapshot path, through the client', async () => {
    const bytes = await fetchFile(openerFor(svc), null as any, 'test', targetPath(), 1024)
    assert.deepEqual(Buffer.from(bytes), index)
  })

  it('serves a file larger than the stream buffer default (8 MiB)', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 7)
    const dir = join(tmp.path, 'big')
    mkdirSync(join(dir, 'targets'), { recursive: true })
    writeFileSync(join(dir, 'targets', 'big.bin'), big)
    const bytes = await fetchFile(openerFor(service({ mirrorRoot: () => dir })), null as any, 'test', 'targets/big.bin', big.length)
    assert.equal(sha256(bytes), sha256(big))
  })

  it('refuses paths outside the rules with BAD_REQUEST, reading nothing outside the mirror', async () => {
    const keyFile = readdirSync(repo.keysDir).find(f => f.startsWith('root-')) as string
    symlinkSync(join(tmp.path, 'secret.txt'), join(repo.targetsDir, 'releases', 'evil.json'))
    symlinkSync(join(tmp.path, 'outside'), join(repo.targetsDir, 'linked'))
    symlinkSync(join(repo.metadataDir, 'root.json'), join(repo.targetsDir, 'alias.json'))
    execFileSync('mkfifo', [join(repo.targetsDir, 'pipe.json')])
    const attacks = [
      '../repo.json', '/etc/passwd', 'repo.json', 'metadata/../keys/x.json', `keys/${keyFile}`, `targets/../keys/${keyFile}`,
      'metadata/../../secret.txt', 'metadata/root.json/../1.root.json', 'metadata/1.ROOT.json', 'metadata/x.root.json', 'metadata/keys.txt',
      'targets/releases/evil.json', 'targets/linked/x.json', 'targets/alias.json', 'targets/pipe.json', 'targets/releases',
      'targets/', 'targets//x', 'targets/./x', 'targets/a\\..\\b', '', 'metadata/', `targets/${'a'.repeat(300)}`
    ]
    for (const path of attacks) {
      const response = await ask(svc, { path })
      assert.equal(response.code, SyncResponse.Code.BAD_REQUEST, `${path}: ${response.code} ${response.error}`)
      assert.equal(response.data.byteLength, 0, path)
      assert.ok(!response.error.includes(SECRET), path)
      assert.match(response.error, /sync path .* refused: /, path)
    }
    const link = await ask(svc, { path: 'targets/linked/x.json' })
    assert.match(link.error, /"targets\/linked" is a symbolic link/)
    const file = await ask(svc, { path: 'targets/releases/evil.json' })
    assert.match(file.error, /the file is a symbolic link/)
    // the client refuses them too, before a stream is opened
    await assert.rejects(fetchFile({ dialProtocol: async () => { throw new Error('dialled') } }, null as any, 'test', '../repo.json', 10), { name: 'SyncPathError' })
  })

  it('answers NOT_FOUND for a file it does not hold, and the client throws SyncNotFoundError', async () => {
    for (const path of ['metadata/99.root.json', 'targets/releases/app/nope.json', 'targets/none/at/all.json']) {
      const response = await ask(svc, { path })
      assert.equal(response.code, SyncResponse.Code.NOT_FOUND, path)
    }
    await assert.rejects(fetchFile(openerFor(svc), null as any, 'test', 'metadata/3.root.json', 1000), { name: 'SyncNotFoundError' })
    const none = service({ mirrorRoot: () => undefined })
    assert.equal((await ask(none, { path: 'metadata/root.json' })).code, SyncResponse.Code.NOT_FOUND)
  })

  it('refuses a file over maxFileBytes, or over what the request allows, with TOO_LARGE', async () => {
    const small = service({ mirrorRoot: () => repo.dir, maxFileBytes: 100 })
    const response = await ask(small, { path: 'metadata/1.root.json' })
    assert.equal(response.code, SyncResponse.Code.TOO_LARGE)
    assert.match(response.error, /more than the 100 this node serves/)
    assert.equal(response.data.byteLength, 0)
    await assert.rejects(fetchFile(openerFor(svc), null as any, 'test', 'metadata/1.root.json', 50), (err: any) => err.name === 'SyncTooLargeError' && /more than the 50 the request allows/.test(err.message))
  })

  it('answers malformed, unknown and oversized requests with BAD_REQUEST', async () => {
    assert.equal((await ask(svc, { kind: SyncRequest.Kind.UNKNOWN })).code, SyncResponse.Code.BAD_REQUEST)
    const [client, server] = await streamPair()
    const served = svc.handle(server, connection)
    await lpStream(client, { maxDataLength: 1 << 20 }).write(new Uint8Array(20 * 1024))
    const response = await pbStream(client).read(SyncResponse)
    await served
    assert.equal(response.code, SyncResponse.Code.BAD_REQUEST)
    assert.match(response.error, /malformed sync request/)
  })

  it('client: cuts off a peer that sends more than maxLength', async () => {
    // a fake server that answers every request with `size` bytes of data
    const liar = (size: number) => async (stream: Stream): Promise<void> => {
      const pb = pbStream(stream, { maxDataLength: 1 << 24 })
      await pb.read(SyncRequest)
      try {
        await pb.write({ code: SyncResponse.Code.OK, error: '', data: new Uint8Array(size), timestampVersion: 0, releases: [] }, SyncResponse)
        await stream.close()
      } catch {}
    }
    await assert.rejects(fetchFile(openerFor(liar(110)), null as any, 'test', 'metadata/timestamp.json', 100), (err: any) => err.name === 'SyncOversizedResponseError' && /110 bytes .* more than the 100 asked for/.test(err.message))
    await assert.rejects(fetchFile(openerFor(liar(2 * 1024 * 1024)), null as any, 'test', 'metadata/timestamp.json', 1000), (err: any) => err.name === 'SyncOversizedResponseError' && /cut off/.test(err.message))
    assert.equal((await fetchFile(openerFor(liar(100)), null as any, 'test', 'metadata/timestamp.json', 100)).byteLength, 100)
  })

  it('answers SUMMARY with the callback\'s data, capped at 4096 releases', async () => {
    const summary: SyncSummary = { timestampVersion: 7, releases: ['releases/app/1.0.0.json', 'releases/db/2.json'] }
    const got = await fetchSummary(openerFor(service({ mirrorRoot: () => repo.dir, summary: () => summary })), null as any, 'test')
    assert.deepEqual(got, summary)
    const many = Array.from({ length: MAX_SUMMARY_RELEASES + 10 }, (_, i) => `releases/app/${i}.json`)
    const capped = await fetchSummary(openerFor(service({ mirrorRoot: () => repo.dir, summary: async () => ({ timestampVersion: 1, releases: many }) })), null as any, 'test')
    assert.equal(capped.releases.length, MAX_SUMMARY_RELEASES)
  })

  it('answers BUSY beyond the concurrent request cap', async () => {
    const busy = service({ mirrorRoot: () => repo.dir, maxConcurrent: 1 })
    const [firstClient, firstServer] = await streamPair()
    const first = busy.handle(firstServer, connection) // holds a slot: sends nothing yet
    await assert.rejects(fetchFile(openerFor(busy), null as any, 'test', 'metadata/root.json', 10_000), (err: any) => err.name === 'SyncRefusedError' && err.code === 'BUSY')
    await pbStream(firstClient).write({ kind: SyncRequest.Kind.SUMMARY, path: '', maxLength: 0n }, SyncRequest)
    await first
  })

  it('aborts a client that sends nothing, after the timeout', async () => {
    const slow = service({ mirrorRoot: () => repo.dir, timeout: 200 })
    const [client, server] = await streamPair()
    const started = Date.now()
    await slow.handle(server, connection)
    assert.ok(Date.now() - started >= 150)
    await assert.rejects(pbStream(client).read(SyncResponse, { signal: AbortSignal.timeout(2_000) }))
  })
})

describe('MeshFetcher', () => {
  let keepAlive: NodeJS.Timeout
  const tmp = tempDir('umesh-mesh-')
  let repo: Repository
  before(() => {
    keepAlive = setInterval(() => {}, 1000)
    repo = Repository.init(join(tmp.path, 'repo'))
    repo.addTargets([{ path: RELEASE, bytes: Buffer.from('{"package":"app"}') }])
  })
  after(() => {
    clearInterval(keepAlive)
    tmp.remove()
  })

  /** peers named by multiaddr, each served by its own service or unreachable */
  function meshOf (peers: Record<string, SyncService | 'down'>): { opener: any, addrs: Multiaddr[] } {
    const opener = {
      dialProtocol: async (peer: Multiaddr) => {
        const svc = peers[peer.toString()]
        if (svc === 'down' || svc == null) throw new Error(`could not dial ${peer.toString()}`)
        return await openerFor(svc).dialProtocol()
      }
    }
    return { opener, addrs: Object.keys(peers).map(a => multiaddr(a)) }
  }

  it('maps mesh URLs back to repository paths, and refuses others', () => {
    assert.equal(meshPathOf(`${MESH_METADATA_URL}/2.snapshot.json`), 'metadata/2.snapshot.json')
    assert.equal(meshPathOf(new URL(`${MESH_TARGETS_URL}/releases/my app/abc.1.0.json`).toString()), 'targets/releases/my app/abc.1.0.json')
    for (const url of ['https://example.com/metadata/1.root.json', 'umesh:/keys/x.json', 'umesh:/targets/a%2F..%2F..%2Fkeys/x', 'umesh://host/metadata/1.root.json', 'nonsense']) {
      assert.throws(() => meshPathOf(url), { name: 'MeshDownloadError' }, url)
    }
  })

  it('tries peers in order until one has the file, and records who served it', async () => {
    const empty = service({ mirrorRoot: () => join(tmp.path, 'empty') })
    const full = service({ mirrorRoot: () => repo.dir })
    const { opener, addrs } = meshOf({ '/ip4/10.0.0.1/tcp/1': 'down', '/ip4/10.0.0.2/tcp/1': empty, '/ip4/10.0.0.3/tcp/1': full })
    // one peer at a time: with several at once the full peer's answer can come before the empty one's NOT_FOUND, which is then not recorded
    const fetcher = new MeshFetcher({ opener, network: 'test', peers: () => addrs, parallel: 1 })
    const bytes = await fetcher.downloadBytes(`${MESH_METADATA_URL}/timestamp.json`, 16384)
    assert.deepEqual(bytes, readFileSync(join(repo.metadataDir, 'timestamp.json')))
    assert.equal(fetcher.servedBy().get('metadata/timestamp.json')?.toString(), '/ip4/10.0.0.3/tcp/1')
    assert.deepEqual([...fetcher.downloaded().keys()], ['metadata/timestamp.json'])
    assert.deepEqual(fetcher.failures().map(f => f.error.name), ['Error', 'SyncNotFoundError'])
  })

  it('throws DownloadHTTPError 404 when every peer that answered lacks the file', async () => {
    const full = service({ mirrorRoot: () => repo.dir })
    const { opener, addrs } = meshOf({ '/ip4/10.0.0.1/tcp/1': 'down', '/ip4/10.0.0.3/tcp/1': full })
    const fetcher = new MeshFetcher({ opener, network: 'test', peers: () => addrs })
    await assert.rejects(fetcher.downloadBytes(`${MESH_METADATA_URL}/2.root.json`, 1000), (err: any) => err instanceof DownloadHTTPError && err.statusCode === 404)
    // nobody answered at all: not a 404, the root walk must not end on it
    const down = meshOf({ '/ip4/10.0.0.1/tcp/1': 'down' })
    await assert.rejects(new MeshFetcher({ opener: down.opener, network: 'test', peers: () => down.addrs }).downloadBytes(`${MESH_METADATA_URL}/2.root.json`, 1000),
      (err: any) => err.name === 'MeshDownloadError' && !(err instanceof DownloadHTTPError) && err.attempts.length === 1)
    await assert.rejects(new MeshFetcher({ opener, network: 'test', peers: () => [] }).downloadBytes(`${MESH_METADATA_URL}/timestamp.json`, 1000), /no peer to fetch metadata\/timestamp.json/)
  })

  it('throws DownloadLengthMismatchError when the file is longer than allowed', async () => {
    const { opener, addrs } = meshOf({ '/ip4/10.0.0.3/tcp/1': service({ mirrorRoot: () => repo.dir }) })
    const fetcher = new MeshFetcher({ opener, network: 'test', peers: () => addrs })
    await assert.rejects(fetcher.downloadBytes(`${MESH_METADATA_URL}/1.root.json`, 10), DownloadLengthMismatchError)
  })

  it('downloadFile hands the handler a private file it removes afterwards, and lists the target once accepted', async () => {
    const { opener, addrs } = meshOf({ '/ip4/10.0.0.3/tcp/1': service({ mirrorRoot: () => repo.dir }) })
    const fetcher = new MeshFetcher({ opener, network: 'test', peers: () => addrs })
    const target = targetFilePath(RELEASE, repo.targets()[RELEASE].hashes.sha256)
    let seen = ''
    const mode = await fetcher.downloadFile(`${MESH_TARGETS_URL}/${target}`, 1000, async (file) => {
      seen = file
      return readFileSync(file, 'utf8') === '{"package":"app"}' ? (await import('node:fs')).statSync(file).mode & 0o777 : -1
    })
    assert.equal(mode, 0o600)
    assert.throws(() => readFileSync(seen), { code: 'ENOENT' })
    assert.ok(fetcher.downloaded().has(`targets/${target}`))
    const rejecting = new MeshFetcher({ opener, network: 'test', peers: () => addrs })
    await assert.rejects(rejecting.downloadFile(`${MESH_TARGETS_URL}/${target}`, 1000, async () => { throw new Error('hash mismatch') }), /hash mismatch/)
    assert.equal(rejecting.downloaded().size, 0, 'a target the handler refused is not listed')
  })
})

describe('tuf-js Updater through MeshFetcher between libp2p nodes', () => {
  const tmp = tempDir('umesh-sync-e2e-')
  const index = Buffer.from(JSON.stringify({ package: 'app', version: '1.0.0', files: [] }))
  let repo: Repository
  let mirror = ''
  let server: Awaited<ReturnType<typeof createLibp2p>>
  let client: Awaited<ReturnType<typeof createClientNode>>

  before(async () => {
    repo = Repository.init(join(tmp.path, 'repo'))
    repo.addTargets([{ path: RELEASE, bytes: index }])
    repo.rotate('timestamp') // a second root: the client walks 1 → 2 and ends on "no 3.root.json"
    mirror = repo.dir
    server = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { sync: sync({ network: 'test', mirrorRoot: () => mirror, summary: () => ({ timestampVersion: repo.signedOf('timestamp').version, releases: [RELEASE] }) }) }
    })
    client = await createClientNode()
  })
  after(async () => {
    await client?.stop()
    await server?.stop()
    tmp.remove()
  })

  function updater (name: string): { updater: Updater, fetcher: MeshFetcher } {
    const dir = join(tmp.path, name)
    mkdirSync(join(dir, 'metadata'), { recursive: true })
    mkdirSync(join(dir, 'targets'), { recursive: true })
    copyFileSync(join(repo.metadataDir, '1.root.json'), join(dir, 'metadata', 'root.json'))
    const dead = multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${PEER}`)
    const fetcher = new MeshFetcher({ opener: client, network: 'test', peers: () => [dead, server.getMultiaddrs()[0]], timeoutMs: 5_000 })
    return { fetcher, updater: new Updater({ metadataDir: join(dir, 'metadata'), metadataBaseUrl: MESH_METADATA_URL, targetDir: join(dir, 'targets'), targetBaseUrl: MESH_TARGETS_URL, fetcher }) }
  }

  it('refreshes the trust chain from a peer and downloads a target', async () => {
    const { updater: u, fetcher } = updater('c1')
    await u.refresh()
    const info = await u.getTargetInfo(RELEASE)
    assert.ok(info != null)
    const path = await u.downloadTarget(info, join(tmp.path, 'c1', 'index.json'))
    assert.deepEqual(readFileSync(path), index)
    const got = [...fetcher.downloaded().keys()].sort()
    const snapshot = repo.signedOf('snapshot').version
    assert.deepEqual(got, ['metadata/2.root.json', `metadata/${snapshot}.snapshot.json`, 'metadata/2.targets.json', 'metadata/timestamp.json', `targets/${targetFilePath(RELEASE, sha256(index))}`].sort())
    for (const [p, bytes] of fetcher.downloaded()) assert.deepEqual(Buffer.from(bytes), readFileSync(join(repo.dir, p)), p)
    assert.ok([...fetcher.servedBy().values()].every(p => p.toString() === server.getMultiaddrs()[0].toString()))
    assert.ok(fetcher.failures().some(f => f.peer.toString().startsWith('/ip4/127.0.0.1/tcp/1/')), 'the unreachable first candidate was tried and skipped')
    assert.ok(fetcher.failures().some(f => f.path === 'metadata/3.root.json' && f.error.name === 'SyncNotFoundError'), 'the root walk ended on NOT_FOUND')
    const summary = await fetchSummary(client, server.getMultiaddrs()[0], 'test')
    assert.deepEqual(summary.releases, [RELEASE])
  })

  it('fails the refresh when the serving peer\'s metadata is tampered with', async () => {
    mirror = join(tmp.path, 'tampered')
    cpSync(repo.dir, mirror, { recursive: true })
    const snapshot = `metadata/${repo.signedOf('snapshot').version}.snapshot.json`
    const file = join(mirror, snapshot)
    const md = JSON.parse(readFileSync(file, 'utf8'))
    md.signed.expires = '2099-01-01T00:00:00Z'
    writeFileSync(file, JSON.stringify(md))
    const { updater: u, fetcher } = updater('c2')
    await assert.rejects(u.refresh(), /snapshot/i)
    assert.ok(fetcher.downloaded().has(snapshot), 'the bad file came from the peer, and the caller knows from whom')
  })

  it('refuses a tampered target file', async () => {
    mirror = join(tmp.path, 'tampered-target')
    cpSync(repo.dir, mirror, { recursive: true })
    writeFileSync(join(mirror, 'targets', targetFilePath(RELEASE, sha256(index))), Buffer.from(index.toString().replace('1.0.0', '6.6.6')))
    const { updater: u, fetcher } = updater('c3')
    await u.refresh()
    const info = await u.getTargetInfo(RELEASE)
    assert.ok(info != null)
    await assert.rejects(u.downloadTarget(info, join(tmp.path, 'c3', 'index.json')))
    assert.ok(![...fetcher.downloaded().keys()].some(p => p.startsWith('targets/')))
  })
})
