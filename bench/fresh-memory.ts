/**
 * What new memory costs under each malloc mmap threshold: the same loops run
 * in child processes started with `MALLOC_MMAP_THRESHOLD_` unset, at the
 * daemons' 16 KiB (src/util/memory-settings.ts) and at 128 KiB.
 *
 * - alloc: a new 64 KiB buffer written once (Buffer.allocUnsafe, then fill:
 *   every page touched), dropped at once; above the threshold each is a
 *   mapping of its own, faulted in page by page and unmapped.
 * - chacha: a 64 KiB ChaCha20-Poly1305 encryption, Noise's cipher and its
 *   largest message; its output is new memory, as a receiver's decrypted text is.
 * - sha256: hashing 64 KiB, which allocates nothing: the machine's speed
 *   under each setting, for comparison.
 *
 * Figures only; nothing is asserted. `node dist/bench/fresh-memory.js [--seconds 1]`
 */
import { spawnSync } from 'node:child_process'
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { MMAP_THRESHOLD_ENV } from '../src/util/memory-settings.js'
import { table } from './report.js'

const BLOCK = 64 * 1024
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '1' }, child: { type: 'boolean', default: false } } })
const SECONDS = Number(values.seconds)

/** runs `op` for SECONDS; µs per call */
function perCall (op: () => void): number {
  let n = 0
  const t0 = performance.now()
  while (performance.now() - t0 < SECONDS * 1000) {
    op()
    n++
  }
  return (performance.now() - t0) * 1000 / n
}

function loops (): Record<string, number> {
  const key = randomBytes(32)
  const iv = randomBytes(12)
  const data = randomBytes(BLOCK)
  let keep = 0
  return {
    alloc: perCall(() => { keep += Buffer.allocUnsafe(BLOCK).fill(1).byteLength }),
    chacha: perCall(() => {
      const c = createCipheriv('chacha20-poly1305', key, iv, { authTagLength: 16 })
      keep += c.update(data).byteLength + c.final().byteLength
    }),
    sha256: perCall(() => { keep += createHash('sha256').update(data).digest().byteLength }),
    keep
  }
}

if (values.child === true) {
  process.stdout.write(JSON.stringify(loops()))
} else {
  const settings: Array<[string, string | undefined]> = [['unset (glibc\'s moving threshold)', undefined], ['16384 (the daemons\')', '16384'], ['131072', '131072']]
  const rows: string[][] = []
  for (const [label, value] of settings) {
    const env = { ...process.env }
    delete env[MMAP_THRESHOLD_ENV]
    if (value != null) env[MMAP_THRESHOLD_ENV] = value
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', '--seconds', String(SECONDS)], { env, encoding: 'utf8', timeout: 60_000 + SECONDS * 10_000 })
    if (child.status !== 0) throw new Error(`the child with ${MMAP_THRESHOLD_ENV}=${value ?? ''} failed: ${child.stderr}`)
    const r = JSON.parse(child.stdout) as Record<string, number>
    const mibs = (us: number): string => (BLOCK / 1048576 / (us / 1e6)).toFixed(0)
    rows.push([label, r.alloc.toFixed(1), r.chacha.toFixed(1), mibs(r.chacha), r.sha256.toFixed(1), mibs(r.sha256)])
  }
  process.stdout.write(`update-mesh fresh-memory benchmark (figures only; nothing is asserted)\ncommand: node dist/bench/fresh-memory.js --seconds ${SECONDS}\n` +
    `64 KiB per call, each loop ${SECONDS} s in a child process started with ${MMAP_THRESHOLD_ENV} as named\n\n` +
    table([MMAP_THRESHOLD_ENV, 'alloc µs', 'chacha µs', 'chacha MiB/s', 'sha256 µs', 'sha256 MiB/s'], rows) + '\n')
}
