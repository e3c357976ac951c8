/**
 * The strict Prometheus text parser the metrics tests (and the daemon's
 * integration test) read /metrics with: a valid exposition with every type,
 * escapes and a histogram is read back exactly; each kind of malformed
 * input is refused with the line and what is wrong.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { findSamples, parsePrometheus, PromParseError, sampleValue } from '../../helpers/prom-parse.js'

const VALID = [
  '# HELP up_total A counter with a \\\\ backslash\\nand a newline',
  '# TYPE up_total counter',
  'up_total{a="x\\"y",b="p\\\\q\\nr"} 3',
  'up_total{a="z",b=""} 0 1700000000000',
  '# a comment',
  '',
  '# TYPE g gauge',
  '# HELP g A gauge',
  'g -1.5e3',
  '# HELP h A histogram',
  '# TYPE h histogram',
  'h_bucket{k="1",le="0.5"} 1',
  'h_bucket{k="1",le="1"} 2',
  'h_bucket{k="1",le="+Inf"} 3',
  'h_sum{k="1"} 4.5',
  'h_count{k="1"} 3',
  'h_bucket{k="2",le="0.5"} 0',
  'h_bucket{k="2",le="1"} 0',
  'h_bucket{k="2",le="+Inf"} 0',
  'h_sum{k="2"} 0',
  'h_count{k="2"} 0',
  '# HELP s A summary',
  '# TYPE s summary',
  's{quantile="0.5"} NaN',
  's_sum 1',
  's_count 2',
  '# HELP e Labelled, nothing observed yet',
  '# TYPE e gauge',
  '# HELP u Untyped, odd values',
  '# TYPE u untyped',
  'u{x="1",} +Inf',
  'u{x="2"} -Inf',
  'u{} .5',
  ''
].join('\n')

/** the valid text with lines replaced (1-based), to break it one way at a time */
function broken (changes: Record<number, string | null>): string {
  const lines = VALID.split('\n')
  for (const [n, text] of Object.entries(changes)) lines[Number(n) - 1] = text ?? '\u0000'
  return lines.filter(l => l !== '\u0000').join('\n')
}

function refuses (text: string, message: RegExp, line?: number): void {
  assert.throws(() => parsePrometheus(text), (err: unknown) => {
    assert.ok(err instanceof PromParseError, `a PromParseError, not ${String(err)}`)
    assert.match(err.message, message)
    if (line !== undefined) assert.equal(err.line, line, err.message)
    return true
  })
}

