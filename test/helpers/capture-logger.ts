/**
 * A libp2p Logger that keeps every line it is given (errors prefixed
 * "error: "), formatted the way the daemon's operator log formats them, for
 * tests that assert on what a component logged.
 */
import { formatLine } from '../../src/util/format-line.js'
import type { ComponentLogger, Logger } from '@libp2p/interface'

export interface CapturedLog {
  logger: Logger
  components: ComponentLogger
  lines: string[]
}

/** a Logger that pushes each formatted line into `lines` */
export function loggerInto (lines: string[]): Logger {
  return captureLogger(lines).logger
}

export function captureLogger (lines: string[] = []): CapturedLog {
  const make = (): Logger => Object.assign((formatter: any, ...args: any[]) => { lines.push(formatLine(formatter, ...args)) }, {
    error: (formatter: any, ...args: any[]) => { lines.push(`error: ${formatLine(formatter, ...args)}`) },
    trace: () => {},
    enabled: true,
    newScope: () => make()
  })
  const logger = make()
  return { logger, components: { forComponent: () => logger }, lines }
}
