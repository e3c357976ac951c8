/**
 * `umesh status --peer` without --network: the network is the one whose
 * status protocol the peer speaks; none or several is a usage error naming
 * what the peer speaks and --network.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { chooseNetwork } from '../../../../src/cli/commands/status.js'
import { UsageError } from '../../../../src/errors.js'

const PEER = '/ip4/127.0.0.1/tcp/4090/p2p/12D3KooWPeer'
const LAB_A = ['/meshsub/1.1.0', '/umesh/lab-a/id/1.0.0', '/umesh/lab-a/kad/1.0.0', '/umesh/lab-a/status/1.0.0', '/umesh/lab-a/sync/1.0.0']

describe('chooseNetwork', () => {
  it('one network: that one', () => {
    assert.equal(chooseNetwork(PEER, LAB_A), 'lab-a')
    assert.equal(chooseNetwork(PEER, ['/umesh/fleet.eu_1/status/1.0.0']), 'fleet.eu_1')
  })

  it('two networks: a usage error naming both and --network', () => {
    assert.throws(() => chooseNetwork(PEER, [...LAB_A, '/umesh/prod/status/1.0.0']), (err: Error) => {
      assert.ok(err instanceof UsageError)
      assert.equal(err.exitCode, 2)
      assert.match(err.message, /2 networks \(lab-a, prod\)/)
      assert.match(err.message, /--network NAME/)
      assert.ok(err.message.includes(PEER))
      return true
    })
  })

  it('no status protocol: a usage error listing a few protocols it speaks and --network', () => {
    const many = Array.from({ length: 12 }, (_, i) => `/other/${i}/1.0.0`)
    assert.throws(() => chooseNetwork(PEER, ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0']), (err: Error) => {
      assert.ok(err instanceof UsageError)
      assert.match(err.message, /speaks no umesh status protocol/)
      assert.match(err.message, /it speaks \/ipfs\/id\/1\.0\.0, \/ipfs\/ping\/1\.0\.0;/)
      assert.match(err.message, /--network NAME/)
      return true
    })
    assert.throws(() => chooseNetwork(PEER, many), /\/other\/7\/1\.0\.0 and 4 more/)
    assert.throws(() => chooseNetwork(PEER, []), /it lists no protocols/)
  })
})
