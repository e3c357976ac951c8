/**
 * Label selectors: which nodes a rollout is for, in the Kubernetes
 * label-selector grammar (`umesh rollout start --select "..."`).
 *
 *   selector    := requirement ( "," requirement )*      comma: AND
 *   requirement := key "=" value | key "==" value          the label is value
 *                | key "!=" value                          not value, or no such label
 *                | key "in" "(" value ("," value)* ")"     the label is one of them
 *                | key "notin" "(" value ("," value)* ")"  none of them, or no such label
 *                | key                                     the label exists
 *                | "!" key                                 the label does not exist
 *
 * Keys and values follow labels.ts; `=`, `==` and `!=` may take an empty
 * value (`hw=`); spaces between tokens are ignored. Errors are
 * SelectorErrors with the 0-based character position and a caret line
 * under the text, e.g.
 *
 *   --select: expected "(" after in, found "r" at character 11
 *     hw in revB
 *           ^
 *
 * The signed document carries the selector in its canonical form
 * (selectorText: "==" written "=", sets without repeats, single spaces), so
 * every node parses the same requirements.
 */
import { UmeshError } from '../errors.js'
import { labelKeyProblem, labelValueProblem } from './labels.js'
import type { Labels } from './labels.js'

export const MAX_SELECTOR_CHARS = 1024
export const MAX_REQUIREMENTS = 32
export const MAX_SET_VALUES = 64

export type Operator = '=' | '!=' | 'in' | 'notin' | 'exists' | '!'

export interface Requirement {
  key: string
  op: Operator
  /** one value for = and !=, one or more for in and notin, none for exists and ! */
  values: string[]
}

export type Selector = Requirement[]

/** a selector that does not parse: `position` is the 0-based character where it goes wrong */
export class SelectorError extends UmeshError {
  override readonly name = 'SelectorError'
  override readonly exitCode = 2
  constructor (readonly problem: string, readonly text: string, readonly position: number) {
    super(`--select: ${problem} at character ${position + 1}\n  ${text}\n  ${' '.repeat(position)}^`)
  }
}

const KEY_CHAR = /[A-Za-z0-9._/-]/
const VALUE_CHAR = /[A-Za-z0-9._-]/

class Scanner {
  pos = 0
  constructor (readonly text: string) {}

  spaces (): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++
  }

  /** what stands at the position, for an error */
  found (): string {
    return this.pos >= this.text.length ? 'the end' : `"${this.text[this.pos]}"`
  }

  fail (problem: string, at = this.pos): never {
    throw new SelectorError(problem, this.text, at)
  }

  word (chars: RegExp): { word: string, at: number } {
    const at = this.pos
    while (this.pos < this.text.length && chars.test(this.text[this.pos])) this.pos++
    return { word: this.text.slice(at, this.pos), at }
  }

  take (s: string): boolean {
    if (!this.text.startsWith(s, this.pos)) return false
    this.pos += s.length
    return true
  }

  atEnd (): boolean {
    return this.pos >= this.text.length
  }
}

function key (s: Scanner): string {
  s.spaces()
  const { word, at } = s.word(KEY_CHAR)
  if (word === '') s.fail(`expected a label key, found ${s.found()}`)
  const problem = labelKeyProblem(word)
  if (problem != null) s.fail(problem, at)
  return word
}

function value (s: Scanner, mayBeEmpty: boolean): string {
  s.spaces()
  const { word, at } = s.word(VALUE_CHAR)
  if (word === '' && !mayBeEmpty) s.fail(`expected a value, found ${s.found()}`)
  const problem = labelValueProblem(word)
  if (problem != null) s.fail(problem, at)
  return word
}

function valueSet (s: Scanner, op: string): string[] {
  s.spaces()
  if (!s.take('(')) s.fail(`expected "(" after ${op}, found ${s.found()}`)
  const values: string[] = []
  for (;;) {
    const v = value(s, false)
    if (!values.includes(v)) values.push(v)
    if (values.length > MAX_SET_VALUES) s.fail(`more than ${MAX_SET_VALUES} values in one set`)
    s.spaces()
    if (s.take(')')) return values
    if (!s.take(',')) s.fail(`expected "," or ")" in the values of ${op}, found ${s.found()}`)
  }
}

