/**
 * Maps the configured log level onto the libp2p logger's namespaces:
 * debug shows update-mesh's component logs, trace adds libp2p's own.
 * An explicit DEBUG environment variable wins over the config.
 */
import { enable, disable } from '@libp2p/logger'

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'trace'] as const
export type LogLevel = typeof LOG_LEVELS[number]

export function applyLogLevel (level: LogLevel, env: Record<string, string | undefined> = process.env): void {
  if (env.DEBUG != null && env.DEBUG !== '') return
  if (level === 'trace') enable('umesh:*,umesh:*:trace,libp2p:*')
  else if (level === 'debug') enable('umesh:*')
  else disable()
}

const ORDER: LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace']

/** whether a message of `level` is shown when the node runs at `threshold` */
export function shows (threshold: LogLevel, level: LogLevel): boolean {
  return ORDER.indexOf(level) <= ORDER.indexOf(threshold)
}
