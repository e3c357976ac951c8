/**
 * The operations behind `umesh update version | status | upgrade | downgrade
 * | rollback | history` and `umesh backups list`, run by the daemon for a
 * control request or by the CLI on the data dir directly. Arguments come from
 * outside (the CLI, the socket), so each is checked here.
 */
import { UsageError } from '../errors.js'
import type { InstallManager, VersionChoice } from './manager.js'
import type { ControlRequest } from './control.js'

function str (args: Record<string, unknown>, key: string): string | undefined {
  const v = args[key]
  if (v == null) return undefined
  if (typeof v !== 'string' || v.length === 0 || v.length > 256) throw new UsageError(`${key}: expected a string of 1-256 characters`)
  return v
}

function flag (args: Record<string, unknown>, key: string): boolean {
  return args[key] === true
}

function choice (args: Record<string, unknown>, allowRelative: boolean): VersionChoice {
  const to = str(args, 'to')
  const given = [to != null, flag(args, 'latest'), flag(args, 'stable')].filter(Boolean).length
  if (!allowRelative) {
    if (to == null) throw new UsageError('give the version to go to with --to V')
    return { to }
  }
  if (given !== 1) throw new UsageError('give exactly one of --latest (newest on the followed channel), --stable (newest stable) or --to V')
  return to != null ? { to } : flag(args, 'latest') ? { latest: true } : { stable: true }
}

export async function runOperation (manager: InstallManager, request: ControlRequest, say: (line: string) => void): Promise<unknown> {
  const { op, args } = request
  const pkg = str(args, 'package')
  const packages = (): string[] => pkg == null ? [...manager.installers.keys()] : [manager.installer(pkg).journal().package]
  switch (op) {
    case 'version':
      return packages().map(p => {
        const s = manager.status().find(x => x.package === p)!
        return flag(args, 'detailed') ? s : { package: p, current: s.current }
      })
    case 'status':
      return packages().map(p => {
        const s = manager.status().find(x => x.package === p)!
        const installer = manager.installer(p)
        return { ...s, journalPending: installer.journal().pending, last: installer.history().at(-1) ?? null }
      })
    case 'upgrade':
    case 'downgrade':
      return await manager.withSay(say, async () => await manager.upgrade({
        ...(pkg != null ? { package: pkg } : {}),
        choice: choice(args, op === 'upgrade'),
        dryRun: flag(args, 'dryRun'),
        force: flag(args, 'force')
      }, op))
    case 'rollback':
      return await manager.withSay(say, async () => await manager.rollback(pkg, str(args, 'updateId')))
    case 'history': {
      const limit = args.limit == null ? 50 : Number(args.limit)
      if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new UsageError('--limit: expected an integer from 1 to 100000')
      const entries = packages().flatMap(p => manager.installer(p).history())
      entries.sort((a, b) => a.startedAt.localeCompare(b.startedAt))
      return entries.slice(-limit)
    }
    case 'backups':
      return packages().flatMap(p => manager.installer(p).backups().map(b => ({ ...b, package: p })))
    default:
      throw new UsageError(`unknown operation "${op}"`)
  }
}
