/**
 * The fleet model (sim/): its answers where the answer is known. One node
 * fetching from the publisher alone takes the release's size over the link's
 * rate plus the latency terms it goes through; doubling the rate halves the
 * transfer; the picker spreads pieces, so the publisher sends about one copy
 * and the time grows far slower than the fleet; a rollout in waves is judged
 * by the project's gate and takes longer than a single wave. Each run is a
 * few hundred milliseconds.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { allocate, mathisCap, waterFill } from '../../../sim/fluid.js'
import { FleetSim } from '../../../sim/model.js'
import { fleetParams } from '../../../sim/params.js'
import type { SimParams } from '../../../sim/params.js'

const MiB = 1024 * 1024

/** a quiet world: no CPU cost, no churn, no loss, no reports */
function quiet (nodes: number, overrides: Partial<SimParams> = {}): SimParams {
  return fleetParams(nodes, {
    bytes: 4 * MiB,
    link: { upBps: 1e6, downBps: 1e6, latencyMs: 5, loss: 0 },
    cpu: { mode: 'dedicated', cores: 1, inMsPerMiB: 0, outMsPerMiB: 0, requestMs: 0, metadataMs: 0 },
    churn: { fraction: 0, leaveByMs: 0, downMinMs: 0, downMaxMs: 0 },
    reportIntervalMs: 0,
    publishDelayMs: 0,
    dtMs: 5,
    maxSimMs: 120_000,
    ...overrides
  })
}

describe('fleet model', () => {
  it('one node and the publisher: size / bandwidth plus the latency terms', () => {
    const p = quiet(1)
    const r = new FleetSim(p).run()
    const oneWay = 2 * p.link.latencyMs
    // announcement hop, metadata round trips, the have session, the first GET, the data, the last chunk's way back
    const expected = (oneWay + 1) + p.metaRoundTrips * 2 * oneWay + 2 * oneWay + oneWay + p.bytes / p.link.downBps * 1000 + oneWay
    assert.ok(Number.isFinite(r.fleetMs), 'the node never held the release')
    assert.ok(Math.abs(r.fleetMs - expected) <= 4 * p.dtMs + 0.02 * expected, `held after ${r.fleetMs.toFixed(0)} ms, expected ${expected.toFixed(0)} ms`)
    assert.ok(Math.abs(r.publisherCopies - 1) < 0.01, `the publisher sent ${r.publisherCopies} copies to its only node`)
  })

  it('doubling the bandwidth halves the transfer time', () => {
    const slow = quiet(1, { link: { upBps: 1e6, downBps: 1e6, latencyMs: 0, loss: 0 } })
    const fast = quiet(1, { link: { upBps: 2e6, downBps: 2e6, latencyMs: 0, loss: 0 } })
    const a = new FleetSim(slow).run().fleetMs
    const b = new FleetSim(fast).run().fleetMs
    assert.ok(Math.abs(b / a - 0.5) < 0.03, `${a.toFixed(0)} ms at 1 MB/s, ${b.toFixed(0)} ms at 2 MB/s: ratio ${(b / a).toFixed(3)}`)
  })

  it('the picker spreads rarest first: the publisher sends about one copy and 32 nodes take far less than 4x the time of 8', () => {
    // 16 MiB: about 56 pieces (with a handful, the end-game's second copies are most of what the publisher sends)
    const eight = new FleetSim(quiet(8, { bytes: 16 * MiB })).run()
    const many = new FleetSim(quiet(32, { bytes: 16 * MiB })).run()
    assert.ok(eight.publisherCopies < 1.6, `publisher copies at 8 nodes: ${eight.publisherCopies.toFixed(2)}`)
    assert.ok(many.publisherCopies < 2.2, `publisher copies at 32 nodes: ${many.publisherCopies.toFixed(2)}`)
    assert.ok(many.fleetMs < 1.5 * eight.fleetMs, `32 nodes ${many.fleetMs.toFixed(0)} ms against 8 nodes ${eight.fleetMs.toFixed(0)} ms`)
    // one server would need N x S / B
    assert.ok(many.fleetMs < 0.1 * 32 * 16 * MiB / 1e6 * 1000)
  })

  it('a rollout in waves passes each gate and ends later than a single wave', () => {
    const rollout = (waves: string): SimParams['rollout'] => ({ waves, gate: 'success>=1,soak=2s', maxParallel: 10, installMs: 500, startAtMs: 0 })
    const waves = new FleetSim(quiet(20, { rollout: rollout('canary:1,10%,50%,100%') })).run()
    const single = new FleetSim(quiet(20, { rollout: rollout('100%') })).run()
    assert.ok(waves.completedMs != null && single.completedMs != null, 'a rollout did not complete')
    assert.ok(waves.healthyAt?.every(Number.isFinite) === true && single.healthyAt?.every(Number.isFinite) === true)
    // four gates with a 2 s soak each against one
    assert.ok(waves.allHealthyMs! > single.allHealthyMs! + 4_000, `waves ${waves.allHealthyMs} ms, single ${single.allHealthyMs} ms`)
  })

  it('shares links max-min and a shared machine\'s cores among the flows', () => {
    const flows = [{ src: 0, dst: 1, remaining: 1, cap: Infinity, rate: 0 }, { src: 0, dst: 2, remaining: 1, cap: Infinity, rate: 0 }]
    const nodes = [{ upBps: 10, downBps: 10, fixedMs: 0 }, { upBps: 10, downBps: 2, fixedMs: 0 }, { upBps: 10, downBps: 100, fixedMs: 0 }]
    allocate(flows, nodes, { shared: false, cores: 1, inCost: 0, outCost: 0 }, 10)
    assert.deepEqual(flows.map(f => f.rate), [2, 8])
    // 2 cores for demands of 1, 1 and 0.5 (a thread each at most)
    assert.deepEqual([...waterFill(new Float64Array([1, 1, 0.5]), 2)], [0.75, 0.75, 0.5])
    assert.equal(mathisCap(100, 0), Infinity)
    assert.ok(Math.abs(mathisCap(100, 0.01) - 1448 / 0.1 * 1.22 / 0.1) < 1e-6)
  })
})
