/**
 * `umesh update version | status | upgrade | downgrade | rollback | history`
 * and `umesh backups list`: sent to the node's daemon over its control
 * socket when it runs, run on the data dir directly (holding the data dir
 * lock) when it does not.
 */
import { loadConfig } from '../../config/index.js'
import { openChunkStore } from '../../content/index.js'
import { dataPaths } from '../../data-dir/index.js'
import { acquireLock, lockOwner } from '../../identity/lock.js'
import { defaultLogger } from '@libp2p/logger'
import { InstallManager, callControl, runOperation } from '../../install/index.js'
import type { Parsed } from '../args.js'
import type { ControlRequest } from '../../install/index.js'
import type { HistoryEntry } from '../../install/types.js'

/** long enough for a large install with a slow health check; reads are quick */
const INSTALL_TIMEOUT_MS = 60 * 60_000
const READ_TIMEOUT_MS = 30_000

export async function execute (args: Parsed, request: ControlRequest, say: (line: string) => void): Promise<unknown> {
  const { config } = loadConfig({ flags: args.node, env: process.env, ...(typeof args.own.config === 'string' ? { configFile: args.own.config } : {}) })
  const dataDir = config.dataDir
  const owner = lockOwner(dataDir)
  const writes = ['upgrade', 'downgrade', 'rollback'].includes(request.op) && request.args.dryRun !== true
  if (owner != null && owner !== process.pid) {
    return await callControl(dataDir, request, say, writes ? INSTALL_TIMEOUT_MS : READ_TIMEOUT_MS)
  }
  const lock = acquireLock(dataDir)
  try {
    const paths = dataPaths(dataDir)
    const store = await openChunkStore(paths.chunks)
    const manager = new InstallManager({ paths, store, logger: defaultLogger() }, { packages: config.packages })
    return await runOperation(manager, request, say)
  } finally {
    lock.release()
  }
}

function row (cells: string[], widths: number[]): string {
  return cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
}

export function table (header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  return [row(header, widths), ...rows.map(r => row(r, widths))].join('\n') + '\n'
}

export function historyText (entries: HistoryEntry[]): string {
  if (entries.length === 0) return 'no installs recorded\n'
  return table(['id', 'package', 'kind', 'from', 'to', 'started', 'finished', 'outcome', 'reason'],
    entries.map(e => [e.id, e.package, e.kind, e.from ?? '-', e.to, e.startedAt, e.finishedAt, e.outcome, e.reason === '' ? '-' : `${e.step != null ? `[${e.step}] ` : ''}${e.reason}`]))
}
