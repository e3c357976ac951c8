import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { createCipheriv, createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { chunkBytes, chunkSource, fastCdcParams, GEAR, GEAR_SEED_PREFIX } from '../../../src/content/index.js'
import { tempDir } from '../../helpers/cli.js'
import type { Chunk, FastCdcOptions } from '../../../src/content/index.js'

const KiB = 1024
const MiB = 1024 * 1024

/** seeded pseudo-random bytes (AES-256-CTR keystream), the same on every run and machine */
function seeded (seed: string, length: number): Uint8Array {
  const key = createHash('sha256').update(seed).digest()
  return new Uint8Array(createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length)))
}

function lengths (chunks: Iterable<Chunk>): number[] {
  return [...chunks].map(c => c.length)
}

async function collect (source: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const out: Chunk[] = []
  for await (const chunk of source) out.push(chunk)
  return out
}

function hex (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

const SMALL: FastCdcOptions = { minSize: 2 * KiB, avgSize: 8 * KiB, maxSize: 32 * KiB }

describe('FastCDC boundaries are fixed forever', () => {
  it('derives the gear table from the documented seed', () => {
    for (let i = 0; i < 256; i++) {
      const expected = createHash('sha256').update(GEAR_SEED_PREFIX + String(i)).digest().readUInt32BE(0)
      assert.equal(GEAR[i] >>> 0, expected, `GEAR[${i}]`)
    }
    assert.deepEqual([GEAR[0] >>> 0, GEAR[1] >>> 0, GEAR[255] >>> 0], [0x9b051220, 0xbaaedc53, 0xfa817ccb])
  })

  it('derives the default masks as documented', () => {
    const params = fastCdcParams()
    assert.equal(params.maskS >>> 0, 0xdadadada, '20 one-bits spread from bit 31')
    assert.equal(params.maskL >>> 0, 0xaaaaaaaa, '16 one-bits spread from bit 31')
  })

  it('cuts a seeded 8 MiB input exactly where version 1 cut it (default sizes)', () => {
    const data = seeded('umesh-fastcdc-golden', 8 * MiB)
    assert.deepEqual(lengths(chunkBytes(data)), [
      416463, 277882, 283213, 281880, 415309, 196848, 292908, 286177, 265992, 368520, 411540, 78174, 151792, 358419, 284011, 341069,
      298525, 277553, 218416, 298437, 140973, 301098, 348706, 283856, 142963, 159503, 262204, 213231, 292135, 408106, 32705
    ])
  })

  it('cuts a seeded 1 MiB input exactly where version 1 cut it (2/8/32 KiB)', () => {
    const cuts = lengths(chunkBytes(seeded('umesh-fastcdc-golden', 8 * MiB).subarray(0, MiB), SMALL))
    assert.equal(cuts.length, 111)
    assert.deepEqual(cuts.slice(0, 8), [2160, 8611, 9051, 10353, 11402, 9070, 6385, 4371])
    assert.equal(hex(new TextEncoder().encode(cuts.join(','))).slice(0, 16), '41c8c3036f66ac47')
  })
})

describe('FastCDC chunking', () => {
  const tmp = tempDir()
  after(() => { tmp.remove() })
  const data = seeded('umesh-fastcdc-32mib', 32 * MiB)

  it('gives the same chunks across separate calls, from memory and from a file', async () => {
    const first = lengths(chunkBytes(data))
    assert.deepEqual(lengths(chunkBytes(data)), first)
    const file = join(tmp.path, 'data.bin')
    writeFileSync(file, data)
    const fromFile = await collect(chunkSource(file))
    assert.deepEqual(lengths(fromFile), first)
    assert.deepEqual(lengths(await collect(chunkSource(file))), first)
    assert.deepEqual(fromFile.map(c => c.offset), [...chunkBytes(data)].map(c => c.offset))
  })

  it('keeps every chunk but the last within min and max, and the average near 256 KiB', (t) => {
    const sizes = lengths(chunkBytes(data))
    const body = sizes.slice(0, -1)
    assert.ok(Math.min(...body) >= 64 * KiB, `smallest chunk ${Math.min(...body)}`)
    assert.ok(Math.max(...sizes) <= MiB, `largest chunk ${Math.max(...sizes)}`)
    assert.equal(sizes.reduce((a, b) => a + b, 0), data.length)
    const average = data.length / sizes.length
    t.diagnostic(`${sizes.length} chunks, average ${(average / KiB).toFixed(1)} KiB, min ${Math.min(...body)}, max ${Math.max(...sizes)}`)
    assert.ok(average >= 150 * KiB && average <= 400 * KiB, `average ${(average / KiB).toFixed(1)} KiB`)
  })

  it('keeps small configured sizes too, and cuts boundary-free input at exactly max', () => {
    const small = lengths(chunkBytes(data.subarray(0, 4 * MiB), SMALL))
    assert.ok(small.slice(0, -1).every(n => n >= 2 * KiB && n <= 32 * KiB))
    const average = 4 * MiB / small.length
    assert.ok(average >= 6 * KiB && average <= 14 * KiB, `average ${average}`)
    // all zeros: the fingerprint settles on a value that never matches, so every cut is forced
    const zeros = lengths(chunkBytes(new Uint8Array(3 * MiB + 5)))
    assert.deepEqual(zeros, [MiB, MiB, MiB, 5])
  })

  it('gives the same chunks when the stream arrives in pieces of any size', async () => {
    const part = data.subarray(0, 8 * MiB)
    const whole = [...chunkBytes(part)]
    const random = seeded('piece-sizes', 4096)
    const pieces: Uint8Array[] = []
    for (let at = 0, k = 0; at < part.length; k++) {
      // mostly mid-sized pieces, some single bytes, some larger than the chunker's buffer
      const kind = random[k % random.length] % 16
      const size = kind === 0 ? 1 : kind === 1 ? 3 * MiB : 1 + ((random[(k * 7) % random.length] << 8) | random[(k * 13) % random.length]) * 2
      pieces.push(part.subarray(at, at + size))
      at += size
    }
    assert.ok(pieces.some(p => p.length === 1) && pieces.some(p => p.length > 2 * MiB))
    const streamed = await collect(chunkSource((async function * () { yield * pieces })()))
    assert.deepEqual(streamed.map(c => [c.offset, c.length]), whole.map(c => [c.offset, c.length]))
    assert.ok(streamed.every((c, i) => Buffer.compare(c.bytes, whole[i].bytes) === 0))
    assert.deepEqual(lengths(await collect(chunkSource([part]))), lengths(whole), 'one piece, as a plain iterable')
  })

  it('shares most chunks after a 1 MiB insertion in the middle of 24 MiB', (t) => {
    const original = data.subarray(0, 24 * MiB)
    const edited = new Uint8Array(original.length + MiB)
    edited.set(original.subarray(0, 12 * MiB + 12345))
    edited.set(seeded('inserted', MiB), 12 * MiB + 12345)
    edited.set(original.subarray(12 * MiB + 12345), 12 * MiB + 12345 + MiB)
    const known = new Set([...chunkBytes(original)].map(c => hex(c.bytes)))
    const after = [...chunkBytes(edited)]
    const newBytes = after.filter(c => !known.has(hex(c.bytes))).reduce((n, c) => n + c.length, 0)
    const fraction = newBytes / edited.length
    t.diagnostic(`new bytes after the insertion: ${newBytes} of ${edited.length} (${(fraction * 100).toFixed(1)}%)`)
    assert.ok(newBytes >= MiB, 'the inserted bytes are new')
    assert.ok(fraction < 0.15, `${(fraction * 100).toFixed(1)}% of the file is in new chunks`)
  })

  it('yields nothing for empty input and one chunk for input under the minimum', async () => {
    assert.deepEqual(lengths(chunkBytes(new Uint8Array(0))), [])
    assert.deepEqual(lengths(await collect(chunkSource([]))), [])
    assert.deepEqual(lengths(chunkBytes(data.subarray(0, 1000))), [1000])
  })

  it('refuses sizes that cannot work, naming them', () => {
    const bad: FastCdcOptions[] = [{ minSize: 300 * KiB }, { maxSize: 128 * KiB }, { minSize: 10 }, { avgSize: 1.5 }, { maxSize: 128 * MiB }, { normalization: 4 }]
    for (const options of bad) {
      assert.throws(() => fastCdcParams(options), (err: any) => err.name === 'ChunkerOptionsError' && /expected/.test(err.message), JSON.stringify(options))
    }
  })
})
