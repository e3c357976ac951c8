import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createCipheriv, createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { FsBlockstore } from 'blockstore-fs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { chunkCid, ChunkStore, decodeChunkCid, formatChunkCid, openChunkStore, parseChunkCid, verifyChunk } from '../../../src/content/index.js'
import { tempDir } from '../../helpers/cli.js'

const KiB = 1024
const MiB = 1024 * 1024

function seeded (seed: string, length: number): Uint8Array {
  const key = createHash('sha256').update(seed).digest()
  return new Uint8Array(createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length)))
}

function tmpFiles (store: ChunkStore): string[] {
  return readdirSync(join(store.path, '.tmp'))
}

describe('chunk CIDs', () => {
  const bytes = seeded('cid', 1000)

  it('are CIDv1 raw sha2-256, the same as multiformats computes', async () => {
    const cid = chunkCid(bytes)
    assert.equal(cid.toString(), CID.createV1(raw.code, await sha256.digest(bytes)).toString())
    assert.match(formatChunkCid(cid), /^bafkrei[a-z2-7]{52}$/)
    assert.ok(parseChunkCid(formatChunkCid(cid)).equals(cid))
    assert.ok(decodeChunkCid(cid.bytes).equals(cid))
  })

  it('verify only the bytes they name', () => {
    const cid = chunkCid(bytes)
    assert.equal(verifyChunk(cid, bytes), true)
    const flipped = Uint8Array.from(bytes)
    flipped[500] ^= 1
    assert.equal(verifyChunk(cid, flipped), false)
    assert.equal(verifyChunk(cid, bytes.subarray(1)), false)
    assert.equal(verifyChunk(CID.createV1(0x70, cid.multihash), bytes), false, 'same hash, not the raw codec')
  })

  it('refuse text that is not a chunk CID, naming what was found', () => {
    const v0 = CID.createV0(chunkCid(bytes).multihash as any).toString()
    for (const text of ['', 'hello', v0, CID.createV1(0x70, chunkCid(bytes).multihash).toString()]) {
      assert.throws(() => parseChunkCid(text), (err: any) => err.name === 'InvalidChunkCidError' && /expected a chunk CID/.test(err.message), text)
    }
  })
})

