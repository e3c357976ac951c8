/**
 * Bad input against the real CLI and a real daemon: broken config, bad
 * flags, a second daemon on one data dir, a tampered key, malformed and
 * oversized status requests. Each gets its clear error and exit code, and
 * nothing on disk is damaged.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { lpStream, pbStream } from '@libp2p/utils'
import { LevelDatastore } from 'datastore-level'
import { multiaddr } from '@multiformats/multiaddr'
import { StatusRequest, StatusResponse, fetchStatus, statusProtocol } from '../../protocols/status/index.js'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { MeshProcess } from '../../src/demo/local-mesh.js'
import { identityPath } from '../../src/identity/index.js'
import { createClientNode } from '../../src/network/client-node.js'
import { runCli, tempDir } from '../helpers/cli.js'
import type { Libp2p, StreamCloseEvent } from '@libp2p/interface'

const LOCAL = ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns']

function sha256 (path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

/** one clear line on stderr, no stack trace */
function oneLine (stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n').filter(l => l !== '')
  const last = lines[lines.length - 1] ?? ''
  assert.match(last, pattern)
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace without --verbose')
}

describe('bad config and flags', () => {
  const tmp = tempDir('umesh-bad-')
  after(() => { tmp.remove() })

  const cases: Array<[string, unknown, RegExp]> = [
    ['unknown key', { maxConections: 5 }, /maxConections: unknown key/],
    ['wrong type', { maxConnections: 'lots' }, /maxConnections: expected an integer from 1 to 10000, found "lots"/],
    ['bad multiaddr', { listen: ['/ip4/1.2.3/tcp/x'] }, /listen\[0\]: expected a multiaddr/],
    ['bootstrap without peer id', { bootstrap: ['/ip4/127.0.0.1/tcp/4090'] }, /bootstrap\[0\]: expected a multiaddr ending in \/p2p\/<peer id>/],
    ['not JSON', '{"network": "x",', /not valid JSON/]
  ]
  for (const [name, content, message] of cases) {
    it(`exits 2 on a config file with ${name}, naming the field`, async () => {
      const dataDir = join(tmp.path, name.replace(/\W/g, '-'))
      const file = join(tmp.path, `${name.replace(/\W/g, '-')}.json`)
      writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
      const before = readFileSync(file)
      const result = await runCli(['node', '--data-dir', dataDir, '--config', file, ...LOCAL])
      assert.equal(result.code, 2, result.stderr)
      oneLine(result.stderr, message)
      assert.match(result.stderr, /phase "config" failed/)
      assert.deepEqual(readFileSync(file), before, 'the config file is untouched')
      assert.equal(existsSync(identityPath(dataDir)), false, 'no key is created when the config is bad')
    })
  }

  it('exits 2 on a missing config file', async () => {
    const result = await runCli(['node', '--data-dir', join(tmp.path, 'missing'), '--config', join(tmp.path, 'nope.json'), ...LOCAL])
    assert.equal(result.code, 2)
    oneLine(result.stderr, /nope\.json: file not found/)
  })

  it('exits 2 on an unknown flag or command, 0 on --help', async () => {
    const flag = await runCli(['node', '--lisen', '/ip4/127.0.0.1/tcp/0'])
    assert.equal(flag.code, 2)
    oneLine(flag.stderr, /Unknown option '--lisen'.*umesh node --help/)
    const cmd = await runCli(['nodes'])
    assert.equal(cmd.code, 2)
    oneLine(cmd.stderr, /unknown command "nodes"/)
    const help = await runCli(['node', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /--max-inbound-per-ip N/)
  })

  it('shows the stack with --verbose', async () => {
    const result = await runCli(['node', '--verbose', '--data-dir', join(tmp.path, 'v'), '--config', join(tmp.path, 'nope.json'), ...LOCAL])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /\n\s+at /)
  })

  it('exits 1 when asked for the status of a data dir with no daemon', async () => {
    const result = await runCli(['status', '--data-dir', join(tmp.path, 'empty')])
    assert.equal(result.code, 1)
    oneLine(result.stderr, /no daemon is running on/)
  })

  it('exits 1 at the keys phase when the stored peer id does not match the key, and leaves the file alone', async () => {
    const dataDir = join(tmp.path, 'tampered')
    const first = await runCli(['keys', 'init', '--data-dir', dataDir])
    assert.equal(first.code, 0)
    const other = await runCli(['keys', 'init', '--data-dir', join(tmp.path, 'other')])
    const file = JSON.parse(readFileSync(identityPath(dataDir), 'utf8'))
    writeFileSync(identityPath(dataDir), JSON.stringify({ ...file, peerId: other.stdout.trim() }), { mode: 0o600 })
    const hash = sha256(identityPath(dataDir))
    const result = await runCli(['node', '--data-dir', dataDir, ...LOCAL])
    assert.equal(result.code, 1)
    oneLine(result.stderr, /phase "keys" failed: .*does not match the key/)
    assert.equal(sha256(identityPath(dataDir)), hash)
    const show = await runCli(['keys', 'show', '--data-dir', dataDir])
    assert.equal(show.code, 1)
  })
})

