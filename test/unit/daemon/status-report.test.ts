/**
 * The daemon's status answer from stub parts: phases and peers mapped, lists
 * capped (256 peers, 64 installs), a package whose release is fetching shown
 * as fetching, the rollout line, bandwidth only with a bandwidth part.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { statusReport } from '../../../src/daemon/status-report.js'
import { VERSION } from '../../../src/version.js'
import type { DaemonParts } from '../../../src/daemon/daemon.js'
import type { PhaseRecord } from '../../../src/daemon/phases.js'
import type { ResourceUsage } from '../../../src/daemon/resources.js'
import type { PackageStatus } from '../../../src/install/manager.js'
import type { StatusInputs } from '../../../src/daemon/status-report.js'

const resources: ResourceUsage = { rssBytes: 1n, heapUsedBytes: 2n, cpuUserUs: 3n, cpuSystemUs: 4n, dataDirBytes: 5n, heapTotalBytes: 6n, externalBytes: 7n, arrayBuffersBytes: 8n }
const trust = { mode: 'follower', timestampVersion: 7, stale: false, error: '', lastRefreshMs: 9n }

function inputs (parts: Record<string, unknown>, over: Partial<StatusInputs> = {}): StatusInputs {
  return {
    peerId: '12D3KooWself',
    role: 'node',
    network: 'unit',
    mode: 'follower',
    startedAt: Date.now() - 5_000,
    phase: 'running',
    phases: [],
    resources,
    parts: parts as DaemonParts,
    ...over
  }
}

function pkgStatus (name: string, over: Partial<PackageStatus> = {}): PackageStatus {
  return { package: name, current: null, pending: '', state: 'idle', progress: { done: 0, total: 0 }, lastError: '', versions: [], followed: 'stable', available: null, installRoot: `/opt/${name}`, autoUpdate: true, ...over }
}

function release (pkg: string, state: string): Record<string, unknown> {
  return { package: pkg, version: '1.1.0', channel: 'stable', state, chunksHeld: 1, chunksTotal: 2, bytesTotal: 10n, error: '' }
}

/** a mesh part with `count` connections */
function mesh (count: number, sessions = 0): Record<string, unknown> {
  const connections = Array.from({ length: count }, (_, i) => ({
    remotePeer: { toString: () => `peer-${i}` },
    remoteAddr: { toString: () => `/ip4/10.0.0.${i % 250}/tcp/4001` },
    direction: i % 2 === 0 ? 'inbound' : 'outbound'
  }))
  return {
    node: { getConnections: () => connections, getMultiaddrs: () => [{ toString: () => '/ip4/127.0.0.1/tcp/4001' }] },
    traffic: { totals: { bytesIn: 100, bytesOut: 200 } },
    swarm: { stats: () => ({ sessions }) }
  }
}

