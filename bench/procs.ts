/**
 * Process plumbing for the start-up benchmark: a daemon process timed from
 * spawn() to its "ready:" line, a plain process timed from spawn() to exit,
 * and one registry of everything started so
 * that a finally block or Ctrl-C stops all of it and removes the temp dirs.
 */
import { spawn } from 'node:child_process'
import { createWriteStream, rmSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import type { ChildProcess } from 'node:child_process'

/** anything the cleanup must stop */
interface Stoppable { stop: () => Promise<unknown>, kill: () => void }

const live = new Set<Stoppable>()
const tempDirs = new Set<string>()
let cleaning: Promise<void> | undefined

export function track (s: Stoppable): () => void {
  live.add(s)
  return () => { live.delete(s) }
}

export function trackDir (dir: string): void {
  tempDirs.add(dir)
}

/** stops every tracked process (SIGTERM, then SIGKILL) and removes the temp dirs; safe to call twice */
export async function cleanup (): Promise<void> {
  cleaning ??= (async () => {
    await Promise.allSettled([...live].map(async s => await s.stop()))
    live.clear()
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
    tempDirs.clear()
  })()
  await cleaning
}

/** last resort on process exit: nothing async is possible there */
export function killAllNow (): void {
  for (const s of live) s.kill()
  for (const dir of tempDirs) {
    try { rmSync(dir, { recursive: true, force: true }) } catch {}
  }
}

function killChild (child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode == null && child.signalCode == null) child.kill(signal)
}

async function stopChild (child: ChildProcess, exited: Promise<unknown>, graceMs: number): Promise<void> {
  if (child.exitCode != null || child.signalCode != null) return
  killChild(child, 'SIGTERM')
  const timer = setTimeout(() => { killChild(child, 'SIGKILL') }, graceMs)
  try {
    await exited
  } finally {
    clearTimeout(timer)
  }
}

/**
 * One daemon (`<script> node --data-dir DIR ...`), timed with
 * performance.now() from just before spawn() to the data event that carries
 * its "ready:" line (stderr is a pipe, so this includes one pipe hop).
 */
export class TimedDaemon {
  readonly child: ChildProcess
  /** performance.now() and Date.now() just before spawn() */
  readonly spawnedAt: number
  readonly spawnedAtWall: number
  /** performance.now() of the ready line */
  readonly ready: Promise<number>
  readonly exited: Promise<number | null>
  output = ''
  private readonly untrack: () => void

  constructor (script: string, dataDir: string, args: string[], logFile: string) {
    this.spawnedAtWall = Date.now()
    this.spawnedAt = performance.now()
    this.child = spawn(process.execPath, [script, 'node', '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const log = createWriteStream(logFile, { flags: 'a' })
    const ready = Promise.withResolvers<number>()
    let seen = false
    const onData = (chunk: Buffer): void => {
      const at = performance.now()
      log.write(chunk)
      if (this.output.length < 64 * 1024) this.output += chunk.toString()
      if (!seen && /ready: node \S+ on network/.test(this.output)) {
        seen = true
        ready.resolve(at)
      }
    }
    this.child.stdout?.on('data', onData)
    this.child.stderr?.on('data', onData)
    this.exited = new Promise(resolve => {
      this.child.on('exit', code => {
        log.end()
        ready.reject(new Error(`the daemon exited with code ${String(code)} before it was ready:\n${this.output.slice(-1500)}`))
        this.untrack()
        resolve(code)
      })
    })
    this.ready = ready.promise
    this.ready.catch(() => {})
    this.untrack = track({ stop: async () => { await this.stop() }, kill: () => { killChild(this.child, 'SIGKILL') } })
  }

  /** ms from spawn() to the ready line, or an error after timeoutMs */
  async readyMs (timeoutMs = 20_000): Promise<number> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`not ready within ${timeoutMs} ms:\n${this.output.slice(-1500)}`)) }, timeoutMs)
    })
    try {
      return (await Promise.race([this.ready, timeout])) - this.spawnedAt
    } finally {
      clearTimeout(timer)
    }
  }

  /** SIGTERM, SIGKILL after graceMs; returns ms from the signal to exit */
  async stop (graceMs = 8_000): Promise<number> {
    const t0 = performance.now()
    await stopChild(this.child, this.exited, graceMs)
    return performance.now() - t0
  }
}

/** ms from just before spawn() to exit; throws on a non-zero exit */
export async function timeToExit (args: string[], cwd: string, timeoutMs = 30_000): Promise<number> {
  const t0 = performance.now()
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => { if (stderr.length < 8192) stderr += c.toString() })
  const exited = new Promise<number | null>(resolve => { child.on('exit', code => { resolve(code) }) })
  const untrack = track({ stop: async () => { await stopChild(child, exited, 2_000) }, kill: () => { killChild(child, 'SIGKILL') } })
  const timer = setTimeout(() => { killChild(child, 'SIGKILL') }, timeoutMs)
  try {
    const code = await exited
    const elapsed = performance.now() - t0
    if (code !== 0) throw new Error(`node ${args.join(' ').slice(0, 200)} exited with ${String(code)}: ${stderr.slice(-1000)}`)
    return elapsed
  } finally {
    clearTimeout(timer)
    untrack()
  }
}

export interface Bundle {
  file: string
  bytes: number
}


/** a whole-number option, or exit 2 naming the flag and the range */
export function intOpt (name: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`--${name}: expected a whole number from ${min} to ${max}, found "${String(value)}"\n`)
    process.exit(2)
  }
  return n
}

/**
 * Runs a benchmark's main and exits with its code: every process it started
 * is stopped on SIGINT / SIGTERM (a second signal kills them at once), on an
 * error, at the end, and past the hard limit when one is given.
 */
export async function runBenchmark (main: () => Promise<number>, hardLimitMs?: number): Promise<never> {
  let interrupted = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      killAllNow()
      process.exit(130)
    }
    interrupted = true
    process.stderr.write(`\n# ${signal}: stopping every process this benchmark started (again to force)\n`)
    cleanup().finally(() => { process.exit(130) })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('exit', () => { killAllNow() })
  if (hardLimitMs != null) {
    setTimeout(() => {
      process.stderr.write(`\n# the benchmark ran past its hard limit of ${hardLimitMs / 1000} s: stopping everything\n`)
      cleanup().finally(() => { process.exit(1) })
    }, hardLimitMs).unref()
  }
  let code = 1
  try {
    code = await main()
  } catch (err) {
    process.stderr.write(`benchmark failed: ${(err as Error).stack ?? String(err)}\n`)
  } finally {
    await cleanup()
  }
  process.exit(code)
}