describe('a running daemon under bad input', () => {
  const tmp = tempDir('umesh-bad-daemon-')
  const dataDir = join(tmp.path, 'node')
  let daemon: MeshProcess
  let client: Libp2p
  let network: string
  let addrs: ReturnType<typeof multiaddr>[]

  before(async () => {
    mkdirSync(dataDir, { recursive: true })
    daemon = new MeshProcess('node', 'node', dataDir, LOCAL, join(tmp.path, 'node.log'))
    await daemon.waitReady()
    const info = readDaemonFile(dataDir)
    network = info.network
    addrs = info.addrs.map(a => multiaddr(a))
    client = await createClientNode()
  })

  after(async () => {
    await daemon?.stop()
    await client?.stop()
    tmp.remove()
  })

  it('refuses a second daemon on the same data dir, and the first keeps its files and keeps running', async () => {
    const key = sha256(identityPath(dataDir))
    const daemonFile = readFileSync(join(dataDir, 'daemon.json'), 'utf8')
    const result = await runCli(['node', '--data-dir', dataDir, ...LOCAL])
    assert.equal(result.code, 1)
    oneLine(result.stderr, new RegExp(`phase "core" failed: data dir .* is in use by another daemon \\(pid ${String(daemon.child.pid)}\\)`))
    assert.equal(sha256(identityPath(dataDir)), key)
    assert.equal(readFileSync(join(dataDir, 'daemon.json'), 'utf8'), daemonFile)
    assert.ok(daemon.running)
    assert.equal((await fetchStatus(client, addrs, network)).peerId, daemon.peerId)
  })

  it('answers a malformed status request with BAD_REQUEST over the network', async () => {
    const stream = await client.dialProtocol(addrs, statusProtocol(network), { signal: AbortSignal.timeout(5_000) })
    await lpStream(stream).write(Uint8Array.from([0x08, 0xff]))
    const response = await pbStream(stream).read(StatusResponse, { signal: AbortSignal.timeout(5_000) })
    assert.equal(response.code, StatusResponse.Code.BAD_REQUEST)
    assert.match(response.error, /malformed status request/)
    await stream.close()
  })

  it('answers an oversized status request with BAD_REQUEST over the network', async () => {
    const stream = await client.dialProtocol(addrs, statusProtocol(network), { signal: AbortSignal.timeout(5_000) })
    const closed = new Promise<StreamCloseEvent>(resolve => { stream.addEventListener('close', resolve, { once: true }) })
    // the node answers as soon as it has read the length prefix, and resets
    // the stream once the rest passes its limit: the write may fail, the answer must come first
    const writing = lpStream(stream, { maxDataLength: 1 << 22 }).write(new Uint8Array(1 << 20).fill(7)).catch(() => {})
    const response = await pbStream(stream).read(StatusResponse, { signal: AbortSignal.timeout(5_000) })
    await writing
    assert.equal(response.code, StatusResponse.Code.BAD_REQUEST)
    assert.match(response.error, /at most \d+ bytes/)
    const end = await Promise.race([closed, new Promise<undefined>(resolve => setTimeout(() => { resolve(undefined) }, 5_000))])
    assert.equal(end?.error?.name, 'StreamResetError', 'the node cut off a client that went on sending past its limit')
  })

  it('answers a request from the wrong revision with BAD_REQUEST, then serves a good one', async () => {
    const stream = await client.dialProtocol(addrs, statusProtocol(network), { signal: AbortSignal.timeout(5_000) })
    const pb = pbStream(stream)
    await pb.write({ revision: 7 }, StatusRequest)
    assert.equal((await pb.read(StatusResponse)).code, StatusResponse.Code.BAD_REQUEST)
    await stream.close()
    assert.ok(daemon.running, 'the daemon survived every bad request')
    assert.equal((await fetchStatus(client, addrs, network)).phase, 'ready')
  })

  it('does not speak to a client of another network', async () => {
    await assert.rejects(fetchStatus(client, addrs, 'other-net', { signal: AbortSignal.timeout(5_000) }), /protocol selection failed|not supported|UnsupportedProtocol/i)
  })

  it('forgets throw-away status clients instead of keeping them in its peer store', async () => {
    for (let i = 0; i < 5; i++) {
      const once = await createClientNode()
      await fetchStatus(once, addrs, network)
      await once.stop()
    }
    await client.hangUp(addrs[0]).catch(() => {})
    await new Promise(resolve => setTimeout(resolve, 500))
    assert.equal(await daemon.stop(), 0)
    const store = new LevelDatastore(join(dataDir, 'datastore'))
    await store.open()
    let peers = 0
    for await (const _ of store.queryKeys({ prefix: '/peers/' })) peers++
    await store.close()
    // at most the node's own record: six status clients came and went
    assert.ok(peers <= 1, `${peers} peer records left in the store`)
  })
})