describe('chunk store', () => {
  const tmp = tempDir()
  after(() => { tmp.remove() })
  const bytes = seeded('chunk', 200 * KiB)
  const cid = chunkCid(bytes)

  it('puts, has, gets and deletes a chunk', async () => {
    const store = await openChunkStore(join(tmp.path, 'basic'))
    assert.equal(await store.has(cid), false)
    assert.equal(await store.put(cid, bytes), true)
    assert.equal(await store.put(cid, bytes), false, 'a second put finds it there')
    assert.equal(await store.has(cid), true)
    assert.deepEqual(await store.get(cid), bytes)
    await store.delete(cid)
    assert.equal(await store.has(cid), false)
    await assert.rejects(store.get(cid), (err: any) => err.name === 'ChunkNotFoundError')
    await store.delete(cid) // deleting what is not there is fine
  })

  it('refuses bytes that do not match their CID and writes nothing', async () => {
    const store = await openChunkStore(join(tmp.path, 'mismatch'))
    const wrong = Uint8Array.from(bytes)
    wrong[0] ^= 0xff
    await assert.rejects(store.put(cid, wrong), (err: any) => err.name === 'ChunkHashMismatchError' && err.message.includes(chunkCid(wrong).toString()))
    assert.equal(await store.has(cid), false)
    assert.equal(existsSync(store.pathOf(cid)), false)
    assert.deepEqual(tmpFiles(store), [])
  })

  it('refuses a chunk over the size cap, even with a matching CID', async () => {
    const store = await openChunkStore(join(tmp.path, 'cap'), { maxChunkSize: 100 * KiB, chunker: { minSize: 8 * KiB, avgSize: 32 * KiB, maxSize: 100 * KiB } })
    await assert.rejects(store.put(cid, bytes), (err: any) => err.name === 'ChunkTooLargeError' && /at most 102400 bytes, found 204800/.test(err.message))
    assert.equal(await store.has(cid), false)
    const small = bytes.subarray(0, 100 * KiB)
    assert.equal(await store.put(chunkCid(small), small), true, 'exactly the cap is fine')
    // the default cap is 1 MiB
    const big = seeded('big', MiB + 1)
    const defaults = await openChunkStore(join(tmp.path, 'cap-default'))
    await assert.rejects(defaults.put(chunkCid(big), big), (err: any) => err.name === 'ChunkTooLargeError')
  })

  it('refuses a chunker whose chunks it would refuse', () => {
    assert.throws(() => new ChunkStore(join(tmp.path, 'x'), { maxChunkSize: 512 * KiB }), (err: any) => err.name === 'ChunkerOptionsError' && /maxChunkSize/.test(err.message))
  })

  it('refuses CIDs that do not name chunks', async () => {
    const store = await openChunkStore(join(tmp.path, 'codec'))
    const dagPb = CID.createV1(0x70, cid.multihash)
    await assert.rejects(store.put(dagPb, bytes), (err: any) => err.name === 'InvalidChunkCidError')
    await assert.rejects(store.get(dagPb), (err: any) => err.name === 'InvalidChunkCidError')
  })

  it('reports a damaged file at get, removes it, and takes the chunk again', async () => {
    const store = await openChunkStore(join(tmp.path, 'corrupt'))
    await store.put(cid, bytes)
    const onDisk = readFileSync(store.pathOf(cid))
    onDisk[1234] ^= 0x01
    writeFileSync(store.pathOf(cid), onDisk)
    await assert.rejects(store.get(cid), (err: any) => err.name === 'ChunkCorruptError' && /is damaged/.test(err.message))
    assert.equal(await store.has(cid), false, 'the damaged file is gone, so the chunk is fetched again')
    assert.equal(await store.put(cid, bytes), true)
    assert.deepEqual(await store.get(cid), bytes)
    // a file past the cap is not read, nor removed (it may come from a store opened with a larger cap)
    writeFileSync(store.pathOf(cid), new Uint8Array(MiB + 1))
    await assert.rejects(store.get(cid), (err: any) => err.name === 'ChunkTooLargeError' && /expected at most 1048576 bytes, found 1048577/.test(err.message))
    assert.equal(await store.has(cid), true)
    // an empty file (a write lost in a crash) is damaged too
    writeFileSync(store.pathOf(cid), new Uint8Array(0))
    await assert.rejects(store.get(cid), (err: any) => err.name === 'ChunkCorruptError')
  })

  it('hashes a chunk it serves (get with once) once per process: what it wrote or checked before is read without a hash', async () => {
    const path = join(tmp.path, 'once')
    const store = await openChunkStore(path)
    await store.put(cid, bytes)
    const onDisk = new Uint8Array(readFileSync(store.pathOf(cid)))
    onDisk[99] ^= 0x01
    writeFileSync(store.pathOf(cid), onDisk)
    // written by this store: the bytes were hashed before the write, and are not hashed again when served
    assert.deepEqual(await store.get(cid, { once: true }), onDisk)
    // a plain get always hashes: it finds the damage and removes the file
    await assert.rejects(store.get(cid), (err: any) => err.name === 'ChunkCorruptError')
    assert.equal(await store.has(cid), false)
    await store.put(cid, bytes)
    // another process (a store opened afresh) hashes at its first serve, and refuses a damaged file
    const other = await openChunkStore(path)
    writeFileSync(other.pathOf(cid), onDisk)
    await assert.rejects(other.get(cid, { once: true }), (err: any) => err.name === 'ChunkCorruptError')
    assert.equal(await other.put(cid, bytes), true)
    const fresh = await openChunkStore(path)
    assert.deepEqual(await fresh.get(cid, { once: true }), bytes, 'checked at its first serve')
    writeFileSync(fresh.pathOf(cid), onDisk)
    assert.deepEqual(await fresh.get(cid, { once: true }), onDisk, 'then served unhashed')
    // the set is bounded: a store that remembers none hashes every time
    const none = await openChunkStore(path, { maxChecked: 0 })
    await assert.rejects(none.get(cid, { once: true }), (err: any) => err.name === 'ChunkCorruptError')
  })

  it('reads a chunk into a buffer as stored, unverified, up to the buffer\'s end', async () => {
    const store = await openChunkStore(join(tmp.path, 'read-into'))
    await store.put(cid, bytes)
    const buffer = new Uint8Array(bytes.length + 1)
    assert.equal(await store.readInto(cid, buffer), bytes.length, 'the whole chunk, and the file ends')
    assert.deepEqual(buffer.subarray(0, bytes.length), bytes)
    assert.equal(await store.readInto(cid, buffer.subarray(0, 1000)), 1000, 'a shorter buffer is filled')
    // not hashed: damaged bytes come back as they are (the caller checks them); get still refuses them
    const onDisk = readFileSync(store.pathOf(cid))
    onDisk[7] ^= 0x01
    writeFileSync(store.pathOf(cid), onDisk)
    assert.equal(await store.readInto(cid, buffer), bytes.length)
    assert.equal(buffer[7], onDisk[7])
    await assert.rejects(store.get(cid), (err: any) => err.name === 'ChunkCorruptError')
    await assert.rejects(store.readInto(cid, buffer), (err: any) => err.name === 'ChunkNotFoundError')
  })

  it('keeps chunks across reopening', async () => {
    const path = join(tmp.path, 'persist')
    const first = await openChunkStore(path)
    await first.put(cid, bytes)
    const second = await openChunkStore(path)
    assert.equal(await second.has(cid), true)
    assert.deepEqual(await second.get(cid), bytes)
  })

  it('lays chunks out so blockstore-fs can read them', async () => {
    const store = await openChunkStore(join(tmp.path, 'interop'))
    await store.put(cid, bytes)
    const blockstore = new FsBlockstore(store.path)
    await blockstore.open()
    assert.equal(await blockstore.has(cid), true)
    const pieces: Uint8Array[] = []
    for await (const piece of blockstore.get(cid)) pieces.push(piece)
    assert.deepEqual(new Uint8Array(Buffer.concat(pieces)), bytes)
  })

  it('removes temporary files of dead writers when opened, and keeps those of live ones', async () => {
    const path = join(tmp.path, 'sweep')
    mkdirSync(join(path, '.tmp'), { recursive: true })
    const child = spawn(process.execPath, ['-e', '0'])
    const deadPid = child.pid as number
    await new Promise(resolve => child.on('exit', resolve))
    writeFileSync(join(path, '.tmp', `${deadPid}.1.tmp`), 'half a chunk')
    writeFileSync(join(path, '.tmp', `${process.ppid}.1.tmp`), 'being written')
    const store = await openChunkStore(path)
    assert.deepEqual(tmpFiles(store), [`${process.ppid}.1.tmp`])
  })
})

