/**
 * The operator log: a component's errors reach the daemon's callback as one
 * formatted line (and still the component log); plain lines do not. And the
 * line formatting itself (src/util/format-line.ts).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { operatorLogger } from '../../../src/daemon/operator-log.js'
import { formatLine } from '../../../src/util/format-line.js'
import { captureLogger } from '../../helpers/capture-logger.js'

const peer = { toString: () => '12D3KooWPeer' }

describe('formatLine', () => {
  it('%p is the peer id, %e the error\'s message', () => {
    assert.equal(formatLine('dialing %p failed - %e', peer, new Error('connection refused')), 'dialing 12D3KooWPeer failed - connection refused')
    assert.equal(formatLine('failed - %e', 'not an error object'), 'failed - not an error object')
  })

  it('%s and %d as util.format writes them; %% is a percent sign and takes no argument', () => {
    assert.equal(formatLine('%s has %d chunks, %d%% done', 'app', 42, 7), 'app has 42 chunks, 7% done')
    assert.equal(formatLine('%d', '12'), '12')
    assert.equal(formatLine('100%% of %s', 'app'), '100% of app')
    assert.equal(formatLine('%j', { a: 1 }), '{"a":1}')
  })

  it('extra arguments are appended; a missing one reads undefined (as debug writes it)', () => {
    assert.equal(formatLine('stopped %s', 'app', 'extra', 3), 'stopped app extra 3')
    assert.equal(formatLine('no specifiers', 'a', 'b'), 'no specifiers a b')
    assert.equal(formatLine('%s and %s', 'one'), 'one and undefined')
  })

  it('a formatter that is not a string is formatted like util.format', () => {
    assert.equal(formatLine({ a: 1 }, 'x'), '{ a: 1 } x')
    assert.equal(formatLine(new Error('boom')).split('\n')[0], 'Error: boom')
  })
})

describe('operatorLogger', () => {
  it('.error reaches the callback as one line and still the component log', () => {
    const base = captureLogger()
    const operator: string[] = []
    const names: string[] = []
    const log = operatorLogger(line => { operator.push(line) }, { forComponent: (name) => { names.push(name); return base.components.forComponent(name) } }).forComponent('umesh:auto-update')
    log.error('auto-update of %s to %s did not complete - %e', 'app', '1.1.0', new Error('disk full'))
    assert.deepEqual(operator, ['auto-update of app to 1.1.0 did not complete - disk full'])
    assert.deepEqual(base.lines, ['error: auto-update of app to 1.1.0 did not complete - disk full'])
    assert.deepEqual(names, ['umesh:auto-update'])
  })

  it('plain and trace lines do not reach the callback', () => {
    const base = captureLogger()
    const operator: string[] = []
    const log = operatorLogger(line => { operator.push(line) }, base.components).forComponent('umesh:install')
    log('app %s -> %s', '1.0.0', '1.1.0')
    log.trace('chunk %s', 'bafy')
    assert.deepEqual(operator, [])
    assert.deepEqual(base.lines, ['app 1.0.0 -> 1.1.0'])
    assert.equal(log.enabled, true)
    assert.equal(typeof log.newScope('x'), 'function')
  })

  it('with the default libp2p logger, an error still reaches the callback', () => {
    const operator: string[] = []
    operatorLogger(line => { operator.push(line) }).forComponent('umesh:test').error('rejecting %p - %e', peer, new Error('bad signature'))
    assert.deepEqual(operator, ['rejecting 12D3KooWPeer - bad signature'])
  })
})
