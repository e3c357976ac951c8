/**
 * The daemons the HTTP benchmark starts: real `umesh` processes (the
 * bundle, dist/umesh.mjs, when built) on loopback without mDNS, each
 * tracked so that the cleanup stops it; API tokens made with the CLI; a
 * process's resident memory read from /proc.
 */
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, MeshProcess } from '../../src/demo/local-mesh.js'
import { umeshOk } from '../cli-runs.js'
import { track } from '../procs.js'
import { DAEMON_ARGS } from './options.js'

export interface Daemon {
  p: MeshProcess
  dataDir: string
  /** http://127.0.0.1:PORT, when started with a listener */
  base?: string
  pid: number
  stop: () => Promise<void>
}

export interface DaemonSpec {
  dir: string
  name: string
  /** flags after the common ones (--repo R --coordinator, ...) */
  args?: string[]
  http: boolean
}

/** spawns `umesh node --data-dir DIR --listen /ip4/127.0.0.1/tcp/0 --no-mdns [--http-listen 127.0.0.1:PORT] ARGS`; not yet ready */
export async function spawnDaemon (spec: DaemonSpec): Promise<Daemon> {
  const dataDir = join(spec.dir, spec.name)
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const port = spec.http ? await freePort() : undefined
  const http = port != null ? ['--http-listen', `127.0.0.1:${port}`] : []
  const p = new MeshProcess(spec.name, 'node', dataDir, [...DAEMON_ARGS, ...http, ...(spec.args ?? [])], join(spec.dir, `${spec.name}.log`))
  const untrack = track({ stop: async () => { await p.stop() }, kill: () => { if (p.running) p.child.kill('SIGKILL') } })
  return {
    p,
    dataDir,
    base: port != null ? `http://127.0.0.1:${port}` : undefined,
    pid: p.child.pid ?? -1,
    stop: async () => {
      try { await p.stop() } finally { untrack() }
    }
  }
}

export async function startDaemon (spec: DaemonSpec, readyTimeoutMs = 30_000): Promise<Daemon> {
  const d = await spawnDaemon(spec)
  try {
    await d.p.waitReady(readyTimeoutMs)
  } catch (err) {
    await d.stop()
    throw err
  }
  return d
}

/** `umesh api token create ... --json`: the token, printed once */
export async function createToken (dataDir: string, role: 'read' | 'operate', name: string): Promise<string> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const r = await umeshOk(['api', 'token', 'create', '--data-dir', dataDir, '--role', role, '--name', name, '--json'])
  return (JSON.parse(r.stdout) as { token: string }).token
}

/** VmRSS of a process, bytes */
export function rssBytes (pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (match == null) throw new Error(`no VmRSS for process ${pid}`)
  return Number(match[1]) * 1024
}
