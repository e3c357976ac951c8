/**
 * Test helpers: run the real CLI as a process, make temporary folders, wait
 * for a condition. Every wait has a deadline.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI_PATH, killMeshProcesses } from '../../src/demo/local-mesh.js'

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export async function runCli (args: string[], options: { timeoutMs?: number, env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return await new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, options.timeoutMs ?? 20_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

export function tempDir (prefix = 'umesh-test-'): { path: string, remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  // UMESH_KEEP_TEST_DIRS=1 keeps every test's folder (nodes' data dirs and logs) to read after a failure
  if (process.env.UMESH_KEEP_TEST_DIRS === '1') return { path, remove: () => { console.log(`kept ${path}`) } }
  return { path, remove: () => { rmSync(path, { recursive: true, force: true }) } }
}

export async function waitFor<T> (what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await fn()
      if (value !== undefined && value !== false) return value as T
    } catch (err) {
      last = err
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last != null ? ` (last error: ${(last as Error).message})` : ''}`)
}

/** runs any command (not only the CLI) to its end; SIGKILL after `timeoutMs` */
export async function runProcess (command: string, args: string[], options: { timeoutMs?: number, env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return await new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, options.timeoutMs ?? 20_000)
    child.on('error', (err) => { stderr += `${err.message}\n` })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

export interface StartedProcess {
  readonly name: string
  readonly pid: number | undefined
  /** stdout and stderr interleaved (the last 256 KiB) */
  output: () => string
  readonly exited: Promise<number | null>
  running: () => boolean
  /** resolves with the first match of `pattern` in the output; rejects at the deadline or when the process exits */
  waitForOutput: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; never throws */
  stop: (graceMs?: number) => Promise<void>
}

/** starts a long-running command (a daemon, possibly through `ip netns exec`) */
/** processes startProcess started that still run */
const started = new Set<ChildProcess>()

// node's test runner ends a test file over its time limit with SIGTERM, which skips every
// `after` hook: the daemons the file started are killed here so they do not run on beside the
// next files (a timed-out file once left 10 daemons busy through the rest of a run)
process.once('SIGTERM', () => {
  killMeshProcesses()
  for (const child of started) child.kill('SIGKILL')
  process.exit(143)
})

export function startProcess (name: string, command: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): StartedProcess {
  const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
  started.add(child)
  child.once('exit', () => { started.delete(child) })
  let output = ''
  const onData = (d: Buffer): void => {
    output += d.toString()
    if (output.length > 256 * 1024) output = output.slice(-256 * 1024)
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  child.on('error', (err) => { output += `\n[spawn error: ${err.message}]\n` })
  const exited = new Promise<number | null>(resolve => {
    child.on('close', (code, signal) => { resolve(code ?? (signal != null ? 128 : null)) })
  })
  const running = (): boolean => child.exitCode == null && child.signalCode == null && child.pid != null
  return {
    name,
    pid: child.pid,
    output: () => output,
    exited,
    running,
    waitForOutput: async (pattern, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs
      while (Date.now() < deadline) {
        const match = pattern.exec(output)
        if (match != null) return match
        if (!running()) throw new Error(`${name} exited (code ${String(child.exitCode ?? child.signalCode)}) before printing ${String(pattern)}:\n${output.slice(-2000)}`)
        await new Promise(resolve => setTimeout(resolve, 100))
      }
      throw new Error(`${name} did not print ${String(pattern)} within ${timeoutMs} ms:\n${output.slice(-2000)}`)
    },
    stop: async (graceMs = 5_000) => {
      if (child.pid == null) return
      if (running()) child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, graceMs)
      // a process that survives SIGKILL (stuck in the kernel) must not hang the caller
      let giveUp: NodeJS.Timeout | undefined
      try {
        await Promise.race([exited, new Promise(resolve => { giveUp = setTimeout(resolve, graceMs + 5_000) })])
      } finally {
        clearTimeout(timer)
        clearTimeout(giveUp)
      }
    }
  }
}