describe('parsePrometheus', () => {
  it('reads every family, type, help (unescaped), label (unescaped) and value', () => {
    const f = parsePrometheus(VALID)
    assert.deepEqual([...f.keys()], ['up_total', 'g', 'h', 's', 'e', 'u'])
    assert.equal(f.get('up_total')!.type, 'counter')
    assert.equal(f.get('up_total')!.help, 'A counter with a \\ backslash\nand a newline')
    assert.deepEqual(f.get('up_total')!.samples, [
      { name: 'up_total', labels: { a: 'x"y', b: 'p\\q\nr' }, value: 3 },
      { name: 'up_total', labels: { a: 'z', b: '' }, value: 0, timestamp: 1700000000000 }
    ])
    assert.equal(sampleValue(f, 'g'), -1500)
    assert.equal(f.get('h')!.samples.length, 10)
    assert.equal(sampleValue(f, 'h_bucket', { k: '1', le: '+Inf' }), 3)
    assert.equal(sampleValue(f, 'h_count', { k: '2' }), 0)
    assert.ok(Number.isNaN(sampleValue(f, 's', { quantile: '0.5' })))
    assert.deepEqual(f.get('e')!.samples, [])
    assert.equal(sampleValue(f, 'u', { x: '1' }), Infinity)
    assert.equal(sampleValue(f, 'u', { x: '2' }), -Infinity)
    assert.equal(sampleValue(f, 'u'), 0.5)
    assert.equal(findSamples(f, 'h_bucket', { k: '1' }).length, 3)
    assert.equal(sampleValue(f, 'h_bucket', { k: '1' }), undefined, 'sampleValue wants the exact label set')
    assert.deepEqual(parsePrometheus(''), new Map())
  })

  it('refuses text that does not end with a newline, and lines starting with whitespace', () => {
    refuses(VALID.trimEnd(), /does not end with a newline/)
    refuses(broken({ 9: ' g 1' }), /starts with whitespace/, 9)
  })

  it('refuses samples without HELP or TYPE before them, or declared after them', () => {
    refuses(broken({ 7: null }), /comes before \(or without\) a # TYPE/, 8)
    refuses(broken({ 8: null }), /g has no # HELP line before its samples/, 8)
    refuses(broken({ 9: 'g 1\n# HELP g again' }), /# HELP for g after its samples/, 10)
    refuses(`${VALID}# HELP g late\n`, /# HELP for g after its samples/)
    refuses('# HELP x only help\n', /x has a # HELP line and no # TYPE/, 1)
    refuses('# TYPE x gauge\n', /x has a # TYPE line and no # HELP/, 1)
    refuses(broken({ 8: '# HELP g A gauge\n# HELP g twice' }), /a second # HELP for g/, 9)
    refuses(broken({ 7: '# TYPE g gauge\n# TYPE g counter' }), /a second # TYPE for g/, 8)
    refuses(broken({ 7: '# TYPE g meter' }), /unknown type "meter"/, 7)
  })

  it('refuses a family whose samples are split, or that starts after another family was declared', () => {
    refuses(`${VALID}g 2\n`, /samples of g are not together/)
    refuses('# HELP a x\n# TYPE a gauge\n# HELP b y\n# TYPE b gauge\na 1\nb 1\n', /samples of a do not follow its # HELP and # TYPE lines \(b was declared last\)/, 5)
  })

  it('refuses bad metric and label names, label syntax and escapes', () => {
    refuses(broken({ 9: '9g 1' }), /invalid metric name "9g"/, 9)
    refuses(broken({ 9: 'g-x 1' }), /invalid metric name "g-x"/, 9)
    refuses(broken({ 3: 'up_total{1a="x"} 3' }), /invalid label name "1a"/, 3)
    refuses(broken({ 3: 'up_total{__name__="x"} 3' }), /reserved/, 3)
    refuses(broken({ 3: 'up_total{a="x",a="y"} 3' }), /label a appears twice/, 3)
    refuses(broken({ 3: 'up_total{a=x} 3' }), /expected a double-quoted value/, 3)
    refuses(broken({ 3: 'up_total{a="x} 3' }), /unterminated value/, 3)
    refuses(broken({ 3: 'up_total{a="x\\t"} 3' }), /invalid escape \\t/, 3)
    refuses(broken({ 3: 'up_total{a="x" b="y"} 3' }), /expected , or } after label a/, 3)
    refuses(broken({ 3: 'up_total{a} 3' }), /expected = after label name a/, 3)
    refuses(broken({ 1: '# HELP up_total bad \\q escape' }), /HELP text has an invalid escape \\q/, 1)
  })

  it('refuses values and timestamps that are not numbers, and a missing value', () => {
    refuses(broken({ 9: 'g one' }), /the value "one" is not a float/, 9)
    refuses(broken({ 9: 'g 0x10' }), /not a float/, 9)
    refuses(broken({ 9: 'g 1,5' }), /not a float/, 9)
    refuses(broken({ 9: 'g' }), /expected " <value> \[timestamp\]"/, 9)
    refuses(broken({ 9: 'g 1 1.5' }), /timestamp "1.5" is not an integer/, 9)
    refuses(broken({ 9: 'g 1 2 3' }), /expected " <value> \[timestamp\]"/, 9)
  })

  it('refuses duplicate series, whatever the label order', () => {
    refuses(broken({ 4: 'up_total{b="p\\\\q\\nr",a="x\\"y"} 1' }), /duplicate series up_total/, 4)
    refuses(broken({ 9: 'g 1\ng 2' }), /duplicate series g\{\}/, 10)
  })

  it('counters: must end in _total (unless asked not to check), never negative or NaN', () => {
    const noSuffix = '# HELP c x\n# TYPE c counter\nc 1\n'
    refuses(noSuffix, /counter c does not end in _total/, 2)
    assert.equal(sampleValue(parsePrometheus(noSuffix, { counterSuffix: false }), 'c'), 1)
    refuses(broken({ 3: 'up_total{a="q"} -1' }), /counter up_total has the value -1/, 3)
    refuses(broken({ 3: 'up_total{a="q"} NaN' }), /has the value NaN/, 3)
  })

  it('histograms: cumulative ascending buckets, +Inf equal to _count, a _sum, le on every bucket', () => {
    refuses(broken({ 13: 'h_bucket{k="1",le="1"} 0' }), /le=1 counts 0, less than le=0.5 \(1\): buckets must be cumulative/)
    refuses(broken({ 12: 'h_bucket{k="1",le="1"} 1', 13: 'h_bucket{k="1",le="0.5"} 2' }), /not in ascending le order/)
    refuses(broken({ 14: null }), /k="1"\} has no le="\+Inf" bucket/)
    refuses(broken({ 16: 'h_count{k="1"} 4' }), /the \+Inf bucket \(3\) differs from _count \(4\)/)
    refuses(broken({ 16: null }), /has no _count/)
    refuses(broken({ 15: null }), /has no _sum/)
    refuses(broken({ 12: 'h_bucket{k="1"} 1' }), /histogram bucket h_bucket has no le label/, 12)
    refuses(broken({ 12: 'h_bucket{k="1",le="half"} 1' }), /le="half" is not a number/)
    refuses(broken({ 12: 'h{k="1"} 1' }), /sample h comes before \(or without\) a # TYPE/, 12)
  })

  it('summaries: the quantile label on the sample named like the family', () => {
    refuses(broken({ 24: 's 1' }), /summary sample s has no quantile label/, 24)
  })
})
