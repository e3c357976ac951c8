/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4),
 * for tests that read `/metrics`: `parsePrometheus(text)` returns every
 * metric family by name, or throws a PromParseError naming the line and
 * what is wrong with it. Stricter than Prometheus itself, so an exporter
 * that passes here is read correctly by any scraper:
 *
 * - the text ends with a newline; no line starts with whitespace;
 * - every family has exactly one `# HELP` and one `# TYPE` line (type
 *   counter, gauge, histogram, summary or untyped), both before its first
 *   sample with no other family's declaration in between, and its samples
 *   are contiguous (no other family's line among them);
 * - metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 *   [a-zA-Z_][a-zA-Z0-9_]* and do not start with `__`; no label twice in a
 *   sample; label values are double-quoted with only \\, \" and \n escapes
 *   (HELP text only \\ and \n);
 * - a sample's name is its family's (histograms: _bucket with `le`, _sum,
 *   _count; summaries: the name with `quantile`, _sum, _count); values are
 *   floats (`NaN`, `+Inf`, `-Inf` allowed), an optional timestamp an integer;
 * - no series (name and label set) appears twice;
 * - counters end in `_total` (option `counterSuffix`, default on) and are
 *   never negative or NaN;
 * - each histogram series (its labels but `le`) has ascending `le` buckets
 *   with non-decreasing counts, a `+Inf` bucket equal to its `_count`, and a
 *   `_sum`.
 *
 * Families with HELP and TYPE and no sample (a labelled metric nothing has
 * touched yet) are allowed and returned with no samples. `findSample` and
 * `sampleValue` look a series up by name and labels.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

export interface PromSample {
  /** the sample's own name (for histograms: name_bucket, name_sum, name_count) */
  name: string
  labels: Record<string, string>
  value: number
  timestamp?: number
}

export interface PromFamily {
  name: string
  type: MetricType
  help: string
  samples: PromSample[]
}

export interface ParseOptions {
  /** counters must end in _total (default true) */
  counterSuffix?: boolean
}

export class PromParseError extends Error {
  override readonly name = 'PromParseError'
  constructor (readonly line: number, message: string) {
    super(`line ${line}: ${message}`)
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|inf)$|^NaN$/
const INTEGER = /^-?\d+$/
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

export function parseFloatStrict (text: string): number | undefined {
  if (!FLOAT.test(text)) return undefined
  if (text === 'NaN') return NaN
  if (/^[+]?[Ii]nf$/.test(text)) return Infinity
  if (/^-[Ii]nf$/.test(text)) return -Infinity
  return Number(text)
}

function unescapeHelp (text: string, line: number): string {
  return text.replace(/\\(.?)/g, (_m, c: string) => {
    if (c === '\\') return '\\'
    if (c === 'n') return '\n'
    throw new PromParseError(line, `HELP text has an invalid escape \\${c}`)
  })
}

/** `{a="b",c="d"}` from position `at` (the `{`); returns the labels and the position after `}` */
function parseLabels (text: string, at: number, line: number): { labels: Record<string, string>, end: number } {
  const labels: Record<string, string> = {}
  let i = at + 1
  for (;;) {
    if (text[i] === '}') return { labels, end: i + 1 }
    const nameMatch = /^[^=,}"]*/.exec(text.slice(i))![0]
    if (!LABEL_NAME.test(nameMatch)) throw new PromParseError(line, `invalid label name "${nameMatch}"`)
    if (nameMatch.startsWith('__')) throw new PromParseError(line, `label name ${nameMatch} is reserved (starts with __)`)
    if (nameMatch in labels) throw new PromParseError(line, `label ${nameMatch} appears twice`)
    i += nameMatch.length
    if (text[i] !== '=') throw new PromParseError(line, `expected = after label name ${nameMatch}`)
    i++
    if (text[i] !== '"') throw new PromParseError(line, `label ${nameMatch}: expected a double-quoted value`)
    i++
    let value = ''
    for (;;) {
      const c = text[i]
      if (c === undefined) throw new PromParseError(line, `label ${nameMatch}: unterminated value`)
      if (c === '"') break
      if (c === '\\') {
        const e = text[i + 1]
        if (e === '\\') value += '\\'
        else if (e === '"') value += '"'
        else if (e === 'n') value += '\n'
        else throw new PromParseError(line, `label ${nameMatch}: invalid escape \\${e ?? ''}`)
        i += 2
        continue
      }
      value += c
      i++
    }
    i++
    labels[nameMatch] = value
    if (text[i] === ',') {
      i++
      continue
    }
    if (text[i] !== '}') throw new PromParseError(line, `expected , or } after label ${nameMatch}`)
  }
}

interface Declared extends PromFamily {
  hasHelp: boolean
  hasType: boolean
  /** the line of its first declaration, and of its first sample */
  line: number
  firstSample?: number
}

/** the family a sample name belongs to, among those with a # TYPE line so far */
function familyOf (sample: string, labels: Record<string, string>, families: Map<string, Declared>, line: number): Declared {
  const direct = families.get(sample)
  if (direct?.hasType === true && direct.type !== 'histogram') {
    if (direct.type === 'summary' && !('quantile' in labels)) throw new PromParseError(line, `summary sample ${sample} has no quantile label`)
    return direct
  }
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sample.endsWith(suffix)) continue
    const base = families.get(sample.slice(0, -suffix.length))
    if (base?.hasType !== true || (base.type !== 'histogram' && base.type !== 'summary')) continue
    if (suffix === '_bucket' && base.type !== 'histogram') continue
    if (suffix === '_bucket' && !('le' in labels)) throw new PromParseError(line, `histogram bucket ${sample} has no le label`)
    return base
  }
  throw new PromParseError(line, `sample ${sample} comes before (or without) a # TYPE line for its family`)
}

