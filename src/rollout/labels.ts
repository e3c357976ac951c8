/**
 * Node labels: `key=value` pairs an operator gives a node (`--label
 * region=eu-west`, or `"labels": {"region": "eu-west"}` in the node config
 * file) so that a rollout can select nodes by them (see selector.ts).
 *
 * The rules are Kubernetes' label rules, so operators need not learn new
 * ones:
 *   key    [prefix/]name. name: 1-63 of [A-Za-z0-9._-], starting and
 *          ending with a letter or digit. prefix (optional): a DNS
 *          subdomain of at most 253 characters, lowercase labels of
 *          [a-z0-9-] joined by dots.
 *   value  0-63 of [A-Za-z0-9._-], starting and ending with a letter or
 *          digit when not empty.
 * A node has at most MAX_LABELS labels and MAX_LABELS_CHARS characters of
 * keys and values together, so a signed report carrying them stays small.
 */
import { ConfigError } from '../errors.js'

export type Labels = Record<string, string>

export const MAX_LABELS = 16
/** keys and values together */
export const MAX_LABELS_CHARS = 1024
export const MAX_LABEL_NAME = 63
export const MAX_LABEL_PREFIX = 253
export const MAX_LABEL_VALUE = 63

const NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/

/** what is wrong with a label key, or undefined */
export function labelKeyProblem (key: string): string | undefined {
  if (key === '') return 'the key is empty'
  const slash = key.indexOf('/')
  const prefix = slash === -1 ? undefined : key.slice(0, slash)
  const name = slash === -1 ? key : key.slice(slash + 1)
  if (prefix != null) {
    if (prefix === '') return `the key "${key}" has an empty prefix before "/"`
    if (prefix.length > MAX_LABEL_PREFIX) return `the prefix of "${key}" has ${prefix.length} characters, at most ${MAX_LABEL_PREFIX}`
    if (!prefix.split('.').every(part => part.length <= 63 && DNS_LABEL.test(part))) return `the prefix "${prefix}" of the key is not a DNS subdomain (lowercase a-z 0-9 - in dot-separated parts, e.g. example.com)`
  }
  if (name === '') return `the key "${key}" has no name after the prefix`
  if (name.length > MAX_LABEL_NAME) return `the name "${name}" has ${name.length} characters, at most ${MAX_LABEL_NAME}`
  if (!NAME.test(name)) return `the name "${name}" is not 1-${MAX_LABEL_NAME} of A-Z a-z 0-9 . _ - starting and ending with a letter or digit`
  return undefined
}

/** what is wrong with a label value, or undefined; empty is allowed */
export function labelValueProblem (value: string): string | undefined {
  if (value === '') return undefined
  if (value.length > MAX_LABEL_VALUE) return `the value has ${value.length} characters, at most ${MAX_LABEL_VALUE}`
  if (!NAME.test(value)) return `the value "${value}" is not 0-${MAX_LABEL_VALUE} of A-Z a-z 0-9 . _ - starting and ending with a letter or digit`
  return undefined
}

/** what is wrong with a set of labels as a whole (each label, their number and size), or undefined */
export function labelsProblem (labels: Labels): string | undefined {
  const keys = Object.keys(labels)
  if (keys.length > MAX_LABELS) return `${keys.length} labels, at most ${MAX_LABELS}`
  let chars = 0
  for (const key of keys) {
    const value = labels[key]
    if (typeof value !== 'string') return `label ${key}: expected a string value, found ${JSON.stringify(value)?.slice(0, 40)}`
    const problem = labelKeyProblem(key) ?? labelValueProblem(value)
    if (problem != null) return `label ${key}=${value.slice(0, 70)}: ${problem}`
    chars += key.length + value.length
  }
  if (chars > MAX_LABELS_CHARS) return `the labels take ${chars} characters (keys and values), at most ${MAX_LABELS_CHARS}`
  return undefined
}

/**
 * The config parser for `labels`: an object `{"key": "value"}` (the config
 * file), or `key=value` items as a list or comma-separated text (repeated
 * `--label` flags, UMESH_LABELS). A key given twice is an error naming it.
 */
export function parseLabels (value: unknown, field: string): Labels {
  const entries: Array<[string, unknown]> = []
  if (typeof value === 'string' || Array.isArray(value)) {
    const items = typeof value === 'string' ? value.split(',').map(s => s.trim()).filter(s => s !== '') : value
    for (const [i, item] of items.entries()) {
      if (typeof item !== 'string') throw new ConfigError(`${field}[${i}]`, `expected key=value text, found ${JSON.stringify(item)?.slice(0, 60)}`)
      const eq = item.indexOf('=')
      if (eq === -1) throw new ConfigError(field, `"${item.slice(0, 80)}" is not key=value (e.g. --label region=eu-west; an empty value is region=)`)
      entries.push([item.slice(0, eq).trim(), item.slice(eq + 1).trim()])
    }
  } else if (typeof value === 'object' && value !== null) {
    entries.push(...Object.entries(value))
  } else {
    throw new ConfigError(field, `expected an object {"key": "value"} or key=value items, found ${JSON.stringify(value)?.slice(0, 60)}`)
  }
  const hint = 'keys are [prefix/]name, names and values 1-63 of A-Z a-z 0-9 . _ - (values may be empty)'
  if (entries.length > MAX_LABELS) throw new ConfigError(field, `${entries.length} labels, at most ${MAX_LABELS}`)
  const labels = new Map<string, string>()
  for (const [key, v] of entries) {
    if (typeof v !== 'string') throw new ConfigError(field, `label ${key.slice(0, 80)}: expected a string value, found ${JSON.stringify(v)?.slice(0, 40)}`)
    const problem = labelKeyProblem(key) ?? labelValueProblem(v)
    if (problem != null) throw new ConfigError(field, `label ${key.slice(0, 80)}=${v.slice(0, 80)}: ${problem}; ${hint}`)
    if (labels.has(key)) throw new ConfigError(field, `the label ${key} is given twice (${key}=${labels.get(key) ?? ''} and ${key}=${v}); give each key once`)
    labels.set(key, v)
  }
  const out = sortedLabels(Object.fromEntries(labels))
  const problem = labelsProblem(out)
  if (problem != null) throw new ConfigError(field, problem)
  return out
}

/** the labels with their keys in order: one spelling for signatures, files and display */
export function sortedLabels (labels: Labels): Labels {
  const out: Labels = {}
  for (const key of Object.keys(labels).sort()) out[key] = labels[key]
  return out
}

/** "region=eu-west,hw=revB" (sorted), or "-" for none */
export function labelsText (labels: Labels): string {
  const keys = Object.keys(labels).sort()
  return keys.length === 0 ? '-' : keys.map(k => `${k}=${labels[k]}`).join(',')
}
