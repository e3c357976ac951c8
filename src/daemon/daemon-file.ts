/**
 * daemon.json in the data dir tells local tools (umesh status --data-dir)
 * how to reach the running daemon: its pid, peer id and addresses. It is
 * trusted only while the data dir's lock is held by that pid.
 */
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { DaemonNotRunningError } from '../errors.js'
import { lockOwner } from '../identity/index.js'
import { writeFileAtomic } from '../util/fs.js'

export const DAEMON_FILE = 'daemon.json'

export interface DaemonFile {
  pid: number
  peerId: string
  role: string
  network: string
  addrs: string[]
  startedAt: number
}

export function writeDaemonFile (dataDir: string, info: DaemonFile): void {
  writeFileAtomic(join(dataDir, DAEMON_FILE), JSON.stringify(info, null, 2) + '\n', 0o600)
}

export function removeDaemonFile (dataDir: string): void {
  rmSync(join(dataDir, DAEMON_FILE), { force: true })
}

export function readDaemonFile (dataDir: string): DaemonFile {
  const owner = lockOwner(dataDir)
  let info: DaemonFile
  try {
    info = JSON.parse(readFileSync(join(dataDir, DAEMON_FILE), 'utf8'))
  } catch {
    throw new DaemonNotRunningError(`no daemon is running on ${dataDir} (no ${DAEMON_FILE}); start one with: umesh node --data-dir ${dataDir}`)
  }
  if (owner == null || owner !== info.pid) {
    throw new DaemonNotRunningError(`no daemon is running on ${dataDir} (its ${DAEMON_FILE} is left from pid ${info.pid}, which is gone or still starting)`)
  }
  return info
}
