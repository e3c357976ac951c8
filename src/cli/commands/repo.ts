/**
 * umesh repo init | rotate | status: the publisher's TUF repository.
 */
import { resolve } from 'node:path'
import { UsageError } from '../../errors.js'
import { DEFAULT_EXPIRY, ROLE_NAMES, Repository } from '../../trust/repository.js'
import { parse } from '../args.js'
import type { Expiry, RoleName } from '../../trust/repository.js'
import type { Command } from '../run.js'
import type { FlagSpec } from '../args.js'

const HELP = `umesh repo init --repo DIR [--root-keys N] [--root-threshold K] [--<role>-expiry DAYS]...
    create a TUF repository: root (K of N keys, each in its own file: move them offline),
    targets, snapshot, timestamp, and the delegated rollouts role; prints the root to ship to nodes
umesh repo rotate --repo DIR --role ${ROLE_NAMES.join('|')}
    replace a role's key; a new root version is signed by the old and the new keys
umesh repo status --repo DIR [--json]
    versions, expiries and keys of every role (and whether each private key is on this machine)

expiry defaults (days): ${ROLE_NAMES.map(r => `${r} ${DEFAULT_EXPIRY[r]}`).join(', ')}`

const EXPIRY_FLAGS: Record<string, FlagSpec> = Object.fromEntries(ROLE_NAMES.map(r => [`${r}-expiry`, { type: 'string' }]))

function count (value: unknown, flag: string, min: number, max: number): number | undefined {
  if (value == null) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag}: expected a whole number from ${min} to ${max}, found "${String(value)}"`)
  return n
}

export const command: Command = {
  run: async (argv) => {
    const args = parse('repo', argv, {
      repo: { type: 'string' },
      'root-keys': { type: 'string' },
      'root-threshold': { type: 'string' },
      role: { type: 'string' },
      json: { type: 'boolean' },
      ...EXPIRY_FLAGS
    }, false)
    if (args.own.help === true) {
      process.stdout.write(HELP + '\n')
      return 0
    }
    const [action, ...extra] = args.positionals
    if (!['init', 'rotate', 'status'].includes(action ?? '') || extra.length > 0) {
      throw new UsageError(`expected "repo init", "repo rotate" or "repo status", found "repo ${args.positionals.join(' ')}"; see: umesh repo --help`)
    }
    if (args.own.repo == null) throw new UsageError('--repo DIR is required')
    const dir = resolve(args.own.repo as string)
    if (action === 'init') {
      const expiry: Partial<Expiry> = {}
      for (const role of ROLE_NAMES) {
        const days = count(args.own[`${role}-expiry`], `--${role}-expiry`, 1, 3650)
        if (days != null) expiry[role] = days
      }
      const repo = Repository.init(dir, {
        rootKeys: count(args.own['root-keys'], '--root-keys', 1, 16),
        rootThreshold: count(args.own['root-threshold'], '--root-threshold', 1, 16),
        expiry
      })
      process.stdout.write(`created repository ${dir}\nroot to ship to nodes: ${repo.rootFile()}\nkeys (move the root keys offline): ${repo.keysDir}\n`)
      return 0
    }
    const repo = Repository.open(dir)
    if (action === 'rotate') {
      const role = args.own.role as RoleName | undefined
      if (role == null || !ROLE_NAMES.includes(role)) throw new UsageError(`--role: expected one of ${ROLE_NAMES.join(', ')}, found "${String(role)}"`)
      const fresh = repo.rotate(role)
      process.stdout.write(`rotated ${role}: new key ${fresh.map(k => k.keyId.slice(0, 12)).join(', ')}; root is now version ${repo.signedOf('root').version as number}\n`)
      return 0
    }
    const status = repo.status()
    if (args.own.json === true) {
      process.stdout.write(JSON.stringify(status) + '\n')
      return 0
    }
    for (const s of status) {
      const keys = s.keys.map(k => `${k.keyId.slice(0, 12)}${k.here ? '' : ' (offline)'}`).join(', ')
      process.stdout.write(`${s.role.padEnd(10)} version ${String(s.version).padEnd(4)} expires ${s.expires}  threshold ${s.threshold}  keys ${keys}\n`)
    }
    return 0
  }
}
