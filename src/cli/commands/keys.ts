/**
 * umesh keys show | init: the node identity in a data dir. `init` lets an
 * operator learn a bootstrap node's peer id (for bootstrap.json) before it
 * first starts.
 */
import { existsSync } from 'node:fs'
import { mkdirSync } from 'node:fs'
import { resolveDataDir } from '../../config/index.js'
import { IdentityError, UsageError } from '../../errors.js'
import { createIdentity, identityPath, loadIdentity } from '../../identity/index.js'
import { parse } from '../args.js'
import type { Command } from '../run.js'

const HELP = `umesh keys show --data-dir DIR     print the node's peer id
umesh keys init --data-dir DIR     create the node's Ed25519 key (mode 0600) if there is none, and print its peer id`

export const command: Command = {
  run: async (argv) => {
    const args = parse('keys', argv, {}, ['dataDir'])
    const [action, ...extra] = args.positionals
    if (args.own.help === true) {
      process.stdout.write(HELP + '\n')
      return 0
    }
    if ((action !== 'show' && action !== 'init') || extra.length > 0) {
      throw new UsageError(`expected "keys show" or "keys init", found "keys ${args.positionals.join(' ')}"`)
    }
    const dataDir = resolveDataDir({ flags: args.node, env: process.env })
    if (action === 'init' && !existsSync(identityPath(dataDir))) {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 })
      process.stdout.write(`${(await createIdentity(dataDir)).peerId.toString()}\n`)
      return 0
    }
    if (!existsSync(identityPath(dataDir))) {
      throw new IdentityError(`no identity in ${dataDir}; create one with: umesh keys init --data-dir ${dataDir} (or start the node once)`)
    }
    process.stdout.write(`${(await loadIdentity(dataDir)).peerId.toString()}\n`)
    return 0
  }
}
