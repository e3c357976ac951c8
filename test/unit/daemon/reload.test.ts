import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { defaults } from '../../../src/config/index.js'
import { diffConfig } from '../../../src/daemon/reload.js'

const PEER = '12D3KooWECDtH8SELx8Ztv9sSnjarqgNvdkRaAZR8kSc58FwqWZu'

describe('config reload diff', () => {
  it('separates live options from those needing a restart', () => {
    const a = defaults()
    const b = { ...defaults(), denyPeers: [PEER], maxConnections: 7, listen: ['/ip4/127.0.0.1/tcp/1'], network: 'other' }
    const outcome = diffConfig(a, b)
    assert.deepEqual(outcome.applied.sort(), ['denyPeers', 'maxConnections'])
    assert.deepEqual(outcome.restartNeeded.sort(), ['listen', 'network'])
    assert.deepEqual(diffConfig(a, defaults()), { applied: [], restartNeeded: [] })
  })
})
