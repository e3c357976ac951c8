/**
 * Dispatches a command line to its command, and turns any error into one
 * clear line and an exit code: 0 success, 1 operation failed, 2 bad usage or
 * config. --verbose adds the stack.
 */
import { UmeshError, UsageError } from '../errors.js'
import { VERSION } from '../version.js'

export interface Command {
  run: (argv: string[]) => Promise<number>
}

type Loader = () => Promise<{ command: Command }>

export const COMMANDS: Record<string, Loader> = {
  node: async () => await import('./commands/node.js'),
  bootstrap: async () => await import('./commands/bootstrap.js'),
  status: async () => await import('./commands/status.js'),
  keys: async () => await import('./commands/keys.js'),
  demo: async () => await import('./commands/demo.js'),
  repo: async () => await import('./commands/repo.js'),
  release: async () => await import('./commands/release.js'),
  update: async () => await import('./commands/update.js'),
  backups: async () => await import('./commands/backups.js'),
  rollout: async () => await import('./commands/rollout.js'),
  fleet: async () => await import('./commands/fleet.js'),
  api: async () => await import('./commands/api.js'),
  audit: async () => await import('./commands/audit.js')
}

const SUMMARIES: Record<string, string> = {
  node: 'run the node daemon',
  bootstrap: 'run a bootstrap node (the same daemon as a DHT server with gossip peer exchange, no packages)',
  status: 'show the status of the daemon on a data dir, or of any node by multiaddr, over the status protocol',
  keys: 'show or create the node identity (keys show | keys init)',
  demo: 'start a bootstrap node and N nodes on loopback and show the mesh live',
  repo: 'create a release repository (TUF), rotate its keys, show its state (repo init | rotate | status)',
  release: 'publish a release from a directory or tarball into the repository, list or re-announce releases (release add | list | publish)',
  update: 'install, upgrade, downgrade and roll back packages; what this node follows, holds and could update to (update version | status | upgrade | downgrade | rollback | history | check | changelog)',
  backups: 'rollback points the install engine keeps (backups list)',
  rollout: 'roll a release out in waves and steer it, list past rollouts (rollout start | status | history | promote | pause | resume | halt)',
  fleet: 'every node the rollout coordinator has heard of, with versions, state, wave and last report',
  api: 'tokens for the HTTP API and dashboard (--http-listen): create, list, revoke',
  audit: 'the repository\'s signed, chained log of operator actions on releases and rollouts; --verify checks it'
}

export function usage (): string {
  const width = Math.max(...Object.keys(SUMMARIES).map(k => k.length)) + 2
  return [
    `umesh ${VERSION}: a peer-to-peer software-update mesh on libp2p`,
    '',
    'usage: umesh <command> [options]     umesh <command> --help for its options',
    '',
    'commands:',
    ...Object.entries(SUMMARIES).map(([name, text]) => `  ${name.padEnd(width)}${text}`),
    '',
    'exit codes: 0 success, 1 operation failed, 2 bad usage or config'
  ].join('\n')
}

export function printError (err: unknown, verbose: boolean): number {
  const e = err as Error
  const message = e instanceof UmeshError ? e.message : `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`
  process.stderr.write(`umesh: ${message}\n`)
  if (verbose && e?.stack != null) process.stderr.write(`${e.stack}\n`)
  return e instanceof UmeshError ? e.exitCode : 1
}

export async function run (argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose')
  const [name, ...rest] = argv
  try {
    if (name == null || name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(usage() + '\n')
      return 0
    }
    if (name === '--version' || name === 'version') {
      process.stdout.write(`${VERSION}\n`)
      return 0
    }
    const load = COMMANDS[name]
    if (load == null) throw new UsageError(`unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')}`)
    const { command } = await load()
    return await command.run(rest)
  } catch (err) {
    return printError(err, verbose)
  }
}
