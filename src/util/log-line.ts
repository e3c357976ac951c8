/**
 * The daemon's log lines on stderr, in one of two formats: text, one line
 * for people (`umesh node: warn: ...`), or json, one object per line for
 * Loki, Elasticsearch or journald: `time` (ISO), `level`, `component`,
 * `message`, then what is known of the message (`peer`, `package`,
 * `version`, `phase`, `durationMs`, ...).
 *
 * A JSON line is valid and one line whatever its fields hold: newlines are
 * escaped, bigints written as strings, cycles and values that cannot be
 * serialised replaced by a marker. Fields named like credentials (token,
 * secret, password, authorization, cookie, private key) are written as
 * "[redacted]".
 *
 * libp2p's component logs (`@libp2p/logger`, on weald, its fork of the
 * `debug` package) are switched to the same JSON lines by
 * `componentLogsAsJson`: the namespace becomes the component, `:error` and
 * `:trace` namespaces the level.
 */
import { format, inspect } from 'node:util'
import weald from 'weald'
import type { LogLevel } from './log-level.js'

/** the config's logFormat */
export type LogFormat = 'text' | 'json'

/** what is known of a message beyond its text */
export interface LogFields {
  /** the part that speaks: umesh:daemon, umesh:install, libp2p:identify, ... */
  component?: string
  peer?: string
  package?: string
  version?: string
  phase?: string
  durationMs?: number
  [field: string]: unknown
}

export interface LogRecord {
  level: LogLevel
  message: string
  fields?: LogFields
  /** default: now */
  time?: Date
}

/** the component of a line that names none */
export const DEFAULT_COMPONENT = 'umesh'

const RESERVED = new Set(['time', 'level', 'component', 'message'])
const SECRET_FIELD = /authori[sz]ation|cookie|passw(?:or)?d|secret|token|private.?key|api.?key/i

/** a text line as the daemon has always written them: `umesh node: warn: text` (no level for info) */
export function textLine (prefix: string, level: LogLevel, message: string): string {
  return `${prefix}: ${level === 'info' ? '' : `${level}: `}${message}\n`
}

/** one JSON object and a newline: time, level, component, message, then the other fields */
export function jsonLine (record: LogRecord): string {
  const { component, ...fields } = record.fields ?? {}
  const time = record.time != null && !Number.isNaN(record.time.getTime()) ? record.time : new Date()
  const parts = [
    `"time":${JSON.stringify(time.toISOString())}`,
    `"level":${JSON.stringify(String(record.level))}`,
    `"component":${JSON.stringify(typeof component === 'string' && component !== '' ? component : DEFAULT_COMPONENT)}`,
    `"message":${JSON.stringify(String(record.message))}`
  ]
  for (const [key, value] of Object.entries(fields)) {
    if (RESERVED.has(key)) continue
    const json = SECRET_FIELD.test(key) ? '"[redacted]"' : jsonValue(value)
    if (json !== undefined) parts.push(`${JSON.stringify(key)}:${json}`)
  }
  return `{${parts.join(',')}}\n`.replace(/[\u2028\u2029]/g, c => `\\u${c.charCodeAt(0).toString(16)}`)
}

/**
 * A value as JSON text, or undefined for nothing to write (undefined, a
 * function). Never throws: a value whose serialisation fails (a throwing
 * getter or toJSON) is written as "[unserialisable]".
 */
export function jsonValue (value: unknown): string | undefined {
  try {
    return JSON.stringify(value, replacer())
  } catch {
    return '"[unserialisable]"'
  }
}

/** a JSON.stringify replacer for bigints, errors, bytes, maps, sets and cycles */
function replacer (): (this: unknown, key: string, value: unknown) => unknown {
  // the objects on the path from the root to the value: a value among them is a cycle
  const path: unknown[] = []
  return function (this: unknown, key, value) {
    // a Buffer arrives here already through its toJSON: the holder still has the bytes
    const original = (this as Record<string, unknown>)[key]
    if (original instanceof Uint8Array) return `[${original.byteLength} bytes]`
    if (typeof value === 'bigint') return value.toString()
    if (typeof value === 'symbol') return value.toString()
    if (value == null || typeof value !== 'object') return value
    while (path.length > 0 && path[path.length - 1] !== this) path.pop()
    if (path.includes(value)) return '[Circular]'
    path.push(value)
    const written = value instanceof Error
      ? { name: value.name, message: value.message }
      : value instanceof Map
        ? Object.fromEntries([...value].map(([k, v]) => [String(k), v]))
        : value instanceof Set ? [...value] : value
    // the children of a replacement are visited with it as their holder
    if (written !== value) path.push(written)
    return written
  }
}

interface Debugger { namespace: string }

/**
 * Switches libp2p's component logs (every `@libp2p/logger` logger, ours and
 * libp2p's own) to JSON lines written by `write`. Which namespaces log
 * stays with the log level (log-level.ts) and DEBUG. Call it once
 * `@libp2p/logger` is loaded (it registers its `%p`, `%a`, `%e` formatters
 * when loaded; the peer id formatter is wrapped here). Returns the undo.
 */
export function componentLogsAsJson (write: (line: string) => void): () => void {
  const saved = { log: weald.log, formatArgs: weald.formatArgs, p: weald.formatters.p, o: weald.formatters.o, O: weald.formatters.O }
  // the first peer id (%p) of the message being formatted: formatters run, then formatArgs and log, in one call
  let peer: string | undefined
  weald.formatters.p = function (this: unknown, v: unknown) {
    const text = saved.p != null ? saved.p.call(this, v) : String(v)
    peer ??= v == null ? undefined : text
    return text
  }
  const plain = (v: unknown): string => inspect(v, { colors: false, breakLength: Infinity, depth: 4 })
  weald.formatters.o = plain
  weald.formatters.O = plain
  // no date, colour or namespace prefix: they are fields of the line
  weald.formatArgs = function () {}
  weald.log = function (this: Debugger, ...args: unknown[]) {
    const record = componentRecord(this.namespace, args, peer)
    peer = undefined
    write(jsonLine(record))
  } as typeof weald.log
  return () => {
    Object.assign(weald, { log: saved.log, formatArgs: saved.formatArgs })
    for (const code of ['p', 'o', 'O'] as const) {
      if (saved[code] != null) weald.formatters[code] = saved[code]
      else delete weald.formatters[code]
    }
  }
}

/** a component log call as a record: `libp2p:dialer:error` is level error of component libp2p:dialer */
export function componentRecord (namespace: string, args: unknown[], peer?: string): LogRecord {
  const match = /^(.*):(error|trace)$/.exec(namespace)
  const level: LogLevel = match != null ? match[2] as LogLevel : 'debug'
  const fields: LogFields = { component: match != null ? match[1] : namespace }
  if (peer != null) fields.peer = peer
  return { level, message: format(...args), fields }
}
