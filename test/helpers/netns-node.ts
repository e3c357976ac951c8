/**
 * One `umesh node` per host namespace, run through `ip netns exec`, listening
 * only on its namespace address with mDNS off: started, restarted on the same
 * data dir (its earlier output kept), asked for status, SIGKILLed, and read
 * back from its held.json. Also the bad peers (test/helpers/bad-peer.ts) the
 * swarm test runs in a namespace of their own.
 */
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CLI_PATH } from '../../src/demo/local-mesh.js'
import { createIdentity } from '../../src/identity/index.js'
import { runProcess, startProcess } from './cli.js'
import { hostAddr, hostNs } from './netns.js'
import type { StartedProcess } from './cli.js'

export const PORT = 4090

/** the environment minus any UMESH_* setting, so no bootstrap list or other option sneaks in */
export function cleanEnv (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('UMESH_') && k !== 'DEBUG')), ...extra }
}

export interface Status {
  peerId: string
  peers: Array<{ peerId: string, addr: string }>
  releases: Array<{ package: string, version: string, state: string, chunksHeld: number, chunksTotal: number, error: string }>
  bandwidth: { uploadLimit: number, downloadLimit: number, uploadedBytes: number, downloadedBytes: number, uploadRate: number, downloadRate: number, swarmSessions: number, uploadQueue: number } | null
}

/** one `umesh node` in a host namespace */
export class NsNode {
  proc?: StartedProcess
  peerId = ''
  /** output of earlier runs on this data dir */
  private history = ''

  constructor (readonly name: string, readonly host: number, readonly dataDir: string, readonly flags: string[], readonly env: NodeJS.ProcessEnv = {}) {}

  get ns (): string { return hostNs(this.host) }
  get addr (): string { return `/ip4/${hostAddr(this.host)}/tcp/${PORT}/p2p/${this.peerId}` }
  get chunksDir (): string { return join(this.dataDir, 'chunks') }

  /** the identity is made first, so other nodes can name this one before it runs */
  async init (): Promise<this> {
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 })
    this.peerId = (await createIdentity(this.dataDir)).peerId.toString()
    return this
  }

  start (): void {
    if (this.proc != null) this.history += this.proc.output()
    this.proc = startProcess(this.name, 'ip', ['netns', 'exec', this.ns, process.execPath, CLI_PATH, 'node',
      '--data-dir', this.dataDir, '--listen', `/ip4/${hostAddr(this.host)}/tcp/${PORT}`, '--no-mdns', '--log-level', 'info', ...this.flags],
    { env: cleanEnv(this.env) })
  }

  async ready (): Promise<void> {
    const m = await this.proc!.waitForOutput(/ready: node (\S+) on network/, 30_000)
    assert.equal(m[1], this.peerId)
  }

  async status (): Promise<Status> {
    const r = await runProcess('ip', ['netns', 'exec', this.ns, process.execPath, CLI_PATH, 'status', '--data-dir', this.dataDir, '--json', '--timeout', '4000'],
      { timeoutMs: 10_000, env: cleanEnv() })
    if (r.code !== 0) throw new Error(`status of ${this.name} failed (code ${String(r.code)}): ${r.stderr.trim()}`)
    return JSON.parse(r.stdout) as Status
  }

  /** SIGKILL: no clean-up of any kind (`ip netns exec` execs node, so the pid is the daemon's) */
  async kill (): Promise<void> {
    if (this.proc?.pid == null || !this.proc.running()) return
    process.kill(this.proc.pid, 'SIGKILL')
    await this.proc.exited
  }

  async stop (): Promise<void> {
    await this.proc?.stop(5_000)
  }

  /** target paths of the releases this node holds in full (its held.json) */
  held (): string[] {
    try {
      return (JSON.parse(readFileSync(join(this.dataDir, 'held.json'), 'utf8')) as { releases: string[] }).releases
    } catch {
      return []
    }
  }

  output (): string {
    return this.history + (this.proc?.output() ?? '')
  }

  tail (chars = 2500): string {
    return `--- ${this.name} (${this.ns}, ${this.peerId}) ---\n${this.output().slice(-chars)}`
  }
}

/** a bad peer process in the bad host's namespace */
export interface BadPeer {
  mode: 'corrupt' | 'stall'
  proc: StartedProcess
  peerId: string
}