describe('statusReport', () => {
  it('with no parts: identity, phases mapped, empty lists, the mode\'s trust, no bandwidth', () => {
    const phases = [
      { name: 'core', state: 'done', durationMs: 3, detail: 'ok', extra: 'not sent' },
      { name: 'network', state: 'running', durationMs: 0, detail: '' }
    ] as unknown as PhaseRecord[]
    const r = statusReport(inputs({}, { phases, mode: 'off' }))
    assert.deepEqual(r.phases, [{ name: 'core', state: 'done', durationMs: 3, detail: 'ok' }, { name: 'network', state: 'running', durationMs: 0, detail: '' }])
    assert.equal(r.version, VERSION)
    assert.deepEqual({ peerId: r.peerId, role: r.role, network: r.network, phase: r.phase }, { peerId: '12D3KooWself', role: 'node', network: 'unit', phase: 'running' })
    assert.ok(r.uptimeMs >= 5_000n && r.uptimeMs < 60_000n)
    assert.equal(r.connections, 0)
    assert.deepEqual(r.peers, [])
    assert.deepEqual(r.listenAddrs, [])
    assert.deepEqual(r.traffic, { bytesIn: 0n, bytesOut: 0n })
    assert.deepEqual(r.releases, [])
    assert.deepEqual(r.trust, { mode: 'off', timestampVersion: 0, stale: false, error: '', lastRefreshMs: 0n })
    assert.deepEqual(r.installs, [])
    assert.equal(r.bandwidth, undefined)
    assert.equal(r.resources, resources)
  })

  it('peers: every connection counted, 256 listed, each mapped', () => {
    const r = statusReport(inputs({ mesh: mesh(300) }))
    assert.equal(r.connections, 300)
    assert.equal(r.peers.length, 256)
    assert.deepEqual(r.peers[1], { peerId: 'peer-1', addr: '/ip4/10.0.0.1/tcp/4001', direction: 'outbound', relayed: false })
    assert.deepEqual(r.listenAddrs, ['/ip4/127.0.0.1/tcp/4001'])
    assert.deepEqual(r.traffic, { bytesIn: 100n, bytesOut: 200n })
    assert.equal(statusReport(inputs({ mesh: mesh(12) })).peers.length, 12)
  })

  it('installs: 64 listed; a package idle while its release is fetching shows fetching; the rollout line', () => {
    const statuses = Array.from({ length: 70 }, (_, i) => pkgStatus(`pkg-${i}`))
    statuses[0] = pkgStatus('pkg-0', { current: '1.0.0', available: '1.1.0', progress: { done: 3, total: 9 } })
    statuses[2] = pkgStatus('pkg-2', { state: 'staging', pending: '1.1.0' })
    statuses[3] = pkgStatus('pkg-3', { lastError: 'health failed', state: 'rolled-back' })
    const views: Record<string, unknown> = {
      'pkg-0': { rolloutId: '3f2a9c1e0b7d4a11', version: '1.1.0', wave: 1, outcome: 'waiting', reason: 'wave 1 (rest) is not open yet' },
      'pkg-1': { rolloutId: 'none', version: '', wave: -1, outcome: 'waiting', reason: 'no rollout' },
      'pkg-2': { rolloutId: 'abcdef0123456789', version: '1.1.0', wave: 0, outcome: 'installing', reason: '' },
      'pkg-3': { rolloutId: 'abcdef0123456789', version: '1.1.0', wave: 0, outcome: 'failed', reason: 'x'.repeat(5_000) }
    }
    const parts = {
      installs: { status: () => statuses },
      follower: { report: () => ({ releases: [release('pkg-0', 'fetching'), release('pkg-2', 'fetching'), release('pkg-1', 'held')], trust }) },
      releases: { report: () => { throw new Error('the follower answers first') } },
      rollouts: { view: (pkg: string) => views[pkg] }
    }
    const r = statusReport(inputs(parts))
    assert.equal(r.installs.length, 64)
    assert.equal(r.installs[63].package, 'pkg-63')
    assert.equal(r.releases.length, 3)
    assert.deepEqual(r.trust, trust)
    assert.deepEqual(r.installs[0], {
      package: 'pkg-0',
      current: '1.0.0',
      pending: '',
      state: 'fetching',
      progressDone: 3n,
      progressTotal: 9n,
      error: '',
      available: '1.1.0',
      rollout: 'rollout 3f2a9c1e0b7d4a11 of 1.1.0: wave 1, waiting (wave 1 (rest) is not open yet)'
    })
    assert.deepEqual({ state: r.installs[1].state, rollout: r.installs[1].rollout, current: r.installs[1].current, available: r.installs[1].available }, { state: 'idle', rollout: '', current: '', available: '' }, 'held, not fetching; no rollout')
    assert.equal(r.installs[2].state, 'staging', 'only an idle package shows its release fetching')
    assert.equal(r.installs[2].rollout, 'rollout abcdef0123456789 of 1.1.0: wave 0, installing')
    assert.equal(r.installs[3].error, 'health failed')
    assert.equal(r.installs[3].rollout.length, 1024)
    assert.equal(r.installs[4].rollout, '', 'no view: no rollout line')
  })

  it('a publisher\'s releases and trust when there is no follower', () => {
    const r = statusReport(inputs({ releases: { report: () => ({ releases: [release('app', 'held')], trust: { ...trust, mode: 'publisher' } }) } }, { mode: 'publisher' }))
    assert.deepEqual(r.releases.map(x => x.package), ['app'])
    assert.equal(r.trust?.mode, 'publisher')
  })

  it('bandwidth only with a bandwidth part, with the swarm\'s sessions', () => {
    const report = { uploadLimit: 1n, downloadLimit: 2n, uploadedBytes: 3n, downloadedBytes: 4n, uploadRate: 5n, downloadRate: 6n, uploadQueue: 7 }
    const withMesh = statusReport(inputs({ mesh: mesh(1, 4), bandwidth: { report: () => report } }))
    assert.deepEqual(withMesh.bandwidth, { ...report, swarmSessions: 4, sources: [] })
    const noMesh = statusReport(inputs({ bandwidth: { report: () => report } }))
    assert.deepEqual(noMesh.bandwidth, { ...report, swarmSessions: 0, sources: [] })
    assert.equal(statusReport(inputs({ mesh: mesh(1, 4) })).bandwidth, undefined)
  })
})
