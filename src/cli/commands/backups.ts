/**
 * umesh backups list [--package P] [--json]: the rollback points the install
 * engine keeps (one per install whose version is still on disk).
 */
import { UsageError } from '../../errors.js'
import { parse } from '../args.js'
import { execute, table } from './install-actions.js'
import type { Command } from '../run.js'

const HELP = `umesh backups list [--package P] [--data-dir DIR] [--json]
    rollback points: id (the install that took it), package, version it saved, created, encrypted, entries, bytes`

export const command: Command = {
  run: async (argv) => {
    const args = parse('backups', argv, { package: { type: 'string' }, json: { type: 'boolean' }, config: { type: 'string' } }, ['dataDir'])
    if (args.own.help === true) {
      process.stdout.write(HELP + '\n')
      return 0
    }
    if (args.positionals.join(' ') !== 'list') throw new UsageError(`expected "backups list", found "backups ${args.positionals.join(' ')}"; see: umesh backups --help`)
    const value = await execute(args, { op: 'backups', args: { package: args.own.package } }, () => {}) as any[]
    if (args.own.json === true) {
      process.stdout.write(JSON.stringify(value) + '\n')
      return 0
    }
    if (value.length === 0) {
      process.stdout.write('no rollback points\n')
      return 0
    }
    process.stdout.write(table(['id', 'package', 'version', 'created', 'encrypted', 'entries', 'bytes'],
      value.map(b => [b.id, b.package, b.version ?? '-', b.created, b.encrypted ? 'yes' : 'no', String(b.entries), String(b.bytes)])))
    return 0
  }
}
