/**
 * The follow benchmark's daemons: real `umesh node` processes (the bundle,
 * dist/umesh.mjs, when built) on loopback with JSON logs, each tracked so
 * the cleanup stops it. Each daemon's log lines are watched for the steps a
 * follow goes through (marks.ts); its memory and CPU are sampled from /proc
 * from the moment it runs.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { MeshProcess } from '../../src/demo/local-mesh.js'
import { readDaemonFile } from '../../src/daemon/daemon-file.js'
import { track } from '../procs.js'
import { LogMarks } from './marks.js'
import { DAEMON_ARGS, SAMPLE_MS } from './options.js'
import { ProcSampler } from './proc-sampler.js'
import type { MarkPattern } from './marks.js'

export interface BenchDaemon {
  name: string
  p: MeshProcess
  pid: number
  dataDir: string
  marks: LogMarks
  sampler: ProcSampler
  /** the first loopback address with /p2p/, once ready */
  addr: () => string
  stop: () => Promise<void>
}

export interface DaemonSpec {
  dir: string
  name: string
  args: string[]
  /** DEBUG for the process */
  debug?: string
  /** more environment (a key set to undefined is left out) */
  env?: NodeJS.ProcessEnv
  /** node's flags (default: the daemon's, DAEMON_NODE_FLAGS) */
  nodeFlags?: string[]
  patterns?: Record<string, MarkPattern>
}

/** spawns `umesh node --data-dir DIR ...DAEMON_ARGS ...args` and waits for it to be ready */
export async function startDaemon (spec: DaemonSpec, readyTimeoutMs = 30_000): Promise<BenchDaemon> {
  const dataDir = join(spec.dir, spec.name)
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const p = new MeshProcess(spec.name, 'node', dataDir, [...DAEMON_ARGS, ...spec.args], join(spec.dir, `${spec.name}.log`), { ...(spec.debug != null ? { DEBUG: spec.debug } : {}), ...spec.env }, spec.nodeFlags)
  const untrack = track({ stop: async () => { await p.stop() }, kill: () => { if (p.running) p.child.kill('SIGKILL') } })
  const pid = p.child.pid ?? -1
  const sampler = new ProcSampler(pid, SAMPLE_MS).start()
  const marks = new LogMarks(p.child.stderr!, spec.patterns ?? {}, () => sampler.take())
  const d: BenchDaemon = {
    name: spec.name,
    p,
    pid,
    dataDir,
    marks,
    sampler,
    addr: () => {
      const info = readDaemonFile(dataDir)
      const a = info.addrs.find(x => x.includes('/127.0.0.1/')) ?? info.addrs[0]
      return a.includes('/p2p/') ? a : `${a}/p2p/${info.peerId}`
    },
    stop: async () => {
      try {
        await p.stop()
      } finally {
        sampler.stop()
        untrack()
      }
    }
  }
  try {
    await p.waitReady(readyTimeoutMs)
  } catch (err) {
    await d.stop()
    throw err
  }
  return d
}
