/**
 * Label selectors (every operator, canonical text, errors that point at the
 * character) and node labels (validation, the config parser).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { labelKeyProblem, labelsText, labelValueProblem, MAX_LABELS, parseLabels } from '../../../src/rollout/labels.js'
import { matches, parseSelector, SelectorError, selectorText, whyNotSelected } from '../../../src/rollout/selector.js'
import type { Labels } from '../../../src/rollout/labels.js'

/** the SelectorError a text gives */
function selectorError (text: string): SelectorError {
  try {
    parseSelector(text)
  } catch (err) {
    assert.ok(err instanceof SelectorError, `a SelectorError for ${text}, got ${String(err)}`)
    assert.equal(err.name, 'SelectorError')
    assert.equal(err.exitCode, 2)
    return err
  }
  assert.fail(`"${text}" parsed`)
}

const EU_B: Labels = { region: 'eu-west', hw: 'revB' }
const EU_LEGACY: Labels = { region: 'eu-west', hw: 'revC', legacy: '' }
const US_B: Labels = { region: 'us-east', hw: 'revB' }
const NONE: Labels = {}

describe('selector parser', () => {
  it('parses every operator to requirements', () => {
    assert.deepEqual(parseSelector('region=eu-west'), [{ key: 'region', op: '=', values: ['eu-west'] }])
    assert.deepEqual(parseSelector('region==eu-west'), [{ key: 'region', op: '=', values: ['eu-west'] }])
    assert.deepEqual(parseSelector('region!=eu-west'), [{ key: 'region', op: '!=', values: ['eu-west'] }])
    assert.deepEqual(parseSelector('hw in (revB,revC)'), [{ key: 'hw', op: 'in', values: ['revB', 'revC'] }])
    assert.deepEqual(parseSelector('hw notin (revA)'), [{ key: 'hw', op: 'notin', values: ['revA'] }])
    assert.deepEqual(parseSelector('gpu'), [{ key: 'gpu', op: 'exists', values: [] }])
    assert.deepEqual(parseSelector('!legacy'), [{ key: 'legacy', op: '!', values: [] }])
    assert.deepEqual(parseSelector('hw='), [{ key: 'hw', op: '=', values: [''] }])
    assert.deepEqual(parseSelector('example.com/rack=r12'), [{ key: 'example.com/rack', op: '=', values: ['r12'] }])
  })

  it('reads the brief\'s example, spaces anywhere between tokens, and gives one canonical text', () => {
    const s = parseSelector('  region == eu-west ,hw in( revB , revC,revB ) , ! legacy,store notin (s12)  ')
    assert.equal(selectorText(s), 'region=eu-west,hw in (revB,revC),!legacy,store notin (s12)')
    assert.equal(selectorText(parseSelector(selectorText(s))), selectorText(s), 'the canonical text parses to itself')
    assert.equal(s.length, 4, 'comma is AND: four requirements')
  })

  it('errors name the problem and point at the character with a caret line', () => {
    const cases: Array<[string, number, RegExp]> = [
      ['hw in revB', 6, /expected "\(" after in, found "r"/],
      ['region=eu-west,,hw=revB', 15, /expected a label key, found ","/],
      ['k=v=w', 3, /expected "," between requirements, found "="/],
      ['hw ~ revB', 3, /expected =, ==, !=, in, notin, "," or the end after the key "hw", found "~"/],
      ['hw in (revB', 11, /expected "," or "\)" in the values of in, found the end/],
      ['hw in ()', 7, /expected a value, found "\)"/],
      ['region=eu-west,', 15, /expected a requirement after ","/],
      ['-bad=1', 0, /the name "-bad" is not/],
      ['Foo.com/x=1', 0, /prefix "Foo.com" of the key is not a DNS subdomain/],
      ['hw=-revB', 3, /the value "-revB" is not/],
      ['hw isin (a)', 3, /found "isin"/],
      ['', 0, /the selector is empty/],
      ['!=x', 1, /expected a label key after "!"/]
    ]
    for (const [text, position, message] of cases) {
      const err = selectorError(text)
      assert.equal(err.position, position, `position for ${JSON.stringify(text)}: ${err.message}`)
      assert.match(err.message, message)
      const lines = err.message.split('\n')
      assert.match(lines[0], new RegExp(`^--select: .* at character ${position + 1}$`))
      assert.equal(lines[1], `  ${text}`)
      assert.equal(lines[2], `  ${' '.repeat(position)}^`, `caret under character ${position + 1} of ${JSON.stringify(text)}`)
    }
  })

  it('caps the text, the requirements and a set', () => {
    assert.match(selectorError('a'.repeat(1025)).message, /1025 characters, at most 1024/)
    assert.match(selectorError(Array.from({ length: 33 }, (_, i) => `k${i}`).join(',')).message, /more than 32 requirements/)
    assert.match(selectorError(`k in (${Array.from({ length: 65 }, (_, i) => `v${i}`).join(',')})`).message, /more than 64 values/)
    assert.equal(parseSelector(Array.from({ length: 32 }, (_, i) => `k${i}`).join(',')).length, 32)
  })
})

