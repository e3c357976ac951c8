/**
 * A process's resident memory, read from /proc while a test runs: what a
 * flood or any other attack made it grow to.
 */
import { readFileSync } from 'node:fs'

export function rssMiB (pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (match == null) throw new Error(`no VmRSS for process ${pid}`)
  return Number(match[1]) / 1024
}

/** samples a process's resident memory every 50 ms until stopped */
export function watchRss (pid: number): { stop: () => { baseline: number, max: number } } {
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