describe('chunkFile', () => {
  const tmp = tempDir()
  after(() => { tmp.remove() })
  const data = seeded('file', 20 * MiB + 777)
  const file = join(tmp.path, 'release.bin')
  writeFileSync(file, data)

  it('stores a file as chunks that reassemble to the exact bytes', async () => {
    const store = await openChunkStore(join(tmp.path, 'store'))
    const result = await store.chunkFile(file)
    assert.equal(result.size, data.length)
    assert.equal(result.sha256, createHash('sha256').update(data).digest('hex'))
    assert.equal(result.chunks.reduce((n, c) => n + c.size, 0), data.length)
    assert.ok(result.chunks.length > 20 && result.chunks.length < 320, `${result.chunks.length} chunks`)
    assert.equal(result.newChunks, result.chunks.length)
    assert.equal(result.newBytes, data.length)
    const parts: Uint8Array[] = []
    for (const { cid, size } of result.chunks) {
      const bytes = await store.get(cid)
      assert.equal(bytes.length, size)
      parts.push(bytes)
    }
    assert.ok(Buffer.compare(Buffer.concat(parts), data) === 0, 'reassembled bytes equal the file')
    assert.equal(statSync(store.pathOf(result.chunks[0].cid)).size, result.chunks[0].size)
    assert.deepEqual(tmpFiles(store), [])
  })

  it('gives the same list for the same bytes as a stream, and stores nothing new', async () => {
    const store = await openChunkStore(join(tmp.path, 'store'))
    const fromFile = await store.chunkFile(file)
    const pieces = (async function * () { for (let at = 0; at < data.length; at += 100_000) yield data.subarray(at, at + 100_000) })()
    const fromStream = await store.chunkStream(pieces)
    assert.deepEqual(fromStream.chunks.map(c => `${c.cid.toString()}:${c.size}`), fromFile.chunks.map(c => `${c.cid.toString()}:${c.size}`))
    assert.equal(fromStream.sha256, fromFile.sha256)
    assert.equal(fromFile.newChunks, 0)
    assert.equal(fromStream.newChunks, 0)
  })

  it('stores only the changed chunks of a new version', async (t) => {
    const store = await openChunkStore(join(tmp.path, 'store'))
    const edited = Buffer.concat([data.subarray(0, 10 * MiB), seeded('patch', 64 * KiB), data.subarray(10 * MiB)])
    const result = await store.chunkStream([edited])
    t.diagnostic(`new version: ${result.newChunks} of ${result.chunks.length} chunks new, ${result.newBytes} of ${result.size} bytes`)
    assert.ok(result.newBytes >= 64 * KiB && result.newBytes < 0.15 * edited.length, `${result.newBytes} new bytes`)
  })

  it('stores a chunk that repeats within a file once', async () => {
    const store = await openChunkStore(join(tmp.path, 'repeats'))
    const result = await store.chunkStream([new Uint8Array(3 * MiB + 5)])
    assert.deepEqual(result.chunks.map(c => c.size), [MiB, MiB, MiB, 5])
    assert.equal(new Set(result.chunks.map(c => c.cid.toString())).size, 2)
    assert.equal(result.newChunks, 2)
    assert.equal(result.newBytes, MiB + 5)
  })

  it('fails with the cause for a file that is not there', async () => {
    const store = await openChunkStore(join(tmp.path, 'store'))
    await assert.rejects(store.chunkFile(join(tmp.path, 'missing.bin')), (err: any) => err.code === 'ENOENT')
  })
})
