/**
 * Flag parsing on node:util's parseArgs. The node options come from the
 * config schema, so every option has exactly one flag and the help text
 * lists them all; each command adds its own few flags.
 */
import { parseArgs } from 'node:util'
import { SCHEMA } from '../config/index.js'
import { UsageError } from '../errors.js'
import type { OptionKey } from '../config/index.js'

export interface FlagSpec {
  type: 'string' | 'boolean'
  multiple?: boolean
  short?: string
}

export interface Parsed {
  /** schema options given as flags, by config key */
  node: Partial<Record<OptionKey, unknown>>
  /** the command's own flags */
  own: Record<string, string | boolean | string[] | undefined>
  positionals: string[]
}

/** flags every command takes */
export const COMMON_FLAGS: Record<string, FlagSpec> = {
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean' }
}

export function parse (command: string, argv: string[], own: Record<string, FlagSpec>, withSchema: boolean | OptionKey[]): Parsed {
  const specs = withSchema === false ? [] : SCHEMA.filter(s => withSchema === true || withSchema.includes(s.key))
  const options: Record<string, FlagSpec> = { ...COMMON_FLAGS, ...own }
  for (const spec of specs) {
    if (spec.arg == null) {
      options[spec.flag] = { type: 'boolean' }
      options[`no-${spec.flag}`] = { type: 'boolean' }
    } else {
      options[spec.flag] = { type: 'string', multiple: Array.isArray(spec.default) || spec.repeatable === true }
    }
  }
  let values: Record<string, unknown>
  let positionals: string[]
  try {
    ({ values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true }))
  } catch (err) {
    throw new UsageError(`${(err as Error).message.replace(/\. To specify.*$/s, '')}; see: umesh ${command} --help`)
  }
  const node: Partial<Record<OptionKey, unknown>> = {}
  for (const spec of specs) {
    if (spec.arg == null) {
      if (values[spec.flag] === true && values[`no-${spec.flag}`] === true) {
        throw new UsageError(`--${spec.flag} and --no-${spec.flag} contradict each other; give one`)
      }
      if (values[spec.flag] === true) node[spec.key] = true
      if (values[`no-${spec.flag}`] === true) node[spec.key] = false
    } else if (values[spec.flag] !== undefined) {
      const v = values[spec.flag]
      node[spec.key] = Array.isArray(v) ? v.flatMap(s => String(s).split(',')).map(s => s.trim()).filter(s => s !== '') : v
    }
  }
  const ownValues: Parsed['own'] = {}
  for (const name of Object.keys(options)) {
    if (own[name] != null || COMMON_FLAGS[name] != null) ownValues[name] = values[name] as any
  }
  return { node, own: ownValues, positionals }
}
