/**
 * The networks a peer answers status for, from the protocol ids it handles
 * (protocols/status/client.ts).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { statusNetworks } from '../../../protocols/status/client.js'
import { statusProtocol } from '../../../protocols/status/index.js'

describe('statusNetworks', () => {
  it('reads the network of /umesh/<network>/status/<version>, any version, each once, sorted', () => {
    assert.deepEqual(statusNetworks([statusProtocol('lab-a')]), ['lab-a'])
    assert.deepEqual(statusNetworks(['/umesh/zeta/status/1.0.0', '/umesh/alpha/status/1.0.0', '/umesh/zeta/status/2.0.0']), ['alpha', 'zeta'])
  })

  it('ignores the network\'s other protocols and ids that only look alike', () => {
    assert.deepEqual(statusNetworks([
      '/umesh/lab/id/1.0.0', '/umesh/lab/kad/1.0.0', '/umesh/lab/sync/1.0.0', '/meshsub/1.1.0', '/ipfs/ping/1.0.0',
      '/umesh/status/1.0.0', '/umesh//status/1.0.0', '/umesh/a/b/status/1.0.0', '/umesh/lab/status/', '/umesh/lab/status/1.0.0/extra',
      'umesh/lab/status/1.0.0', '/other/lab/status/1.0.0'
    ]), [])
  })
})
