/**
 * The lines every benchmark prints first, so a figure can be read against
 * the machine, the node and libp2p versions and the commit that made it.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** the project's root (this file runs as dist/bench/machine.js) */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** `daemonCli`, when given, is named relative to the project root as the script the daemons run */
export function machine (daemonCli?: string): string[] {
  const cpu = cpus()
  let commit = 'unknown'
  try {
    commit = execFileSync('git', ['-C', PROJECT_ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const dirty = execFileSync('git', ['-C', PROJECT_ROOT, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    if (dirty !== '') commit += ' (with uncommitted changes)'
  } catch {}
  let libp2p = 'unknown'
  try { libp2p = JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', 'libp2p', 'package.json'), 'utf8')).version } catch {}
  const daemons = daemonCli != null ? `daemons run ${daemonCli.replace(PROJECT_ROOT, '')}; ` : ''
  return [
    `machine: ${cpu.length} CPU(s), ${cpu[0]?.model ?? 'unknown'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${platform()} ${release()} ${arch()}`,
    `node ${process.version}, libp2p ${libp2p}, update-mesh commit ${commit}; ${daemons}load average at start ${loadavg().map(l => l.toFixed(2)).join(' ')}`
  ]
}
