/**
 * Log lines (src/util/log-line.ts): text as the daemon always wrote it; a
 * JSON line is one valid object on one line with time, level, component
 * and message first, whatever the fields hold; libp2p's component logs come
 * out as the same JSON lines. And the fields a format string's arguments
 * give (src/util/format-line.ts).
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { logger, enable, disable } from '@libp2p/logger'
import { lineFields } from '../../../src/util/format-line.js'
import { componentLogsAsJson, componentRecord, jsonLine, jsonValue, textLine } from '../../../src/util/log-line.js'

const TIME = new Date('2025-01-02T03:04:05.678Z')

function parseOne (line: string): Record<string, unknown> {
  assert.ok(line.endsWith('\n'), 'a line ends with a newline')
  assert.equal(line.indexOf('\n'), line.length - 1, `one line: ${JSON.stringify(line)}`)
  assert.doesNotMatch(line, /[\r\u2028\u2029]/)
  return JSON.parse(line)
}

describe('textLine', () => {
  it('info has no level word; other levels have', () => {
    assert.equal(textLine('umesh node', 'info', 'ready'), 'umesh node: ready\n')
    assert.equal(textLine('umesh bootstrap', 'warn', 'no bootstrap peer'), 'umesh bootstrap: warn: no bootstrap peer\n')
  })
})

describe('jsonLine', () => {
  it('time, level, component, message first, then the fields', () => {
    const line = jsonLine({ level: 'info', message: 'phase network done (50 ms)', time: TIME, fields: { component: 'umesh:daemon', phase: 'network', durationMs: 50, peer: '12D3KooWPeer' } })
    const obj = parseOne(line)
    assert.deepEqual(Object.keys(obj), ['time', 'level', 'component', 'message', 'phase', 'durationMs', 'peer'])
    assert.deepEqual(obj, { time: '2025-01-02T03:04:05.678Z', level: 'info', component: 'umesh:daemon', message: 'phase network done (50 ms)', phase: 'network', durationMs: 50, peer: '12D3KooWPeer' })
  })

  it('a line without a component or time gets the default component and now', () => {
    const before = Date.now()
    const obj = parseOne(jsonLine({ level: 'warn', message: 'x' }))
    assert.equal(obj.component, 'umesh')
    assert.ok(Date.parse(obj.time as string) >= before - 1)
    assert.match(obj.time as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    assert.ok(!Number.isNaN(Date.parse(parseOne(jsonLine({ level: 'info', message: 'x', time: new Date(NaN) })).time as string)), 'an invalid date is replaced by now')
  })

  it('newlines, carriage returns and line separators in the message or fields stay inside one line', () => {
    const obj = parseOne(jsonLine({ level: 'error', message: 'first\nsecond\r\nthird\u2028fourth\u2029', fields: { detail: 'a\nb', stack: 'Error: x\n    at y' } }))
    assert.equal(obj.message, 'first\nsecond\r\nthird\u2028fourth\u2029')
    assert.equal(obj.detail, 'a\nb')
  })

  it('bigints, cycles, errors, bytes, maps, sets and throwing getters still give valid JSON', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' }
    cyclic.self = cyclic
    const shared = { n: 1 }
    const throwing = { get boom () { throw new Error('getter') } }
    const obj = parseOne(jsonLine({
      level: 'info',
      message: 'odd values',
      fields: {
        big: 12345678901234567890n,
        cyclic,
        twice: [shared, shared],
        error: new Error('bad signature'),
        bytes: new Uint8Array(32),
        buffer: Buffer.from('secret bytes'),
        map: new Map([['a', 1n]]),
        set: new Set([1, 2]),
        throwing,
        fn: () => 1,
        missing: undefined,
        sym: Symbol('s')
      }
    }))
    assert.equal(obj.big, '12345678901234567890')
    assert.deepEqual(obj.cyclic, { name: 'loop', self: '[Circular]' })
    assert.deepEqual(obj.twice, [{ n: 1 }, { n: 1 }], 'a value met twice but not in a cycle is written twice')
    assert.deepEqual(obj.error, { name: 'Error', message: 'bad signature' })
    assert.equal(obj.bytes, '[32 bytes]')
    assert.equal(obj.buffer, '[12 bytes]')
    assert.deepEqual(obj.map, { a: '1' })
    assert.deepEqual(obj.set, [1, 2])
    assert.equal(obj.throwing, '[unserialisable]')
    assert.equal('fn' in obj, false)
    assert.equal('missing' in obj, false)
    assert.equal(obj.sym, 'Symbol(s)')
  })

  it('a cycle through a map is still caught', () => {
    const map = new Map<string, unknown>()
    map.set('me', map)
    assert.deepEqual(JSON.parse(jsonValue(map)!), { me: '[Circular]' })
  })

  it('fields cannot replace time, level, component or message; credential-like fields are redacted', () => {
    const obj = parseOne(jsonLine({ level: 'info', message: 'real', time: TIME, fields: { component: 'umesh:http', time: 'fake', level: 'error', message: 'fake', token: 'abc', authorization: 'Bearer abc', apiKey: 'k', password: 'p' } }))
    assert.equal(obj.time, TIME.toISOString())
    assert.equal(obj.level, 'info')
    assert.equal(obj.message, 'real')
    assert.equal(obj.component, 'umesh:http')
    for (const key of ['token', 'authorization', 'apiKey', 'password']) assert.equal(obj[key], '[redacted]', key)
    assert.doesNotMatch(JSON.stringify(obj), /abc/)
  })
})

describe('componentRecord', () => {
  it('the namespace is the component; :error and :trace are the level, else debug', () => {
    assert.deepEqual(componentRecord('libp2p:dialer', ['dialing %s', 'x']), { level: 'debug', message: 'dialing x', fields: { component: 'libp2p:dialer' } })
    assert.equal(componentRecord('libp2p:dialer:error', ['x']).level, 'error')
    assert.equal(componentRecord('libp2p:dialer:error', ['x']).fields?.component, 'libp2p:dialer')
    assert.equal(componentRecord('umesh:swarm:trace', ['x']).level, 'trace')
    assert.equal(componentRecord('umesh:swarm', ['x'], '12D3KooWPeer').fields?.peer, '12D3KooWPeer')
  })
})

describe('componentLogsAsJson', () => {
  const lines: string[] = []
  const undo = componentLogsAsJson(line => { lines.push(line) })
  after(() => { undo(); disable() })

  it('libp2p logger lines become JSON lines with the component, level and first peer id', () => {
    enable('umesh:test-json*')
    const log = logger('umesh:test-json')
    const peer = { toString: () => '12D3KooWPeer' }
    log('dialing %p with %o', peer, { a: { b: [1, 2, 3] }, text: 'multi\nline' })
    log.error('dial to %p failed - %e', peer, new Error('connection refused\n  at somewhere'))
    log('no peer here: %s %d', 'x', 3)
    assert.equal(lines.length, 3, lines.join(''))
    const [first, second, third] = lines.map(parseOne)
    assert.equal(first.level, 'debug')
    assert.equal(first.component, 'umesh:test-json')
    assert.equal(first.peer, '12D3KooWPeer')
    assert.match(first.message as string, /^dialing 12D3KooWPeer with \{ a: \{ b: \[ 1, 2, 3 \] \}, text: 'multi\\nline' \}$/)
    assert.doesNotMatch(first.message as string, /\u001b/, 'no colour codes')
    assert.equal(second.level, 'error')
    assert.equal(second.component, 'umesh:test-json')
    // libp2p's %e writes the stack: its lines stay in the one JSON line
    assert.match(second.message as string, /^dial to 12D3KooWPeer failed - Error: connection refused\n {2}at somewhere\n/)
    assert.equal(third.message, 'no peer here: x 3')
    assert.equal('peer' in third, false, 'the peer of one line does not leak into the next')
  })

  it('the undo gives the text lines back', () => {
    undo()
    lines.length = 0
    enable('umesh:test-json*')
    const written: string[] = []
    const log = logger('umesh:test-json')
    const savedWrite = process.stderr.write
    process.stderr.write = ((chunk: string) => { written.push(String(chunk)); return true }) as typeof process.stderr.write
    try {
      log('plain %s', 'text')
    } finally {
      process.stderr.write = savedWrite
    }
    assert.equal(lines.length, 0)
    assert.equal(written.length, 1)
    assert.match(written[0], /umesh:test-json.*plain text/)
    assert.throws(() => JSON.parse(written[0]))
  })
})

describe('lineFields', () => {
  it('the first %p is the peer, the first %e the error message', () => {
    const peer = { toString: () => '12D3KooWPeer' }
    assert.deepEqual(lineFields('rejecting %p - %e', peer, new Error('bad signature')), { peer: '12D3KooWPeer', error: 'bad signature' })
    assert.deepEqual(lineFields('%s %d%% of %p', 'app', 5, peer), { peer: '12D3KooWPeer' })
    assert.deepEqual(lineFields('failed - %e', 'a string'), { error: 'a string' })
    assert.deepEqual(lineFields('nothing %s', 'x'), {})
    assert.deepEqual(lineFields({ not: 'a string' }), {})
  })
})
