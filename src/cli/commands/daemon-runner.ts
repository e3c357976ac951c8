/**
 * Runs the daemon in the foreground for `umesh node` and `umesh bootstrap`:
 * prints each phase, stops gracefully on SIGTERM/SIGINT (a second signal
 * forces exit), reloads the config on SIGHUP.
 */
import { optionsHelp } from '../../config/index.js'
import { Daemon } from '../../daemon/index.js'
import { shows } from '../../util/log-level.js'
import { parse } from '../args.js'
import type { LogLevel } from '../../config/index.js'
import type { Role } from '../../network/create-node.js'

const HELP: Record<Role, string> = {
  node: 'umesh node [--config FILE] [options]\n\nRuns the node daemon until SIGTERM or SIGINT; SIGHUP reloads the config.',
  bootstrap: 'umesh bootstrap [--config FILE] [options]\n\nRuns a bootstrap node: the same daemon as a DHT server with gossip peer exchange and no packages.'
}

/** how long a graceful stop may take before the process exits anyway */
const STOP_TIMEOUT_MS = 15_000

export async function runDaemon (role: Role, argv: string[]): Promise<number> {
  const args = parse(role, argv, { config: { type: 'string' } }, true)
  if (args.own.help === true) {
    process.stdout.write(`${HELP[role]}\n\noptions (flag > environment > config file > bootstrap.json > default):\n  --config FILE  node config file (JSON, keys as below) [default: <dataDir>/config.json when present]\n${optionsHelp()}\n  --verbose  print stacks with errors\n`)
    return 0
  }
  const daemon = new Daemon({ role, sources: { flags: args.node, env: process.env, configFile: args.own.config as string | undefined } })
  const level = (): LogLevel => daemon.loaded?.config.logLevel ?? 'info'
  const say = (lvl: LogLevel, text: string): void => {
    if (shows(level(), lvl)) process.stderr.write(`umesh ${role}: ${lvl === 'info' ? '' : `${lvl}: `}${text}\n`)
  }
  daemon.on('log', say)
  daemon.on('phase', record => {
    if (record.state === 'running') return
    say(record.state === 'failed' ? 'error' : 'info', `phase ${record.name} ${record.state} (${record.durationMs} ms)${record.detail !== '' ? ` ${record.detail}` : ''}`)
  })

  let signals = 0
  const stopped = Promise.withResolvers<number>()
  const onStop = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      say('warn', `${signal} again: exiting without a clean stop`)
      process.exit(130)
    }
    say('info', `${signal}: stopping (send it again to force)`)
    const force = setTimeout(() => { say('error', 'stop took too long; exiting'); process.exit(1) }, STOP_TIMEOUT_MS)
    force.unref()
    daemon.stop().then(() => { stopped.resolve(0) }, err => { say('error', `stop failed: ${(err as Error).message}`); stopped.resolve(1) })
  }
  const onReload = (): void => {
    daemon.reload().then(outcome => {
      const applied = outcome.applied.length > 0 ? `applied ${outcome.applied.join(', ')}` : 'nothing to apply'
      const restart = outcome.restartNeeded.length > 0 ? `; needs a restart: ${outcome.restartNeeded.join(', ')}` : ''
      say('info', `SIGHUP: config reloaded: ${applied}${restart}`)
    }, err => {
      say('error', `SIGHUP: new config rejected, keeping the old one: ${(err as Error).message}`)
    })
  }
  process.on('SIGTERM', onStop)
  process.on('SIGINT', onStop)
  process.on('SIGHUP', onReload)

  await daemon.start()
  const node = daemon.parts.mesh!.node
  say('info', `ready: ${role} ${node.peerId.toString()} on network ${daemon.config.network}, listening on ${node.getMultiaddrs().map(a => a.toString()).join(' ')}`)
  return await stopped.promise
}
