/**
 * Timing for the install benchmark, and the sync that keeps writeback of
 * the benchmark's own earlier writes out of the next figures.
 */
import { execFileSync } from 'node:child_process'
import { performance } from 'node:perf_hooks'

/** writes back everything dirty on dir's file system, so earlier writes' writeback does not land in the next figures */
export function flush (dir: string): void {
  try {
    execFileSync('sync', ['-f', dir], { stdio: 'ignore' })
  } catch {
    execFileSync('sync', { stdio: 'ignore' })
  }
}

export async function timed (fn: () => unknown): Promise<number> {
  const start = performance.now()
  await fn()
  return performance.now() - start
}

export function timedSync (fn: () => void): number {
  const start = performance.now()
  fn()
  return performance.now() - start
}