function seriesKey (name: string, labels: Record<string, string>): string {
  return `${name}{${Object.keys(labels).sort().map(k => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`
}

function checkHistogram (family: Declared): void {
  const line = family.firstSample ?? family.line
  const series = new Map<string, { buckets: Array<{ le: number, value: number }>, count?: number, sum?: number }>()
  for (const s of family.samples) {
    const rest = { ...s.labels }
    delete rest.le
    const key = seriesKey('', rest)
    const entry = series.get(key) ?? { buckets: [] }
    series.set(key, entry)
    if (s.name.endsWith('_bucket')) {
      const le = parseFloatStrict(s.labels.le)
      if (le === undefined || Number.isNaN(le)) throw new PromParseError(line, `${s.name}: le="${s.labels.le}" is not a number`)
      entry.buckets.push({ le, value: s.value })
    } else if (s.name.endsWith('_count')) {
      entry.count = s.value
    } else {
      entry.sum = s.value
    }
  }
  for (const [key, e] of series) {
    const where = `histogram ${family.name}${key}`
    if (e.buckets.length === 0) throw new PromParseError(line, `${where} has no buckets`)
    for (let i = 1; i < e.buckets.length; i++) {
      if (!(e.buckets[i].le > e.buckets[i - 1].le)) throw new PromParseError(line, `${where}: buckets not in ascending le order (${e.buckets[i - 1].le} then ${e.buckets[i].le})`)
      if (e.buckets[i].value < e.buckets[i - 1].value) throw new PromParseError(line, `${where}: bucket le=${e.buckets[i].le} counts ${e.buckets[i].value}, less than le=${e.buckets[i - 1].le} (${e.buckets[i - 1].value}): buckets must be cumulative`)
    }
    const inf = e.buckets.at(-1)!
    if (inf.le !== Infinity) throw new PromParseError(line, `${where} has no le="+Inf" bucket`)
    if (e.count === undefined) throw new PromParseError(line, `${where} has no _count`)
    if (inf.value !== e.count) throw new PromParseError(line, `${where}: the +Inf bucket (${inf.value}) differs from _count (${e.count})`)
    if (e.sum === undefined) throw new PromParseError(line, `${where} has no _sum`)
  }
}

