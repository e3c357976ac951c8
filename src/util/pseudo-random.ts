/**
 * Deterministic pseudo-random bytes (xorshift32): sample packages for the
 * demo, tests and benchmarks that must be the same on every run, and differ
 * from each other only where a version changes them.
 */
export function pseudoRandomBytes (size: number, seed: number): Buffer {
  const out = Buffer.alloc(size)
  let x = seed >>> 0 || 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}
