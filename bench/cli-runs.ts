/**
 * What the release and rollout benchmarks both start: `umesh` CLI runs,
 * timed, and a LocalMesh whose daemons log the given component namespaces.
 * Each is tracked, so Ctrl-C or the hard limit stops it.
 */
import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { CLI_PATH, LocalMesh } from '../src/demo/local-mesh.js'
import { track } from './procs.js'

/** wall-clock milliseconds with sub-ms resolution, comparable with file mtimes and the daemons' Date.now() */
export function wallNow (): number {
  return performance.timeOrigin + performance.now()
}

export interface CliRun { code: number | null, stdout: string, stderr: string, ms: number, endWall: number }

/** runs `umesh ARGS` to its end (tracked, so Ctrl-C stops it; SIGKILL after timeoutMs) */
export async function umesh (args: string[], timeoutMs = 60_000): Promise<CliRun> {
  const t0 = performance.now()
  const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { if (stderr.length < 16_384) stderr += d.toString() })
  const exited = new Promise<number | null>(resolve => { child.on('exit', code => { resolve(code) }) })
  const kill = (signal: NodeJS.Signals): void => { if (child.exitCode == null && child.signalCode == null) child.kill(signal) }
  const untrack = track({ stop: async () => { kill('SIGTERM'); await exited }, kill: () => { kill('SIGKILL') } })
  const timer = setTimeout(() => { kill('SIGKILL') }, timeoutMs)
  try {
    const code = await exited
    return { code, stdout, stderr, ms: performance.now() - t0, endWall: wallNow() }
  } finally {
    clearTimeout(timer)
    untrack()
  }
}

export async function umeshOk (args: string[], timeoutMs?: number): Promise<CliRun> {
  const r = await umesh(args, timeoutMs)
  if (r.code !== 0) throw new Error(`umesh ${args.join(' ')} exited with ${String(r.code)}: ${r.stderr.slice(-1500)}`)
  return r
}

/** a LocalMesh whose daemons log `debug` (added to any DEBUG already set), stopped by the cleanup too */
export function trackedMesh (dir: string, debug: string[], nodeFlags?: string[]): LocalMesh {
  const mesh = new LocalMesh({ dir, nodes: 0, env: { DEBUG: [process.env.DEBUG, ...debug].filter(d => d != null && d !== '').join(',') }, nodeFlags })
  const untrack = track({
    stop: async () => { await mesh.stop() },
    kill: () => { for (const p of mesh.all) if (p.running) p.child.kill('SIGKILL') }
  })
  const stop = mesh.stop.bind(mesh)
  mesh.stop = async () => { try { await stop() } finally { untrack() } }
  return mesh
}
