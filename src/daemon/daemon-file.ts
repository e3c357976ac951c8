/**
 * daemon.json in the data dir tells local tools (umesh status --data-dir)
 * how to reach the running daemon: its pid, peer id and addresses. It is
 * trusted only while the data dir's lock is held by that pid.
 */
import { readFileSync, rmSync } from 'node:fs'
import { DaemonNotRunningError } from '../errors.js'
import { lockOwner } from '../identity/index.js'
import { writeFileAtomic } from '../util/fs.js'
import { DATA_FILES, dataPaths } from '../data-dir/index.js'

export const DAEMON_FILE = DATA_FILES.daemonInfo

export interface DaemonFile {
  pid: number
  peerId: string
  role: string
  network: string
  addrs: string[]
  startedAt: number
}

export function writeDaemonFile (dataDir: string, info: DaemonFile): void {
  writeFileAtomic(dataPaths(dataDir).daemonInfo, JSON.stringify(info, null, 2) + '\n', 0o600)
}

export function removeDaemonFile (dataDir: string): void {
  rmSync(dataPaths(dataDir).daemonInfo, { force: true })
}

export function readDaemonFile (dataDir: string): DaemonFile {
  const owner = lockOwner(dataDir)
  let info: DaemonFile
  try {
    info = JSON.parse(readFileSync(dataPaths(dataDir).daemonInfo, 'utf8'))
  } catch {
    throw new DaemonNotRunningError(`no daemon is running on ${dataDir} (no ${DAEMON_FILE}); start one with: umesh node --data-dir ${dataDir}`)
  }
  if (owner == null || owner !== info.pid) {
    throw new DaemonNotRunningError(`no daemon is running on ${dataDir} (its ${DAEMON_FILE} is left from pid ${info.pid}, which is gone or still starting)`)
  }
  return info
}
