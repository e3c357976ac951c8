/**
 * One log line from a libp2p-style format string: `%p` (a peer id) and `%e`
 * (an error, its message) as plain text, the other specifiers as
 * util.format writes them, extra arguments appended. `lineFields` picks
 * out what a JSON line carries apart: the first peer id and error.
 */
import { format } from 'node:util'

export function formatLine (formatter: unknown, ...args: unknown[]): string {
  if (typeof formatter !== 'string') return format(formatter, ...args)
  let i = 0
  const text = formatter.replace(/%([a-zA-Z%])/g, (_match, code: string) => {
    if (code === '%') return '%'
    const arg = args[i++]
    if (code === 'p') return String(arg)
    if (code === 'e') return arg instanceof Error ? arg.message : String(arg)
    return format(`%${code}`, arg)
  })
  return i < args.length ? `${text} ${args.slice(i).map(a => format('%s', a)).join(' ')}` : text
}

/** the first peer id (`%p`) and error (`%e`) of a format string's arguments */
export function lineFields (formatter: unknown, ...args: unknown[]): { peer?: string, error?: string } {
  const fields: { peer?: string, error?: string } = {}
  if (typeof formatter !== 'string') return fields
  let i = 0
  for (const [, code] of formatter.matchAll(/%([a-zA-Z%])/g)) {
    if (code === '%') continue
    const arg = args[i++]
    if (arg == null) continue
    if (code === 'p') fields.peer ??= String(arg)
    if (code === 'e') fields.error ??= arg instanceof Error ? arg.message : String(arg)
  }
  return fields
}
