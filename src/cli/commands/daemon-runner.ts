/**
 * Runs the daemon in the foreground for `umesh node` and `umesh bootstrap`:
 * prints each phase, stops gracefully on SIGTERM/SIGINT (a second signal
 * forces exit), reloads the config on SIGHUP. Every line goes to stderr in
 * the log format (text, or with --log-format json one JSON object per line,
 * the component logs, Node's warnings and a failed start included).
 */
import { loadConfig, optionsHelp, SCHEMA } from '../../config/index.js'
import { Daemon } from '../../daemon/index.js'
import { ownAddresses } from '../../network/bound-addresses.js'
import { PhaseError, UmeshError } from '../../errors.js'
import { shows } from '../../util/log-level.js'
import { componentLogsAsJson, jsonLine, textLine } from '../../util/log-line.js'
import { parse } from '../args.js'
import type { ConfigSources, LogLevel } from '../../config/index.js'
import type { Role } from '../../network/create-node.js'
import type { LogFields, LogFormat } from '../../util/log-line.js'

const HELP: Record<Role, string> = {
  node: 'umesh node [--config FILE] [options]\n\nRuns the node daemon until SIGTERM or SIGINT; SIGHUP reloads the config.',
  bootstrap: 'umesh bootstrap [--config FILE] [options]\n\nRuns a bootstrap node: the same daemon as a DHT server with gossip peer exchange and no packages.'
}

/** how long a graceful stop may take before the process exits anyway */
const STOP_TIMEOUT_MS = 15_000

/**
 * The log format, known before the first line (the config phase comes
 * second): from the whole config, or when that does not load (the config
 * phase will say why) from the flag and the environment.
 */
function logFormatOf (sources: ConfigSources): LogFormat {
  try {
    return loadConfig(sources).config.logFormat
  } catch {
    const spec = SCHEMA.find(s => s.key === 'logFormat')!
    return (sources.flags.logFormat ?? sources.env[spec.env]) === 'json' ? 'json' : 'text'
  }
}

/** Node's own warnings (a deprecation, too many listeners) as JSON lines instead of its text */
function warningsAsJson (say: (level: LogLevel, text: string, fields?: LogFields) => void): void {
  process.removeAllListeners('warning')
  process.on('warning', warning => { say('warn', `${warning.name}: ${warning.message}`, { component: 'node', warning: warning.name }) })
}

export async function runDaemon (role: Role, argv: string[]): Promise<number> {
  const args = parse(role, argv, { config: { type: 'string' } }, true)
  if (args.own.help === true) {
    process.stdout.write(`${HELP[role]}\n\noptions (flag > environment > config file > bootstrap.json > default):\n  --config FILE  node config file (JSON, keys as below) [default: <dataDir>/config.json when present]\n${optionsHelp()}\n  --verbose  print stacks with errors\n`)
    return 0
  }
  const sources: ConfigSources = { flags: args.node, env: process.env, configFile: args.own.config as string | undefined }
  const daemon = new Daemon({ role, sources })
  const format = logFormatOf(sources)
  const write = (line: string): void => { process.stderr.write(line) }
  const level = (): LogLevel => daemon.loaded?.config.logLevel ?? 'info'
  const say = (lvl: LogLevel, text: string, fields: LogFields = {}): void => {
    if (!shows(level(), lvl)) return
    write(format === 'json' ? jsonLine({ level: lvl, message: text, fields: { component: 'umesh:daemon', ...fields } }) : textLine(`umesh ${role}`, lvl, text))
  }
  if (format === 'json') {
    componentLogsAsJson(write)
    warningsAsJson(say)
  }
  daemon.on('log', say)
  daemon.on('phase', record => {
    if (record.state === 'running') return
    say(record.state === 'failed' ? 'error' : 'info', `phase ${record.name} ${record.state} (${record.durationMs} ms)${record.detail !== '' ? ` ${record.detail}` : ''}`, {
      phase: record.name, state: record.state, durationMs: record.durationMs, ...(record.detail !== '' ? { detail: record.detail } : {})
    })
  })

  let signals = 0
  const stopped = Promise.withResolvers<number>()
  const onStop = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      say('warn', `${signal} again: exiting without a clean stop`, { signal })
      process.exit(130)
    }
    say('info', `${signal}: stopping (send it again to force)`, { signal })
    const force = setTimeout(() => { say('error', 'stop took too long; exiting', { timeoutMs: STOP_TIMEOUT_MS }); process.exit(1) }, STOP_TIMEOUT_MS)
    force.unref()
    daemon.stop().then(() => { stopped.resolve(0) }, err => { say('error', `stop failed: ${(err as Error).message}`); stopped.resolve(1) })
  }
  const onReload = (): void => {
    daemon.reload().then(outcome => {
      const applied = outcome.applied.length > 0 ? `applied ${outcome.applied.join(', ')}` : 'nothing to apply'
      const restart = outcome.restartNeeded.length > 0 ? `; needs a restart: ${outcome.restartNeeded.join(', ')}` : ''
      say('info', `SIGHUP: config reloaded: ${applied}${restart}`, { signal: 'SIGHUP', applied: outcome.applied, restartNeeded: outcome.restartNeeded })
    }, err => {
      say('error', `SIGHUP: new config rejected, keeping the old one: ${(err as Error).message}`, { signal: 'SIGHUP' })
    })
  }
  process.on('SIGTERM', onStop)
  process.on('SIGINT', onStop)
  process.on('SIGHUP', onReload)

  try {
    await daemon.start()
  } catch (err) {
    // in text the CLI prints the error; a JSON log gets it as one more JSON line
    if (format !== 'json') throw err
    const e = err as Error
    say('error', e instanceof UmeshError ? e.message : `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`, {
      error: e?.name,
      ...(e instanceof PhaseError ? { phase: e.phase } : {}),
      ...(args.own.verbose === true && e?.stack != null ? { stack: e.stack } : {})
    })
    return e instanceof UmeshError ? e.exitCode : 1
  }
  const node = daemon.parts.mesh!.node
  const addrs = ownAddresses(node)
  say('info', `ready: ${role} ${node.peerId.toString()} on network ${daemon.config.network}, listening on ${addrs.join(' ')}`, {
    peer: node.peerId.toString(), role, network: daemon.config.network, listen: addrs
  })
  return await stopped.promise
}
