/**
 * The dry run of an install (`--dry-run`): every step it would take, with
 * what each would do, from the same settings and the same journal the real
 * install reads. It writes nothing and takes no lock, so it can run while
 * another install does; it reports a preflight the real install would
 * refuse instead of throwing, so the operator sees the whole plan.
 */
import { existsSync } from 'node:fs'
import { readLedger } from './migrations.js'
import { checkDiskSpace, checkMemory } from './preflight.js'
import { versionDir } from './stage.js'
import type { InstallContext } from './install-context.js'
import type { InstallOptions, InstallResult } from './installer.js'
import type { ReleaseIndex } from '../release/index.js'

/** files of `index` the version `from` holds with the same content and mode (hard-linked, not written) */
function unchangedFiles (ctx: InstallContext, index: ReleaseIndex, from: string | null): number {
  const prev = from == null ? undefined : ctx.init.index(from)
  if (prev == null) return 0
  return index.files.filter(f => prev.files.some(p => p.path === f.path && p.sha256 === f.sha256 && p.mode === f.mode)).length
}

/** the `up` migrations `index` ships that the ledger does not list */
function pendingMigrations (ctx: InstallContext, index: ReleaseIndex): string[] {
  const ledger = existsSync(ctx.root) ? new Set(readLedger(ctx.root).applied.map(a => a.id)) : new Set<string>()
  const shipped = index.files.filter(f => /^migrations\/\d+-[a-z0-9._-]+\.up$/.test(f.path)).map(f => f.path.slice('migrations/'.length, -'.up'.length))
  return shipped.filter(id => !ledger.has(id))
}

/** every step an install of `to` would take, with what it would do; nothing is written */
export async function dryRun (ctx: InstallContext, to: string, index: ReleaseIndex, options: InstallOptions): Promise<InstallResult> {
  const { config, root } = ctx
  const state = existsSync(root) ? ctx.journal() : { current: null, versions: [] as string[], pending: null }
  const steps: string[] = []
  const from = state.current
  const recoverFirst = state.pending != null ? `; first recover the interrupted install of ${state.pending.to}` : ''
  steps.push(`preflight: ${options.kind} ${ctx.pkg} ${from ?? '(none)'} -> ${to}; need ${2 * index.totalSize} bytes free under ${root} and ${config.minFreeMemory} bytes of free memory${recoverFirst}`)
  try {
    // measured on the file system that will hold the install root (its nearest existing folder)
    checkDiskSpace(root, 2 * index.totalSize)
    checkMemory(config.minFreeMemory)
  } catch (err) {
    steps.push(`preflight would refuse: ${(err as Error).message}`)
  }
  const same = unchangedFiles(ctx, index, from)
  steps.push(existsSync(versionDir(root, to))
    ? `stage: versions/${to} is on disk; verify it file by file and reuse it`
    : `stage: write ${index.files.length - same} files and hard-link ${same} unchanged files from ${from ?? '-'} into versions/${to}, verifying every sha256`)
  steps.push(config.statePaths.length === 0 ? 'backup: no state paths configured' : `backup: save ${config.statePaths.join(', ')} as a rollback point${config.encryptBackups ? ' (encrypted)' : ''}`)
  const up = pendingMigrations(ctx, index)
  steps.push(up.length === 0 ? 'migrate: no migrations to run' : `migrate: run up ${up.join(', ')}`)
  steps.push(`switch: current -> versions/${to} (one rename)`)
  steps.push(config.hooks.activate == null ? 'activate: no activate hook configured' : `activate: run ${config.hooks.activate.join(' ')} (timeout ${config.hooks.timeoutMs} ms)`)
  steps.push(config.health == null
    ? 'health: no health check configured'
    : `health: ${config.health.check.type} check (timeout ${config.health.timeoutMs} ms, ${config.health.retries} retries); on failure roll back to ${from ?? 'nothing'}`)
  const versions = [...state.versions.filter(v => v !== to), to]
  const pruned = versions.slice(0, Math.max(0, versions.length - config.keepVersions))
  steps.push(`bless: ${to} becomes current${pruned.length > 0 ? `; remove ${pruned.join(', ')} (keepVersions ${config.keepVersions})` : ''}`)
  for (const s of steps) ctx.say(`[dry run] ${s}`)
  return { dryRun: true, steps }
}
