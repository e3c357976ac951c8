/**
 * The parent's handle on one end (end.ts): spawned directly on loopback or
 * through `ip netns exec` into a namespace, spoken to over IPC, every answer
 * awaited with a timeout, and stopped by the benchmark's cleanup whatever
 * happens (procs.ts: SIGTERM, SIGKILL, and SIGKILL on exit).
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { track } from '../procs.js'
import type { ChildMessage, EndConfig, ParentMessage } from './messages.js'
import type { ChildProcess } from 'node:child_process'

const END_SCRIPT = fileURLToPath(new URL('./end.js', import.meta.url))

type Waiter = { type: ChildMessage['type'], resolve: (m: ChildMessage) => void, reject: (err: Error) => void }

export class End {
  private readonly child: ChildProcess
  private readonly inbox: ChildMessage[] = []
  private readonly waiters: Waiter[] = []
  private failure?: Error
  private stderr = ''
  private readonly exited: Promise<void>
  private readonly untrack: () => void

  constructor (readonly config: EndConfig, ns?: string) {
    const argv = [process.execPath, END_SCRIPT]
    const [cmd, ...args] = ns == null ? argv : ['ip', 'netns', 'exec', ns, ...argv]
    this.child = spawn(cmd, args, {
      env: { ...process.env, DPB_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc']
    })
    this.child.stderr?.on('data', (c: Buffer) => { this.stderr = (this.stderr + c.toString()).slice(-4000) })
    this.child.on('message', (m: ChildMessage) => {
      if (m.type === 'error') {
        this.fail(new Error(m.message))
        return
      }
      const i = this.waiters.findIndex(w => w.type === m.type)
      if (i === -1) this.inbox.push(m)
      else this.waiters.splice(i, 1)[0].resolve(m)
    })
    this.exited = new Promise(resolve => {
      this.child.on('exit', (code, signal) => {
        this.fail(new Error(`the ${config.role} exited (${signal ?? `code ${String(code)}`})${this.stderr !== '' ? ':\n' + this.stderr : ''}`))
        this.untrack()
        resolve()
      })
    })
    this.untrack = track({ stop: async () => { await this.stop() }, kill: () => { this.kill('SIGKILL') } })
  }

  private fail (err: Error): void {
    this.failure ??= err
    for (const w of this.waiters.splice(0)) w.reject(this.failure)
  }

  send (message: ParentMessage): void {
    if (this.child.connected) this.child.send(message)
  }

  /** the next message of this type, or an error after timeoutMs, or the child's error */
  async next<T extends ChildMessage['type']> (type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>> {
    const i = this.inbox.findIndex(m => m.type === type)
    if (i !== -1) return this.inbox.splice(i, 1)[0] as Extract<ChildMessage, { type: T }>
    if (this.failure != null) throw this.failure
    let timer: NodeJS.Timeout | undefined
    try {
      return await new Promise<Extract<ChildMessage, { type: T }>>((resolve, reject) => {
        const waiter: Waiter = { type, resolve: resolve as (m: ChildMessage) => void, reject }
        this.waiters.push(waiter)
        timer = setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1)
          reject(new Error(`the ${this.config.role} (${this.config.layer}/${this.config.variant}) sent no '${type}' within ${timeoutMs / 1000} s`))
        }, timeoutMs)
      })
    } finally {
      clearTimeout(timer)
    }
  }

  /** asks the child to close and exit; SIGKILL after graceMs */
  async stop (graceMs = 3_000): Promise<void> {
    if (this.child.exitCode != null || this.child.signalCode != null) return
    this.send({ type: 'exit' })
    const timer = setTimeout(() => { this.kill('SIGKILL') }, graceMs)
    try {
      await this.exited
    } finally {
      clearTimeout(timer)
    }
  }

  private kill (signal: NodeJS.Signals): void {
    if (this.child.exitCode == null && this.child.signalCode == null) this.child.kill(signal)
  }
}