function requirement (s: Scanner): Requirement {
  s.spaces()
  if (s.take('!')) {
    if (s.text[s.pos] === '=') s.fail('expected a label key after "!" (!= needs a key before it)')
    return { key: key(s), op: '!', values: [] }
  }
  const k = key(s)
  s.spaces()
  if (s.atEnd() || s.text[s.pos] === ',') return { key: k, op: 'exists', values: [] }
  if (s.take('==') || s.take('=')) return { key: k, op: '=', values: [value(s, true)] }
  if (s.take('!=')) return { key: k, op: '!=', values: [value(s, true)] }
  const { word, at } = s.word(/[a-z]/)
  if (word === 'in' || word === 'notin') return { key: k, op: word, values: valueSet(s, word) }
  s.fail(`expected =, ==, !=, in, notin, "," or the end after the key "${k}", found ${word !== '' ? `"${word}"` : s.found()}`, at)
}

/**
 * Parses a selector (grammar in the file header). Throws SelectorError
 * pointing at the character. An empty or blank text is refused: no
 * selector means no --select at all.
 */
export function parseSelector (text: string): Selector {
  if (typeof text !== 'string') throw new SelectorError('expected text', '', 0)
  if (text.length > MAX_SELECTOR_CHARS) throw new SelectorError(`the selector has ${text.length} characters, at most ${MAX_SELECTOR_CHARS}`, text.slice(0, 80), 80)
  const s = new Scanner(text)
  s.spaces()
  if (s.atEnd()) s.fail('the selector is empty; give requirements such as region=eu-west,hw in (revB,revC)')
  const out: Selector = []
  for (;;) {
    out.push(requirement(s))
    if (out.length > MAX_REQUIREMENTS) s.fail(`more than ${MAX_REQUIREMENTS} requirements`)
    s.spaces()
    if (s.atEnd()) return out
    if (!s.take(',')) s.fail(`expected "," between requirements, found ${s.found()}`)
    s.spaces()
    if (s.atEnd()) s.fail('expected a requirement after ","')
  }
}

/** one requirement as text: `region=eu-west`, `hw in (revB,revC)`, `!legacy` */
export function requirementText (r: Requirement): string {
  switch (r.op) {
    case 'exists': return r.key
    case '!': return `!${r.key}`
    case 'in': case 'notin': return `${r.key} ${r.op} (${r.values.join(',')})`
    default: return `${r.key}${r.op}${r.values[0]}`
  }
}

/** the canonical text of a selector, as the signed document carries it */
export function selectorText (selector: Selector): string {
  return selector.map(requirementText).join(',')
}

/** does this requirement hold for these labels (Kubernetes semantics: != and notin hold for a node without the label) */
export function meets (r: Requirement, labels: Labels): boolean {
  const has = Object.hasOwn(labels, r.key)
  const v = has ? labels[r.key] : undefined
  switch (r.op) {
    case 'exists': return has
    case '!': return !has
    case '=': return has && v === r.values[0]
    case '!=': return !has || v !== r.values[0]
    case 'in': return has && r.values.includes(v!)
    case 'notin': return !has || !r.values.includes(v!)
  }
}

export function matches (selector: Selector, labels: Labels): boolean {
  return selector.every(r => meets(r, labels))
}

/**
 * Why these labels are not selected, naming the first requirement they
 * fail and what the node has: `not selected: region=eu-west (this node: region=us-east)`;
 * undefined when they are selected.
 */
export function whyNotSelected (selector: Selector, labels: Labels): string | undefined {
  const failed = selector.find(r => !meets(r, labels))
  if (failed == null) return undefined
  const mine = Object.hasOwn(labels, failed.key) ? `${failed.key}=${labels[failed.key]}` : `no label ${failed.key}`
  return `not selected: ${requirementText(failed)} (this node: ${mine})`
}
