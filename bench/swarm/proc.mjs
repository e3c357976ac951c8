// Helpers shared by the update-mesh scenario's node processes: which umesh
// bundle to run, `umesh status --json`, per-process CPU from /proc, and
// ending a daemon by PID (TERM, then KILL).
import { execFile, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))

/** UMESH_CLI, else this project's dist/umesh.mjs (the scenario folder is <project>/bench/swarm) */
export function umeshCli () {
  const cli = path.resolve(process.env.UMESH_CLI ?? path.join(HERE, '..', '..', 'dist', 'umesh.mjs'))
  if (!fs.existsSync(cli)) throw new Error(`no umesh bundle at ${cli} (npm run build in the project, or set UMESH_CLI)`)
  return cli
}

export const NETWORK = process.env.UMESH_BENCH_NETWORK ?? 'sbench'

/** `umesh status --data-dir DIR --json` (spawns the CLI: set-up and after done only, never in a poll loop of the timed window) */
export function status (cli, dataDir, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cli, 'status', '--data-dir', dataDir, '--json', '--timeout', String(timeoutMs)],
      { timeout: timeoutMs + 3000, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
        if (err) { reject(new Error(`umesh status: ${String(stderr || err.message).trim().split('\n').pop()}`)); return }
        try { resolve(JSON.parse(stdout)) } catch (e) { reject(new Error(`umesh status: not JSON: ${stdout.slice(0, 200)}`)) }
      })
  })
}

/**
 * peers a status report lists, without the status client itself (it dials
 * the daemon from this host's own address with a throw-away identity)
 */
export function meshPeers (st, ownAddr) {
  return (st?.peers ?? []).filter(p => !String(p.addr ?? '').startsWith(`/ip4/${ownAddr}/`))
}

let clkTck = null
/** CLK_TCK (100 on Linux, asked once) */
export function ticksPerSecond () {
  if (clkTck == null) {
    try { clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100 } catch { clkTck = 100 }
  }
  return clkTck
}

/** utime and stime of a process in ms (fields 14, 15 of /proc/PID/stat), or null */
export function cpuMs (pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ') // f[0] = field 3 (state)
    const tick = 1000 / ticksPerSecond()
    return { user: Number(f[11]) * tick, sys: Number(f[12]) * tick }
  } catch { return null }
}

/** running (a zombie counts as gone) */
export function alive (pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return s[s.lastIndexOf(')') + 2] !== 'Z'
  } catch { return false }
}

/** TERM (the daemon stops its phases in reverse), KILL after graceMs; by PID only */
export async function terminate (pid, graceMs = 2000) {
  if (!pid || !alive(pid)) return 0
  const t = Date.now()
  try { process.kill(pid, 'SIGTERM') } catch {}
  while (alive(pid) && Date.now() - t < graceMs) await new Promise(resolve => setTimeout(resolve, 25))
  if (alive(pid)) { try { process.kill(pid, 'SIGKILL') } catch {} }
  return Date.now() - t
}

/** distinct chunk CIDs of a release index (the signed target file) */
export function indexChunks (index) {
  const all = index.files.flatMap(f => f.chunks.map(c => c.cid))
  return { total: all.length, distinct: new Set(all).size }
}
