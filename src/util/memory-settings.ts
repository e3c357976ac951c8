/**
 * What a long-lived daemon process should start with to give memory back
 * after a transfer. Both are read only when a process starts, so a daemon
 * cannot set them for itself: the processes this code starts (the demo,
 * the tests, the benchmarks) get them from here, a service manager sets
 * them in its unit, and a daemon started without them says so once.
 *
 * glibc's malloc. Node.js allocates every Buffer larger than 4 KiB with
 * malloc, and a transfer allocates and frees a release's worth of them
 * (network reads, decrypted frames, chunks). glibc serves blocks under its
 * mmap threshold from the main heap and raises the threshold whenever a
 * large mapped block is freed, so after a transfer the heap holds tens of MB
 * that are free but never given back: a few long-lived allocations above
 * them keep the heap from shrinking, and only malloc_trim(), which Node.js
 * does not call, would return them. Measured (bench/follow): the main heap
 * held 24-35 MB a minute after a follower fetched 256 MiB (4 MB when idle),
 * and malloc_trim called through gdb gave 30 MB of it back. A fixed
 * threshold of 16 KiB (MALLOC_MMAP_THRESHOLD_) gives every larger block its
 * own mapping, returned when freed: the heap stays near its idle size.
 *
 * V8's heap. While data flows, objects survive scavenges (the promises,
 * frames and buffers of requests in flight) and V8 grows its young
 * generation to 16 MB and more, shrinking it only some 30 s after the flow
 * stops: `--max-semi-space-size=1` keeps it at its smallest (a publisher
 * serving 1 GiB stayed within 10-13 MB of its idle RSS, 29-46 MB without).
 * What a small young generation promotes early, the old generation holds
 * until V8's next full collection, which by default comes when it has grown
 * to up to four times what was live after the last: a demo node with 23 MB
 * live carried a 67 MB old generation (144 MB of RSS). `--heap-growing-
 * percent=50` starts the next full collection at one and a half times: the
 * demo's processes stayed at 88-99 MiB (126-160 MiB before any of this).
 * The V8 flags showed no cost beyond the noise of the benchmark's CPU per MiB
 * (about 15 % between runs), nor in the time to ready. The threshold's cost
 * is a fresh mapping, faulted in page by page, for every block above it: on
 * the machine this was measured on later, a new 64 KiB buffer written once
 * took 293-324 µs against 4-6 without (bench/fresh-memory.ts), and it halved
 * a follower's fetch (bench/follow: 15.8-16.9
 * MiB/s at 57.6-62.2 ms of CPU per MiB with 16 KiB, 31.2-39.1 at 21.8-32.0
 * with 128 KiB, which kept 27-30 MB more a minute after the install). The
 * default keeps the memory; an operator may set 131072 for the speed.
 */
import { readFileSync } from 'node:fs'

export const MMAP_THRESHOLD_ENV = 'MALLOC_MMAP_THRESHOLD_'
export const MMAP_THRESHOLD_BYTES = 16384
/** node's flags for a daemon process (V8's, so not allowed in NODE_OPTIONS: on node's command line) */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=1', '--heap-growing-percent=50']

/** the environment variables to add for a daemon process, unless the threshold is set already */
export function daemonEnv (env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return thresholdSet(env) ? {} : { [MMAP_THRESHOLD_ENV]: String(MMAP_THRESHOLD_BYTES) }
}

/** the settings this process started without, as the operator would add them ([] when none is missing) */
export function missingMemorySettings (env: NodeJS.ProcessEnv = process.env, execArgv: string[] = process.execArgv): string[] {
  const missing: string[] = []
  if (process.platform === 'linux' && !thresholdSet(env) && onGlibc()) missing.push(`${MMAP_THRESHOLD_ENV}=${MMAP_THRESHOLD_BYTES} in the environment`)
  const given = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].map(f => f.split('=')[0].replace(/_/g, '-'))
  const flags = DAEMON_NODE_FLAGS.filter(f => !given.includes(f.split('=')[0]))
  if (flags.length > 0) missing.push(`node ${flags.join(' ')}`)
  return missing
}

function thresholdSet (env: NodeJS.ProcessEnv): boolean {
  return (env[MMAP_THRESHOLD_ENV] ?? '') !== '' || /(^|:)glibc\.malloc\.mmap_threshold=/.test(env.GLIBC_TUNABLES ?? '')
}

function onGlibc (): boolean {
  try {
    // glibc's soname; musl and others have their own allocators
    return /\/libc\.so\.6$/m.test(readFileSync('/proc/self/maps', 'utf8'))
  } catch {
    return false
  }
}
