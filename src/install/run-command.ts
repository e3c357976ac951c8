/**
 * Runs an operator's or a release's program (hooks, migrations, command
 * health checks) without a shell, with a time limit that is kept: the child
 * gets its own process group, so on timeout (or abort) SIGTERM and, 2 s
 * later, SIGKILL reach everything it started, not only the first process.
 * Output is captured but only the last 64 KiB of each stream is kept, so a
 * chatty script cannot fill memory. A non-zero exit is a result, not an
 * error; only a program that cannot be started at all rejects.
 *
 * The child's environment is this process's, with `env` added on top.
 */
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { UmeshError } from '../errors.js'

/** bytes kept of each of stdout and stderr (the last ones) */
export const MAX_OUTPUT_BYTES = 64 * 1024
const KILL_GRACE_MS = 2000
/** after the child exits, how long to wait for its output pipes to close (a background grandchild may hold them) */
const CLOSE_GRACE_MS = 200

export class CommandError extends UmeshError {
  override readonly name = 'CommandError'
}

export interface RunOptions {
  cwd?: string
  /** added to (and overriding) this process's environment */
  env?: Record<string, string>
  timeoutMs: number
  signal?: AbortSignal
}

export interface RunResult {
  /** exit code; null when killed by a signal */
  code: number | null
  signal: string | null
  /** the last 64 KiB */
  stdout: string
  /** the last 64 KiB */
  stderr: string
  timedOut: boolean
  /** stopped because opts.signal was aborted */
  aborted: boolean
  /** the limit it ran under */
  timeoutMs: number
  durationMs: number
}

/** keeps the last MAX_OUTPUT_BYTES bytes written to it */
class Tail {
  private buf = Buffer.alloc(0)
  push (data: Buffer): void {
    this.buf = Buffer.concat([this.buf, data])
    if (this.buf.length > MAX_OUTPUT_BYTES) this.buf = Buffer.from(this.buf.subarray(this.buf.length - MAX_OUTPUT_BYTES))
  }

  text (): string {
    return this.buf.toString('utf8')
  }
}

function killGroup (pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // the group is already gone
  }
}

/**
 * Whether a process of group `pgid` is still running. On Linux zombies do not
 * count: where PID 1 reaps orphans late (a container without an init), a
 * killed grandchild stays a zombie for a while, and kill(-pgid, 0) still
 * finds it.
 */
function groupAlive (pgid: number): boolean {
  if (process.platform === 'linux') {
    try {
      for (const name of readdirSync('/proc')) {
        if (!/^\d+$/.test(name)) continue
        let stat: string
        try {
          stat = readFileSync(`/proc/${name}/stat`, 'utf8')
        } catch {
          continue // exited while we looked
        }
        // fields after the command name: state, ppid, pgrp, ...
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true
      }
      return false
    } catch {
      // no readable /proc: ask the kernel below
    }
  }
  try {
    process.kill(-pgid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** SIGTERM to the process group, SIGKILL after a grace period while anything of it is left */
function terminateGroup (pid: number): void {
  killGroup(pid, 'SIGTERM')
  const killTimer = setTimeout(() => { clearInterval(groupWatch); killGroup(pid, 'SIGKILL') }, KILL_GRACE_MS)
  // the SIGKILL is needed only while something of the group is left
  const groupWatch = setInterval(() => {
    if (!groupAlive(pid)) {
      clearInterval(groupWatch)
      clearTimeout(killTimer)
    }
  }, 50)
}

/** why a program could not be started, and what to check */
function spawnError (program: string, cwd: string | undefined, err: NodeJS.ErrnoException): CommandError {
  const where = cwd != null ? ` in ${cwd}` : ''
  const hint = err.code === 'ENOENT'
    ? `check that ${program} exists and is on PATH${cwd != null ? `, and that ${cwd} exists` : ''}`
    : err.code === 'EACCES' ? `check that ${program} is executable` : 'check the command'
  return new CommandError(`cannot run \`${program}\`${where}: ${err.message}; ${hint}`)
}

export async function runCommand (argv: string[], opts: RunOptions): Promise<RunResult> {
  if (argv.length === 0 || argv[0] === '') throw new CommandError('cannot run an empty command: give the program to run as the first element of the argv list')
  if (!Number.isSafeInteger(opts.timeoutMs) || opts.timeoutMs <= 0) throw new RangeError(`runCommand timeoutMs: expected a positive integer, found ${String(opts.timeoutMs)}`)
  const [program, ...args] = argv as [string, ...string[]]
  const started = Date.now()
  return await new Promise<RunResult>((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      shell: false
    })
    const stdout = new Tail()
    const stderr = new Tail()
    child.stdout.on('data', (d: Buffer) => { stdout.push(d) })
    child.stderr.on('data', (d: Buffer) => { stderr.push(d) })
    let timedOut = false
    let aborted = false
    let settled = false
    let stopping = false
    let closeTimer: NodeJS.Timeout | undefined
    const stop = (): void => {
      if (child.pid == null || child.exitCode != null || child.signalCode != null || stopping) return
      stopping = true
      terminateGroup(child.pid)
    }
    const timer = setTimeout(() => { timedOut = true; stop() }, opts.timeoutMs)
    const onAbort = (): void => { aborted = true; stop() }
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    if (opts.signal?.aborted === true) onAbort()
    const cleanup = (): void => {
      clearTimeout(timer)
      clearTimeout(closeTimer)
      opts.signal?.removeEventListener('abort', onAbort)
    }
    const finish = (): void => {
      if (settled) return
      settled = true
      cleanup()
      resolve({
        code: child.exitCode,
        signal: child.signalCode,
        stdout: stdout.text(),
        stderr: stderr.text(),
        timedOut,
        aborted,
        timeoutMs: opts.timeoutMs,
        durationMs: Date.now() - started
      })
    }
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return
      if (child.pid == null) {
        settled = true
        cleanup()
        reject(spawnError(program, opts.cwd, err))
      }
    })
    child.on('close', finish)
    child.on('exit', () => {
      // normally 'close' follows at once; if a background child keeps the pipes open, stop waiting for it
      closeTimer = setTimeout(() => {
        child.stdout.destroy()
        child.stderr.destroy()
        finish()
      }, CLOSE_GRACE_MS)
    })
  })
}

function quoteArg (arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg)
}

function lastLine (text: string): string {
  const lines = text.split('\n').map(l => l.trim()).filter(l => l !== '')
  const line = lines[lines.length - 1] ?? ''
  return line.length > 300 ? `${line.slice(0, 300)}…` : line
}

/** one line for a log or an error: "`x y` exited 3: <last line of stderr>" */
export function describeRun (argv: string[], result: RunResult): string {
  const cmd = `\`${argv.map(quoteArg).join(' ')}\``
  const said = lastLine(result.stderr) || lastLine(result.stdout)
  const tail = said !== '' ? `: ${said}` : ''
  if (result.timedOut) return `${cmd} timed out after ${result.timeoutMs} ms and was killed${tail}`
  if (result.aborted) return `${cmd} was stopped (cancelled)${tail}`
  if (result.signal != null) return `${cmd} was killed by ${result.signal}${tail}`
  return `${cmd} exited ${String(result.code)}${tail}`
}