describe('selector matching (Kubernetes semantics)', () => {
  const cases: Array<[string, Labels, boolean]> = [
    ['region=eu-west', EU_B, true],
    ['region=eu-west', US_B, false],
    ['region=eu-west', NONE, false],
    ['region!=eu-west', US_B, true],
    ['region!=eu-west', EU_B, false],
    ['region!=eu-west', NONE, true], // != holds without the label
    ['hw in (revB,revC)', EU_B, true],
    ['hw in (revB,revC)', { hw: 'revA' }, false],
    ['hw in (revB,revC)', NONE, false],
    ['hw notin (revB)', EU_LEGACY, true],
    ['hw notin (revB)', EU_B, false],
    ['hw notin (revB)', NONE, true], // notin holds without the label
    ['legacy', EU_LEGACY, true], // an empty value exists
    ['legacy', EU_B, false],
    ['!legacy', EU_B, true],
    ['!legacy', EU_LEGACY, false],
    ['legacy=', EU_LEGACY, true],
    ['legacy=', EU_B, false],
    ['region=eu-west,hw in (revB,revC),!legacy', EU_B, true],
    ['region=eu-west,hw in (revB,revC),!legacy', EU_LEGACY, false],
    ['region=eu-west,hw in (revB,revC),!legacy', US_B, false],
    ['Region=eu-west', EU_B, false] // keys are case-sensitive
  ]
  for (const [text, labels, expected] of cases) {
    it(`${text} ${expected ? 'selects' : 'does not select'} ${labelsText(labels)}`, () => {
      assert.equal(matches(parseSelector(text), labels), expected)
      assert.equal(whyNotSelected(parseSelector(text), labels) == null, expected)
    })
  }

  it('says why not, naming the first requirement failed and what the node has', () => {
    const s = parseSelector('region=eu-west,hw in (revB,revC),!legacy')
    assert.equal(whyNotSelected(s, US_B), 'not selected: region=eu-west (this node: region=us-east)')
    assert.equal(whyNotSelected(s, NONE), 'not selected: region=eu-west (this node: no label region)')
    assert.equal(whyNotSelected(s, { region: 'eu-west', hw: 'revA' }), 'not selected: hw in (revB,revC) (this node: hw=revA)')
    assert.equal(whyNotSelected(s, EU_LEGACY), 'not selected: !legacy (this node: legacy=)')
  })

  it('a label named like an Object property is just a label', () => {
    assert.equal(matches(parseSelector('constructor'), NONE), false)
    assert.equal(matches(parseSelector('!toString'), NONE), true)
  })
})

