/**
 * A refresh through peers with a static HTTP mirror behind them
 * (refreshThroughPeers + MirroredFetcher + HttpMirror), against a real TUF
 * repository served by a node:http server on 127.0.0.1:
 *
 * - no peer at all: the metadata and the index come from the mirror and
 *   verify (the root walk ends on the mirror's 404);
 * - a peer that never answers: the mirror is asked after mirrorAfterMs, not
 *   after the peer's 30 s timeout;
 * - a mirror serving a timestamp with a broken signature: the refresh fails
 *   with tuf-js's error, the mirror is named in the log and not asked again
 *   for a while, and the metadata the node trusted before is untouched.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join, normalize } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { dataPaths } from '../../../src/data-dir/index.js'
import { NodeTrust } from '../../../src/follow/node-trust.js'
import { refreshThroughPeers } from '../../../src/follow/refresh.js'
import { HttpMirror } from '../../../src/trust/http-mirror.js'
import { Repository } from '../../../src/trust/repository.js'
import { captureLogger } from '../../helpers/capture-logger.js'
import { tempDir } from '../../helpers/cli.js'
import { addTreeRelease, repoTimestamp, signedHash } from '../../helpers/release-repo.js'
import type { StreamOpener } from '../../../protocols/shared/index.js'
import type { PeerId } from '@libp2p/interface'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

const NETWORK = 'test'

describe('refreshing through a static HTTP mirror', { timeout: 60_000 }, () => {
  const tmp = tempDir('umesh-mirror-refresh-')
  const repoDir = join(tmp.path, 'repo')
  let server: Server
  let url: string
  /** path -> bytes served instead of the file */
  const overrides = new Map<string, Buffer>()
  const requests: string[] = []
  let targetPath = ''
  let dirs = 0

  before(async () => {
    const repo = Repository.init(repoDir)
    targetPath = (await addTreeRelease(repo, tmp.path, 'app', '1.0.0')).targetPath
    server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
      requests.push(path)
      const override = overrides.get(path)
      if (override != null) { res.end(override); return }
      const file = normalize(join(repoDir, path))
      if (!file.startsWith(repoDir + '/') || /\/(keys|\.)/.test(path)) { res.writeHead(404).end(); return }
      try { res.end(readFileSync(file)) } catch { res.writeHead(404).end() }
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  })

  after(() => {
    server.closeAllConnections()
    server.close()
    tmp.remove()
  })

  const node = (): NodeTrust => {
    const paths = dataPaths(join(tmp.path, `node-${++dirs}`))
    mkdirSync(paths.root, { recursive: true })
    const trust = new NodeTrust(paths)
    trust.init(join(repoDir, 'metadata', '1.root.json'))
    return trust
  }

  /** an opener whose dials never connect: they end only when aborted */
  const silent: StreamOpener = {
    dialProtocol: async (_peer: unknown, _protocol: string, options?: { signal?: AbortSignal }) => await new Promise((_resolve, reject) => {
      options?.signal?.addEventListener('abort', () => { reject(options.signal?.reason) }, { once: true })
    })
  }

  const refresh = async (trust: NodeTrust, mirror: HttpMirror, peers: PeerId[] = [], afterMs = 500): Promise<{ result: Awaited<ReturnType<typeof refreshThroughPeers>>, lines: string[] }> => {
    const { components, lines } = captureLogger()
    const result = await refreshThroughPeers({
      opener: silent,
      network: NETWORK,
      trust,
      peers: () => peers,
      suspects: new Map(),
      signal: AbortSignal.timeout(40_000),
      log: components.forComponent('umesh:follower'),
      mirror,
      mirrorAfterMs: afterMs
    })
    return { result, lines }
  }

  it('with no peer, takes the metadata and the release index from the mirror, verified', async () => {
    const trust = node()
    const mirror = new HttpMirror({ urls: [url] })
    const { result } = await refresh(trust, mirror)
    assert.equal(trust.timestampVersion(), repoTimestamp(repoDir).version)
    assert.ok(trust.targets()[targetPath] != null, 'the trusted targets list the release')
    const served = result.fetcher.mirrorServed()
    for (const path of ['metadata/timestamp.json', 'metadata/2.root.json']) assert.equal(served.includes(path), path === 'metadata/timestamp.json', path)
    assert.ok(served.some(p => /^metadata\/\d+\.snapshot\.json$/.test(p)) && served.some(p => /^metadata\/\d+\.targets\.json$/.test(p)), served.join(', '))
    // the index, through the same fetcher: tuf-js checks its signed length and hash
    const info = await result.updater.getTargetInfo(targetPath)
    assert.ok(info != null)
    const file = join(tmp.path, 'index.json')
    await result.updater.downloadTarget(info, file)
    assert.equal(info.hashes.sha256, signedHash(repoDir, targetPath))
    assert.ok(mirror.counters.metadataBytes > 0)
  })

  it('asks the mirror after mirrorAfterMs when the peers do not answer', async () => {
    const trust = node()
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const started = Date.now()
    const { lines } = await refresh(trust, new HttpMirror({ urls: [url] }), [peer], 300)
    assert.equal(trust.timestampVersion(), repoTimestamp(repoDir).version)
    assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms: the mirror waited for the peer's timeout`)
    assert.ok(lines.some(l => /from the mirror \(peers had not answered after 300 ms\)/.test(l)), lines.join('\n'))
  })

  it('does not believe a mirror whose timestamp does not verify, and keeps what the node trusted', async () => {
    const trust = node()
    await refresh(trust, new HttpMirror({ urls: [url] }))
    const before = readFileSync(join(trust.metadataDir, 'timestamp.json'))
    // the repository's timestamp made newer, which breaks its signature
    const ts = JSON.parse(readFileSync(join(repoDir, 'metadata', 'timestamp.json'), 'utf8'))
    ts.signed.version += 10
    overrides.set('/metadata/timestamp.json', Buffer.from(JSON.stringify(ts)))
    try {
      const mirror = new HttpMirror({ urls: [url] })
      const { components, lines } = captureLogger()
      await assert.rejects(refreshThroughPeers({
        opener: silent, network: NETWORK, trust, peers: () => [], suspects: new Map(), signal: AbortSignal.timeout(40_000), log: components.forComponent('umesh:follower'), mirror, mirrorAfterMs: 300
      }), (err: Error) => /signed by 0\/1 keys/.test(err.message))
      assert.equal(mirror.available, false, 'the mirror is not asked again for a while')
      assert.ok(lines.some(l => /not believing the mirror .* metadata\/timestamp\.json it served did not verify/.test(l)), lines.join('\n'))
      assert.deepEqual(readFileSync(join(trust.metadataDir, 'timestamp.json')), before, 'the trusted timestamp is untouched')
    } finally {
      overrides.clear()
    }
  })
})
