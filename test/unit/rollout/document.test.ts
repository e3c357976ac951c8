/**
 * Rollout specs (--waves, --gate, --abort) and the signed rollout document:
 * what parses, and each refusal naming what is wrong.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  encodeRolloutDocument, newRolloutId, parseAbort, parseGate, parseRolloutDocument, parseWaves,
  rolloutTargetPath, RolloutDocumentError, RolloutSpecError
} from '../../../src/rollout/document.js'
import { ROLLOUT_FORMAT } from '../../../src/rollout/types.js'
import type { RolloutDocument } from '../../../src/rollout/types.js'

const PEER_A = '12D3KooWAbCdEfGhJkLmNpQrStUvWxYz1234567890abcdefgh'
const PEER_B = '12D3KooWBbCdEfGhJkLmNpQrStUvWxYz1234567890abcdefgh'

function sampleDoc (): RolloutDocument {
  return {
    format: ROLLOUT_FORMAT,
    id: '0123456789abcdef',
    package: 'my-app',
    version: '1.4.0-beta.2',
    waves: [
      { name: 'canary', count: 1, peers: [PEER_A] },
      { name: 'wave-2', fraction: 0.1, peers: [] },
      { name: 'wave-3', fraction: 0.5, peers: [PEER_B] },
      { name: 'wave-4', fraction: 1, peers: [] }
    ],
    open: 1,
    state: 'running',
    rollback: false,
    gate: { success: 0.95, soakMs: 60_000 },
    abort: 0.1,
    maxParallel: 5,
    manual: false,
    downgrade: false,
    critical: true,
    created: '2026-11-24T01:00:00.000Z',
    updated: '2026-11-24T01:05:00.000Z',
    reason: 'wave wave-2 opened'
  }
}

function bytesOf (value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value))
}

function specError (fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RolloutSpecError, `expected a RolloutSpecError, got ${String(err)}`)
    assert.equal(err.exitCode, 2)
    assert.match(err.message, message)
    return true
  })
}

describe('--waves', () => {
  it('reads counts and cumulative percentages, naming unnamed waves by position', () => {
    assert.deepEqual(parseWaves('canary:1,10%,50%,100%'), [
      { name: 'canary', count: 1, peers: [] },
      { name: 'wave-2', fraction: 0.1, peers: [] },
      { name: 'wave-3', fraction: 0.5, peers: [] },
      { name: 'wave-4', fraction: 1, peers: [] }
    ])
    assert.deepEqual(parseWaves('100%'), [{ name: 'wave-1', fraction: 1, peers: [] }])
    assert.deepEqual(parseWaves(' pilot : 3 , 2.5% , eu-all:100% '), [
      { name: 'pilot', count: 3, peers: [] },
      { name: 'wave-2', fraction: 0.025, peers: [] },
      { name: 'eu-all', fraction: 1, peers: [] }
    ])
    // a count wave may stand between percentage waves
    assert.equal(parseWaves('10%,pilot:5,100%')[1].count, 5)
    assert.equal(parseWaves(Array.from({ length: 16 }, (_, i) => `${(i + 1) * 6.25}%`).join(',')).length, 16)
  })

  const refused: Array<[string, string, RegExp]> = [
    ['an empty value', '', /--waves is empty/],
    ['an empty item', 'canary:1,,100%', /wave 2 \(""\) is empty/],
    ['a name with capitals', 'Canary:1,100%', /wave 1 \("Canary:1"\) has the name "Canary"/],
    ['a name too long', `${'a'.repeat(33)}:100%`, /has the name/],
    ['a count of 0', 'canary:0,100%', /wave 1 \("canary:0"\) is a count of 0 nodes; a count is from 1 to 10000/],
    ['a count too large', 'big:10001,100%', /a count is from 1 to 10000/],
    ['0%', '0%,100%', /wave 1 \("0%"\) is 0%; a percentage is above 0 and at most 100/],
    ['above 100%', '50%,120%', /is 120%/],
    ['a decreasing percentage', '50%,10%,100%', /wave 2 \("10%"\): 10% does not exceed the wave before it \(50%\)/],
    ['a repeated percentage', '10%,10%,100%', /must strictly increase/],
    ['a last wave below 100%', '10%,50%', /wave 2 \("50%"\): the last wave is 50%; it must be 100%/],
    ['a last wave that is a count', 'canary:1,10%,5', /wave 3 \("5"\): the last wave is a count of nodes \(5\); the last wave must be 100%/],
    ['17 waves', Array.from({ length: 17 }, (_, i) => `${i + 1}%`).join(',').replace(/17%$/, '100%'), /17 waves, more than 16/],
    ['a duplicate name', 'a:10%,a:100%', /the name "a" is also the name of wave 1/],
    ['a name that clashes with a generated one', 'wave-2:10%,100%', /the name "wave-2" is also the name of wave 1/],
    ['a word', 'canary,100%', /is neither a count of nodes \(e\.g\. 5\) nor a percentage/],
    ['two names', 'a:b:10%,100%', /one name: per wave/],
    ['a negative count', '-1,100%', /is neither a count/]
  ]
  for (const [what, text, message] of refused) {
    it(`refuses ${what}, naming the wave and giving an example`, () => {
      specError(() => parseWaves(text), message)
      specError(() => parseWaves(text), /e\.g\. --waves "canary:1,10%,50%,100%"/)
    })
  }
})

describe('--gate and --abort', () => {
  it('reads the gate in any order, with defaults for what is left out', () => {
    assert.deepEqual(parseGate('success>=0.95,soak=60s'), { success: 0.95, soakMs: 60_000 })
    assert.deepEqual(parseGate('soak=5m, success>=0.8'), { success: 0.8, soakMs: 300_000 })
    assert.deepEqual(parseGate('success>=1'), { success: 1, soakMs: 60_000 })
    assert.deepEqual(parseGate('soak=250ms'), { success: 0.95, soakMs: 250 })
    assert.deepEqual(parseGate('soak=2h'), { success: 0.95, soakMs: 7_200_000 })
    assert.deepEqual(parseGate('soak=0s,success>=0'), { success: 0, soakMs: 0 })
    assert.deepEqual(parseGate(''), { success: 0.95, soakMs: 60_000 })
  })

  const refusedGates: Array<[string, RegExp]> = [
    ['success>=1.5', /"success>=1.5" has the success ratio "1.5"; expected a ratio from 0 to 1/],
    ['success>=95%', /has the success ratio "95%"/],
    ['success=0.9', /needs >=/],
    ['soak=60', /has the soak time "60"; expected a whole number with ms, s, m or h/],
    ['soak=5d', /has the soak time "5d"/],
    ['soak=200h', /soak time above 168 h/],
    ['failures>=0.1', /names "failures"; the gate knows success and soak/],
    ['success>=0.9,success>=0.8', /gives success a second time/],
    ['success', /is not success>=RATIO or soak=DURATION/]
  ]
  for (const [text, message] of refusedGates) {
    it(`refuses the gate ${text}`, () => {
      specError(() => parseGate(text), message)
      specError(() => parseGate(text), /e\.g\. --gate "success>=0\.95,soak=60s"/)
    })
  }

  it('reads the abort ratio and refuses anything else', () => {
    assert.equal(parseAbort('failures>=0.1'), 0.1)
    assert.equal(parseAbort(' failures >= 0 '), 0)
    assert.equal(parseAbort('failures>=1'), 1)
    specError(() => parseAbort('failures>0.1'), /is not failures>=RATIO; e\.g\. --abort "failures>=0\.1"/)
    specError(() => parseAbort('0.1'), /is not failures>=RATIO/)
    specError(() => parseAbort('failures>=2'), /the failure ratio "2" is not a ratio from 0 to 1/)
    specError(() => parseAbort('failures>=-0.1'), /is not a ratio/)
  })
})

describe('the rollout document', () => {
  it('round-trips through stable JSON', () => {
    const doc = sampleDoc()
    const bytes = encodeRolloutDocument(doc)
    assert.deepEqual(parseRolloutDocument(bytes), doc)
    // stable: the same document with its keys in another order encodes to the same bytes
    const shuffled = Object.fromEntries(Object.entries(doc).reverse()) as unknown as RolloutDocument
    assert.deepEqual(encodeRolloutDocument(shuffled), bytes)
    const text = new TextDecoder().decode(bytes)
    assert.ok(text.startsWith('{"abort":0.1,"created":'), text.slice(0, 40))
    assert.ok(text.endsWith('}\n'))
    assert.equal(rolloutTargetPath('my-app'), 'rollouts/my-app.json')
  })

  it('accepts what parseWaves gives, and each state', () => {
    for (const state of ['running', 'paused', 'halted', 'completed'] as const) {
      const doc = { ...sampleDoc(), state, open: -1, waves: parseWaves('canary:1,10%,50%,100%') }
      assert.deepEqual(parseRolloutDocument(encodeRolloutDocument(doc)), doc)
    }
  })

  it('makes random ids a document accepts', () => {
    const a = newRolloutId()
    const b = newRolloutId()
    assert.match(a, /^[0-9a-f]{16}$/)
    assert.notEqual(a, b)
    assert.equal(parseRolloutDocument(encodeRolloutDocument({ ...sampleDoc(), id: a })).id, a)
  })

  type Mutation = (d: any) => void
  const refused: Array<[string, Mutation, RegExp]> = [
    ['another format', d => { d.format = 'umesh-rollout/2' }, /^rollout document: format: expected "umesh-rollout\/1"/],
    ['an unknown field', d => { d.extra = 1 }, /^rollout document: extra: unknown field/],
    ['a missing field', d => { delete d.maxParallel }, /^rollout document: maxParallel: missing/],
    ['a short id', d => { d.id = 'abc' }, /^rollout document: id: expected 8-64 lowercase/],
    ['an id with capitals', d => { d.id = '0123456789ABCDEF' }, /^rollout document: id:/],
    ['a bad package name', d => { d.package = 'My App' }, /^rollout document: package: expected a package name/],
    ['an empty version', d => { d.version = '' }, /^rollout document: version:/],
    ['a version too long', d => { d.version = '1'.repeat(65) }, /^rollout document: version:/],
    ['a version with a slash', d => { d.version = '../1.0.0' }, /^rollout document: version:/],
    ['no waves', d => { d.waves = [] }, /^rollout document: waves: expected 1 to 16 waves, found 0/],
    ['17 waves', d => { d.waves = Array.from({ length: 17 }, (_, i) => ({ name: `w${i}`, fraction: (i + 1) / 17, peers: [] })) }, /^rollout document: waves: expected 1 to 16 waves, found 17/],
    ['a wave with both fraction and count', d => { d.waves[0].fraction = 0.05 }, /^rollout document: waves\[0\]: expected exactly one of fraction and count/],
    ['a wave with neither', d => { delete d.waves[1].fraction }, /^rollout document: waves\[1\]: expected exactly one of fraction and count/],
    ['a wave without peers', d => { delete d.waves[1].peers }, /^rollout document: waves\[1\]\.peers: missing/],
    ['a wave with an unknown key', d => { d.waves[1].weight = 2 }, /^rollout document: waves\[1\]\.weight: unknown field/],
    ['a bad wave name', d => { d.waves[1].name = 'Wave 2' }, /^rollout document: waves\[1\]\.name:/],
    ['a fraction of 0', d => { d.waves[1].fraction = 0 }, /^rollout document: waves\[1\]\.fraction: expected a share above 0/],
    ['a fraction above 1', d => { d.waves[3].fraction = 1.5 }, /^rollout document: waves\[3\]\.fraction: expected a number from 0 to 1/],
    ['decreasing fractions', d => { d.waves[2].fraction = 0.05 }, /^rollout document: waves: waves\[2\]: 5% does not exceed/],
    ['a last wave below 100%', d => { d.waves[3].fraction = 0.9 }, /^rollout document: waves: waves\[3\]: the last wave is 90%/],
    ['a last wave given as a count', d => { d.waves[3] = { name: 'wave-4', count: 3, peers: [] } }, /the last wave is a count of nodes \(3\)/],
    ['a duplicate wave name', d => { d.waves[2].name = 'wave-2' }, /^rollout document: waves: waves\[2\]: the name "wave-2" is also the name of wave 2/],
    ['a count of 0', d => { d.waves[0].count = 0 }, /^rollout document: waves\[0\]\.count: expected an integer from 1 to 10000/],
    ['more peers than the count', d => { d.waves[0].peers = [PEER_A, PEER_B.replace('B', 'C')] }, /^rollout document: waves\[0\]\.peers: 2 peers listed for a wave of 1/],
    ['a bad peer id', d => { d.waves[2].peers = ['not a peer'] }, /^rollout document: waves\[2\]\.peers\[0\]: expected a peer id/],
    ['a peer in two waves', d => { d.waves[2].peers = [PEER_A] }, /^rollout document: waves\[2\]\.peers\[0\]: .* is also listed at waves\[0\]\.peers\[0\]/],
    ['more than 1000 peers', d => { d.waves[2].peers = Array.from({ length: 1001 }, (_, i) => `12D3KooW${String(i).padStart(8, '0')}`) }, /^rollout document: waves\[2\]\.peers: 1001 peers, more than 1000/],
    ['open below -1', d => { d.open = -2 }, /^rollout document: open: expected an integer from -1 to 3/],
    ['open past the last wave', d => { d.open = 4 }, /^rollout document: open: expected an integer from -1 to 3/],
    ['open not an integer', d => { d.open = 1.5 }, /^rollout document: open:/],
    ['an unknown state', d => { d.state = 'stopped' }, /^rollout document: state: expected one of running, paused, halted, completed/],
    ['rollback as text', d => { d.rollback = 'yes' }, /^rollout document: rollback: expected true or false/],
    ['manual as a number', d => { d.manual = 1 }, /^rollout document: manual: expected true or false/],
    ['downgrade missing', d => { delete d.downgrade }, /^rollout document: downgrade: missing/],
    ['critical as null', d => { d.critical = null }, /^rollout document: critical: expected true or false/],
    ['a gate success above 1', d => { d.gate.success = 1.1 }, /^rollout document: gate\.success: expected a number from 0 to 1/],
    ['a negative soak', d => { d.gate.soakMs = -1 }, /^rollout document: gate\.soakMs:/],
    ['a gate with an unknown key', d => { d.gate.minNodes = 3 }, /^rollout document: gate\.minNodes: unknown field/],
    ['a gate that is a string', d => { d.gate = 'success>=0.95' }, /^rollout document: gate: expected an object/],
    ['an abort above 1', d => { d.abort = 2 }, /^rollout document: abort: expected a number from 0 to 1/],
    ['maxParallel 0', d => { d.maxParallel = 0 }, /^rollout document: maxParallel: expected an integer from 1 to 10000/],
    ['maxParallel above 10000', d => { d.maxParallel = 10_001 }, /^rollout document: maxParallel:/],
    ['a created date that is not ISO', d => { d.created = 'yesterday' }, /^rollout document: created: expected an ISO date/],
    ['an updated date without a zone', d => { d.updated = '2026-11-24T01:00:00' }, /^rollout document: updated: expected an ISO date/],
    ['an impossible date', d => { d.updated = '2026-13-40T01:00:00Z' }, /^rollout document: updated:/],
    ['a reason too long', d => { d.reason = 'x'.repeat(1025) }, /^rollout document: reason: expected text of at most 1024 characters/],
    ['a reason that is not text', d => { d.reason = 42 }, /^rollout document: reason:/]
  ]
  for (const [what, mutate, message] of refused) {
    it(`refuses ${what}, naming the field`, () => {
      const doc = structuredClone(sampleDoc()) as any
      mutate(doc)
      assert.throws(() => parseRolloutDocument(bytesOf(doc)), (err: unknown) => {
        assert.ok(err instanceof RolloutDocumentError, String(err))
        assert.match(err.message, message)
        return true
      })
      // and it is never encoded for signing
      assert.throws(() => encodeRolloutDocument(doc), RolloutDocumentError)
    })
  }

  it('refuses bytes that are not a JSON object, or too many', () => {
    assert.throws(() => parseRolloutDocument(new TextEncoder().encode('{"format":')), /rollout document: \(document\): not UTF-8 JSON/)
    assert.throws(() => parseRolloutDocument(new Uint8Array([0x7b, 0xff, 0x7d])), /not UTF-8 JSON/)
    assert.throws(() => parseRolloutDocument(bytesOf([sampleDoc()])), /\(document\): expected a JSON object/)
    const big = { ...sampleDoc(), reason: 'x'.repeat(300 * 1024) }
    assert.throws(() => parseRolloutDocument(bytesOf(big)), /\(document\): \d+ bytes, more than 262144/)
  })
})