describe('labels', () => {
  it('keys: optional DNS prefix, a name of 1-63 [A-Za-z0-9._-] starting and ending alphanumeric', () => {
    for (const ok of ['region', 'hw.rev', 'a', 'A_b-c.D', 'example.com/rack', 'a-b.c/x', 'x'.repeat(63), `${'p'.repeat(63)}.com/n`]) assert.equal(labelKeyProblem(ok), undefined, ok)
    assert.match(labelKeyProblem('x'.repeat(64))!, /64 characters, at most 63/)
    assert.match(labelKeyProblem('-region')!, /not 1-63 of/)
    assert.match(labelKeyProblem('region-')!, /not 1-63 of/)
    assert.match(labelKeyProblem('reg ion')!, /not 1-63 of/)
    assert.match(labelKeyProblem('/x')!, /empty prefix/)
    assert.match(labelKeyProblem('Example.com/x')!, /not a DNS subdomain/)
    assert.match(labelKeyProblem('example.com/')!, /no name after the prefix/)
    assert.match(labelKeyProblem(`${'a.'.repeat(127)}b/x`)!, /at most 253/)
    assert.match(labelKeyProblem('')!, /empty/)
  })

  it('values: empty, or 1-63 of the same characters', () => {
    for (const ok of ['', 'eu-west', 'revB', 'v1.2_3', 'x'.repeat(63)]) assert.equal(labelValueProblem(ok), undefined, ok)
    assert.match(labelValueProblem('x'.repeat(64))!, /at most 63/)
    assert.match(labelValueProblem('eu west')!, /not 0-63 of/)
    assert.match(labelValueProblem('-x')!, /not 0-63 of/)
    assert.match(labelValueProblem('é')!, /not 0-63 of/)
  })

  it('the config parser takes an object (file), key=value items (flags) or comma-separated text (environment), sorted', () => {
    assert.deepEqual(parseLabels({ region: 'eu-west', hw: 'revB' }, 'labels'), { hw: 'revB', region: 'eu-west' })
    assert.deepEqual(Object.keys(parseLabels({ region: 'eu-west', hw: 'revB' }, 'labels')), ['hw', 'region'])
    assert.deepEqual(parseLabels(['region=eu-west', 'legacy='], '--label'), { legacy: '', region: 'eu-west' })
    assert.deepEqual(parseLabels('region=eu-west, hw=revB', 'UMESH_LABELS'), { hw: 'revB', region: 'eu-west' })
    assert.deepEqual(parseLabels({}, 'labels'), {})
  })

  it('a bad label is refused with the field and the label named', () => {
    const refused = (value: unknown, field: string, message: RegExp): void => {
      assert.throws(() => parseLabels(value, field), (err: Error) => {
        assert.equal(err.name, 'ConfigError')
        assert.ok(err.message.startsWith(`${field}: `), err.message)
        assert.match(err.message, message)
        return true
      })
    }
    refused(['region'], '--label', /"region" is not key=value/)
    refused(['-bad=1'], '--label', /label -bad=1: the name "-bad"/)
    refused(['hw=rev B'], '--label', /label hw=rev B: the value "rev B"/)
    refused(['hw=a', 'hw=b'], '--label', /the label hw is given twice \(hw=a and hw=b\)/)
    refused({ region: 5 }, '/etc/umesh/node.json: labels', /label region: expected a string value, found 5/)
    refused({ __proto__x: 'a' }, 'labels', /label __proto__x=a/)
    refused(JSON.parse('{"__proto__": "x"}'), 'labels', /label __proto__=x/)
    refused('x', 'labels', /"x" is not key=value/)
    refused(5, 'labels', /expected an object/)
    refused(Object.fromEntries(Array.from({ length: MAX_LABELS + 1 }, (_, i) => [`k${i}`, 'v'])), 'labels', /17 labels, at most 16/)
    refused(Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`.padEnd(63, 'x'), 'v'.repeat(63)])), 'labels', /2016 characters .*at most 1024/)
  })
})
