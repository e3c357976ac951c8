/**
 * A mesh of real daemon processes on loopback: one bootstrap node and N
 * nodes, each with its own data dir, mDNS off (multicast would leave the
 * machine). Used by `umesh demo`, the integration tests and the benchmarks.
 */
import { spawn } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createIdentity } from '../identity/index.js'
import { DAEMON_NODE_FLAGS, daemonEnv } from '../util/memory-settings.js'
import type { ChildProcess } from 'node:child_process'

/**
 * The umesh CLI to start processes with: the bundle (dist/umesh.mjs, what
 * `umesh` runs) when it exists, else the compiled entry point. This module
 * is itself either in one of the bundle's chunks (dist/chunks/) or at
 * dist/src/demo/.
 */
export const CLI_PATH = ['../umesh.mjs', '../../umesh.mjs', '../cli/main.js']
  .map(candidate => fileURLToPath(new URL(candidate, import.meta.url)))
  .find(path => existsSync(path)) ?? fileURLToPath(new URL('../cli/main.js', import.meta.url))

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => { resolve(port) })
    })
  })
}

/** every daemon a MeshProcess started in this process and that still runs */
const started = new Set<ChildProcess>()

/**
 * SIGKILLs every daemon this process started that still runs: for a test
 * process the test runner terminates (a file over its time limit), whose
 * daemons would otherwise go on running beside the next test files.
 */
export function killMeshProcesses (): void {
  for (const child of started) child.kill('SIGKILL')
  started.clear()
}

export class MeshProcess {
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  readonly ready: Promise<void>
  peerId = ''
  output = ''

  /** `nodeFlags`: node's own flags; by default those a daemon should start with to give memory back after transfers (src/util/memory-settings.ts), as its environment gets the malloc setting */
  constructor (readonly name: string, readonly role: 'node' | 'bootstrap', readonly dataDir: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = {}, nodeFlags: string[] = DAEMON_NODE_FLAGS) {
    this.child = spawn(process.execPath, [...nodeFlags, CLI_PATH, role, '--data-dir', dataDir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...daemonEnv(), ...env }
    })
    started.add(this.child)
    this.child.once('exit', () => { started.delete(this.child) })
    const log = createWriteStream(logFile, { flags: 'a' })
    const ready = Promise.withResolvers<void>()
    const onData = (chunk: Buffer): void => {
      log.write(chunk)
      if (this.output.length < 256 * 1024) this.output += chunk.toString()
      const match = /ready: \S+ (\S+) on network/.exec(this.output)
      if (match != null && this.peerId === '') {
        this.peerId = match[1]
        ready.resolve()
      }
    }
    this.child.stdout?.on('data', onData)
    this.child.stderr?.on('data', onData)
    this.exited = new Promise(resolve => {
      this.child.on('exit', code => {
        log.end()
        ready.reject(new Error(`${name} exited with code ${String(code)} before it was ready:\n${this.output.slice(-2000)}`))
        resolve(code)
      })
    })
    this.ready = ready.promise
    this.ready.catch(() => {})
  }

  get running (): boolean {
    return this.child.exitCode == null && this.child.signalCode == null
  }

  async waitReady (timeoutMs = 20_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`${this.name} not ready within ${timeoutMs} ms:\n${this.output.slice(-2000)}`)) }, timeoutMs)
    })
    try {
      await Promise.race([this.ready, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs` */
  async stop (graceMs = 8_000): Promise<number | null> {
    if (!this.running) return await this.exited
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => { this.child.kill('SIGKILL') }, graceMs)
    try {
      return await this.exited
    } finally {
      clearTimeout(timer)
    }
  }
}

export interface LocalMeshInit {
  dir: string
  nodes: number
  /** flags added to every process */
  args?: string[]
  env?: NodeJS.ProcessEnv
  /** node's own flags for every process (default: the daemon's, DAEMON_NODE_FLAGS) */
  nodeFlags?: string[]
}

export class LocalMesh {
  bootstrap?: MeshProcess
  readonly nodes: MeshProcess[] = []
  bootstrapAddr = ''
  readonly bootstrapFile: string

  constructor (readonly init: LocalMeshInit) {
    this.bootstrapFile = join(init.dir, 'bootstrap.json')
  }

  get all (): MeshProcess[] {
    return [...(this.bootstrap != null ? [this.bootstrap] : []), ...this.nodes]
  }

  /** flags for a node of this mesh */
  nodeArgs (port = 0): string[] {
    return ['--listen', `/ip4/127.0.0.1/tcp/${port}`, '--bootstrap', this.bootstrapFile, '--no-mdns', '--max-inbound-per-ip', '1000', ...(this.init.args ?? [])]
  }

  /** the bootstrap node's identity and port are chosen first, so bootstrap.json can name it before it runs */
  async start (readyTimeoutMs = 30_000): Promise<void> {
    mkdirSync(this.init.dir, { recursive: true })
    const dataDir = join(this.init.dir, 'bootstrap')
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    const { peerId } = await createIdentity(dataDir)
    const port = await freePort()
    this.bootstrapAddr = `/ip4/127.0.0.1/tcp/${port}/p2p/${peerId.toString()}`
    writeFileSync(this.bootstrapFile, JSON.stringify({ network: 'umesh', bootstrap: [this.bootstrapAddr] }, null, 2) + '\n')
    this.bootstrap = new MeshProcess('bootstrap', 'bootstrap', dataDir, this.nodeArgs(port), join(this.init.dir, 'bootstrap.log'), this.init.env, this.init.nodeFlags)
    await this.bootstrap.waitReady(readyTimeoutMs)
    for (let i = 0; i < this.init.nodes; i++) this.addNode()
    await Promise.all(this.nodes.map(async n => { await n.waitReady(readyTimeoutMs) }))
  }

  addNode (name = `node-${this.nodes.length + 1}`, extraArgs: string[] = []): MeshProcess {
    const node = new MeshProcess(name, 'node', join(this.init.dir, name), [...this.nodeArgs(), ...extraArgs], join(this.init.dir, `${name}.log`), this.init.env, this.init.nodeFlags)
    this.nodes.push(node)
    return node
  }

  async stop (): Promise<void> {
    await Promise.all(this.all.map(async p => await p.stop()))
  }
}
