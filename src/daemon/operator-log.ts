/**
 * The component logger the daemon hands its parts: every component logs
 * through libp2p's logger (`DEBUG=umesh:*`), and what a component logs as an
 * error (an auto-update that did not complete, a rollout document that is
 * not used) also reaches the operator's log at `warn`, one line, the way
 * the daemon's own messages do, with the component's name and the peer and
 * error it names as fields.
 */
import { defaultLogger } from '@libp2p/logger'
import { formatLine, lineFields } from '../util/format-line.js'
import type { LogFields } from '../util/log-line.js'
import type { ComponentLogger, Logger } from '@libp2p/interface'

export function operatorLogger (onError: (line: string, fields: LogFields) => void, base: ComponentLogger = defaultLogger()): ComponentLogger {
  return {
    forComponent (name: string): Logger {
      const log = base.forComponent(name)
      const wrapped = Object.assign((formatter: any, ...args: any[]) => { log(formatter, ...args) }, {
        error: (formatter: any, ...args: any[]) => {
          log.error(formatter, ...args)
          onError(formatLine(formatter, ...args), { component: name, ...lineFields(formatter, ...args) })
        },
        trace: log.trace.bind(log),
        newScope: (scope: string) => log.newScope(scope),
        get enabled () { return log.enabled }
      })
      return wrapped as Logger
    }
  }
}
