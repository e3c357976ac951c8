import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parse } from '../../../src/cli/args.js'

describe('cli flags', () => {
  it('maps schema flags to config keys, splitting comma lists and --no- booleans', () => {
    const p = parse('node', ['--listen', '/ip4/127.0.0.1/tcp/1,/ip4/127.0.0.1/tcp/2', '--listen', '/ip4/127.0.0.1/tcp/3', '--no-mdns', '--max-connections', '9', '--config', 'x.json'], { config: { type: 'string' } }, true)
    assert.deepEqual(p.node.listen, ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2', '/ip4/127.0.0.1/tcp/3'])
    assert.equal(p.node.mdns, false)
    assert.equal(p.node.maxConnections, '9')
    assert.equal(p.own.config, 'x.json')
  })

  it('rejects unknown flags and contradictions as usage errors (exit 2)', () => {
    assert.throws(() => parse('node', ['--lisen', 'x'], {}, true), (err: any) => err.name === 'UsageError' && err.exitCode === 2 && /--lisen/.test(err.message) && /umesh node --help/.test(err.message))
    assert.throws(() => parse('node', ['--mdns', '--no-mdns'], {}, true), (err: any) => err.name === 'UsageError' && /contradict/.test(err.message))
  })
})
