/**
 * umesh api token create | list | revoke: the HTTP API's bearer tokens in a
 * data dir (the daemon's whose --http-listen serves them). A token is
 * printed once, at creation; the data dir keeps only its hash. Changes take
 * effect at the daemon's next request, without a restart.
 */
import { mkdirSync } from 'node:fs'
import { resolveDataDir } from '../../config/index.js'
import { dataPaths } from '../../data-dir/index.js'
import { UsageError } from '../../errors.js'
import { TokenStore } from '../../http/tokens.js'
import { parse } from '../args.js'
import { table } from './install-actions.js'
import type { Role } from '../../http/tokens.js'
import type { Command } from '../run.js'

const HELP = `umesh api token create --data-dir DIR --role read|operate --name NAME [--json]
    a new token for the HTTP API, printed once (--json: {"token", "id", "name", "role", "created"});
    read: GET routes, the dashboard without controls; operate: also publish, start and steer rollouts
umesh api token list --data-dir DIR [--json]      every token's id, name, role and creation time (never the token)
umesh api token revoke NAME|ID --data-dir DIR     the token stops working at the daemon's next request`

export const command: Command = {
  run: async (argv) => {
    const args = parse('api', argv, { role: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } }, ['dataDir'])
    const o = args.own
    if (o.help === true) {
      process.stdout.write(HELP + '\n')
      return 0
    }
    const [noun, action, ...rest] = args.positionals
    const actions = ['create', 'list', 'revoke']
    if (noun !== 'token' || !actions.includes(action ?? '')) throw new UsageError(`expected "api token ${actions.join('|')}", found "api ${args.positionals.join(' ')}"; see: umesh api --help`)
    const dataDir = resolveDataDir({ flags: args.node, env: process.env })
    const tokens = new TokenStore(dataPaths(dataDir).apiTokens)
    if (action === 'create') {
      if (rest.length > 0) throw new UsageError(`api token create takes no positional arguments, found "${rest.join(' ')}"`)
      if (typeof o.role !== 'string') throw new UsageError('--role read|operate is required')
      if (typeof o.name !== 'string') throw new UsageError('--name NAME is required: it names the token in `api token list` and in the dashboard')
      mkdirSync(dataDir, { recursive: true, mode: 0o700 })
      const { token, info } = tokens.create(o.name, o.role as Role)
      process.stdout.write(o.json === true ? JSON.stringify({ token, ...info }) + '\n' : `${token}\n(the ${info.role} token "${info.name}", id ${info.id}: shown only now; the data dir keeps its hash)\n`)
      return 0
    }
    if (action === 'list') {
      const list = tokens.list()
      if (o.json === true) process.stdout.write(JSON.stringify(list) + '\n')
      else process.stdout.write(list.length === 0 ? 'no API tokens; create one with: umesh api token create --data-dir DIR --role read|operate --name NAME\n' : table(['id', 'name', 'role', 'created'], list.map(t => [t.id, t.name, t.role, t.created])))
      return 0
    }
    if (rest.length !== 1) throw new UsageError('api token revoke takes one NAME or ID')
    const gone = tokens.revoke(rest[0])
    if (gone == null) throw new UsageError(`no token named or with id "${rest[0]}"; see: umesh api token list --data-dir ${dataDir}`)
    process.stdout.write(`revoked the ${gone.role} token "${gone.name}" (${gone.id})\n`)
    return 0
  }
}