export function parsePrometheus (text: string, options: ParseOptions = {}): Map<string, PromFamily> {
  const counterSuffix = options.counterSuffix ?? true
  const families = new Map<string, Declared>()
  const series = new Set<string>()
  const finished = new Set<string>()
  let current: Declared | undefined
  /** the family of the last HELP or TYPE line: the only one whose samples may start */
  let declaring: Declared | undefined
  if (text.length > 0 && !text.endsWith('\n')) throw new PromParseError(text.split('\n').length, 'the text does not end with a newline')
  const lines = text.split('\n')
  lines.pop()

  lines.forEach((raw, index) => {
    const line = index + 1
    if (raw === '') return
    if (/^\s/.test(raw)) throw new PromParseError(line, 'a line starts with whitespace')
    if (raw.startsWith('#')) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(raw)
      if (m == null) return // a comment
      const [, kind, name, rest = ''] = m
      if (!METRIC_NAME.test(name)) throw new PromParseError(line, `invalid metric name "${name}"`)
      const d = families.get(name) ?? { name, type: 'untyped', help: '', samples: [], hasHelp: false, hasType: false, line }
      if (finished.has(name) || d.samples.length > 0) throw new PromParseError(line, `# ${kind} for ${name} after its samples`)
      families.set(name, d)
      declaring = d
      // a declaration ends the family whose samples came before
      if (current != null && current !== d) {
        finished.add(current.name)
        current = undefined
      }
      if (kind === 'HELP') {
        if (d.hasHelp) throw new PromParseError(line, `a second # HELP for ${name}`)
        d.help = unescapeHelp(rest, line)
        d.hasHelp = true
      } else {
        if (d.hasType) throw new PromParseError(line, `a second # TYPE for ${name}`)
        if (!TYPES.has(rest as MetricType)) throw new PromParseError(line, `# TYPE ${name}: unknown type "${rest}"`)
        if (rest === 'counter' && counterSuffix && !name.endsWith('_total')) throw new PromParseError(line, `counter ${name} does not end in _total`)
        d.type = rest as MetricType
        d.hasType = true
      }
      return
    }
    // a sample: name, optional labels, value, optional timestamp
    const nameMatch = /^[^{ \t]*/.exec(raw)![0]
    if (!METRIC_NAME.test(nameMatch)) throw new PromParseError(line, `invalid metric name "${nameMatch}"`)
    let at = nameMatch.length
    let labels: Record<string, string> = {}
    if (raw[at] === '{') {
      const parsed = parseLabels(raw, at, line)
      labels = parsed.labels
      at = parsed.end
    }
    const tail = raw.slice(at)
    const tm = /^[ \t]+(\S+)(?:[ \t]+(\S+))?$/.exec(tail)
    if (tm == null) throw new PromParseError(line, `expected " <value> [timestamp]" after ${nameMatch}, found "${tail}"`)
    const value = parseFloatStrict(tm[1])
    if (value === undefined) throw new PromParseError(line, `${nameMatch}: the value "${tm[1]}" is not a float`)
    if (tm[2] !== undefined && !INTEGER.test(tm[2])) throw new PromParseError(line, `${nameMatch}: the timestamp "${tm[2]}" is not an integer`)
    const family = familyOf(nameMatch, labels, families, line)
    if (!family.hasHelp) throw new PromParseError(line, `family ${family.name} has no # HELP line before its samples`)
    if (current !== family) {
      if (finished.has(family.name) || family.samples.length > 0) throw new PromParseError(line, `the samples of ${family.name} are not together`)
      if (declaring !== family) throw new PromParseError(line, `the samples of ${family.name} do not follow its # HELP and # TYPE lines (${declaring?.name ?? 'none'} was declared last)`)
      if (current != null) finished.add(current.name)
      current = family
      family.firstSample = line
    }
    if (family.type === 'counter' && (Number.isNaN(value) || value < 0)) throw new PromParseError(line, `counter ${nameMatch} has the value ${tm[1]}`)
    const key = seriesKey(nameMatch, labels)
    if (series.has(key)) throw new PromParseError(line, `duplicate series ${key}`)
    series.add(key)
    family.samples.push({ name: nameMatch, labels, value, ...(tm[2] !== undefined ? { timestamp: Number(tm[2]) } : {}) })
  })

  const out = new Map<string, PromFamily>()
  for (const d of families.values()) {
    if (!d.hasHelp) throw new PromParseError(d.line, `family ${d.name} has a # TYPE line and no # HELP`)
    if (!d.hasType) throw new PromParseError(d.line, `family ${d.name} has a # HELP line and no # TYPE`)
    if (d.type === 'histogram' && d.samples.length > 0) checkHistogram(d)
    out.set(d.name, { name: d.name, type: d.type, help: d.help, samples: d.samples })
  }
  return out
}

/** the samples named `name` whose labels include every one given */
export function findSamples (families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): PromSample[] {
  const out: PromSample[] = []
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) out.push(s)
    }
  }
  return out
}

/** the value of the one series named `name` with exactly these labels; undefined when there is none */
export function sampleValue (families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const key = seriesKey(name, labels)
  for (const s of findSamples(families, name, labels)) if (seriesKey(s.name, s.labels) === key) return s.value
  return undefined
}
