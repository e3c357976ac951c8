/**
 * The node's metrics from stub sources, read back with the strict parser:
 * every value of the stubs appears under its name and labels, labels stay
 * within their bounded sets (other protocols, transports, states), a source
 * that is absent leaves its metrics without samples, one that throws is left
 * out and counted, each getter is called once per scrape, the latency
 * histogram observes each measured latency once, and stop() ends the event
 * loop monitor.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMetrics } from '../../../src/metrics/index.js'
import { findSamples, parsePrometheus, sampleValue } from '../../helpers/prom-parse.js'
import type { MetricsSources } from '../../../src/metrics/index.js'
import type { PromFamily } from '../../helpers/prom-parse.js'

const KNOWN = ['/umesh/t/chunks/1.0.0', '/umesh/t/have/1.0.0', '/meshsub/1.2.0']

function nodeSources (over: Partial<MetricsSources> = {}): MetricsSources {
  return {
    info: () => ({ version: '0.1.0', role: 'node', network: 't' }),
    phases: () => [
      { name: 'core', state: 'done', durationMs: 12 },
      { name: 'http', state: 'skipped', durationMs: 0 },
      { name: 'network', state: 'done', durationMs: 250 },
      { name: 'sync', state: 'running', durationMs: 0 },
      { name: 'background', state: 'pending', durationMs: 0 }
    ],
    network: () => ({
      peers: 4,
      connections: [
        { direction: 'inbound', transport: 'tcp' },
        { direction: 'inbound', transport: 'tcp' },
        { direction: 'outbound', transport: 'tcp' },
        { direction: 'outbound', transport: 'relay' },
        { direction: 'outbound', transport: 'carrier-pigeon' }
      ],
      bytesIn: 1000,
      bytesOut: 2000,
      byProtocol: new Map([
        ['/umesh/t/chunks/1.0.0', { bytesIn: 700, bytesOut: 10 }],
        ['/meshsub/1.2.0', { bytesIn: 5, bytesOut: 6 }],
        ['/evil/aaaa', { bytesIn: 1, bytesOut: 2 }],
        ['/evil/bbbb', { bytesIn: 3, bytesOut: 4 }]
      ]),
      knownProtocols: KNOWN
    }),
    swarm: () => ({ releases: 2, sessions: 5, piecesHeld: 30, piecesFetching: 12, piecesRequested: 4, piecesFetched: 18, verificationFailures: 1, protocolErrors: 2 }),
    bandwidth: () => ({ uploadLimit: 1_000_000, downloadLimit: 0, uploadedBytes: 5e6, downloadedBytes: 7e6, uploadRate: 900_000, downloadRate: 20_000, uploadQueue: 3, uploadDelayMs: 250, downloadDelayMs: 0 }),
    installs: () => [
      { package: 'app', state: 'health-check', current: '1.0.0', available: '1.1.0' },
      { package: 'db', state: 'rolled-back', current: null, available: null }
    ],
    installOutcomes: () => [
      { package: 'app', kind: 'upgrade', outcome: 'installed', count: 3 },
      { package: 'app', kind: 'upgrade', outcome: 'rolled-back', count: 1 },
      { package: 'db', kind: 'rollback', outcome: 'rolled-back', count: 2 }
    ],
    trust: () => ({ timestampVersion: 17, stale: true, lastRefreshMs: 1_700_000_000_500 }),
    releases: () => [{ state: 'held' }, { state: 'held' }, { state: 'fetching' }, { state: 'weird' }],
    announcements: () => ({ accepted: 9, ignored: 2, rejected: 1 }),
    reports: () => ({ accepted: 40, stale: 7, rejected: 3 }),
    announceLatency: () => ({ count: 3, recent: [0.07, 0.7, 7] }),
    ...over
  }
}

async function scrape (sources: MetricsSources): Promise<Map<string, PromFamily>> {
  const metrics = createMetrics(sources)
  try {
    return parsePrometheus(await metrics.scrape())
  } finally {
    metrics.stop()
  }
}

const v = sampleValue

describe('createMetrics: a node', () => {
  it('serves the Prometheus text format under its content type, every name umesh_*', async () => {
    const metrics = createMetrics(nodeSources())
    try {
      assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/)
      const families = parsePrometheus(await metrics.scrape())
      for (const name of families.keys()) assert.match(name, /^umesh_/)
    } finally {
      metrics.stop()
    }
  })

  it('identity and start-up: build info, and the duration of each phase that has finished', async () => {
    const f = await scrape(nodeSources())
    assert.equal(v(f, 'umesh_build_info', { version: '0.1.0', role: 'node', network: 't' }), 1)
    assert.deepEqual(findSamples(f, 'umesh_startup_phase_duration_seconds').map(s => [s.labels.phase, s.value]), [['core', 0.012], ['http', 0], ['network', 0.25]])
  })

  it('peers, connections by direction and a bounded transport, bytes per connection and per known protocol (the rest as other)', async () => {
    const f = await scrape(nodeSources())
    assert.equal(v(f, 'umesh_peers'), 4)
    assert.equal(v(f, 'umesh_connections', { direction: 'inbound', transport: 'tcp' }), 2)
    assert.equal(v(f, 'umesh_connections', { direction: 'outbound', transport: 'tcp' }), 1)
    assert.equal(v(f, 'umesh_connections', { direction: 'outbound', transport: 'relay' }), 1)
    assert.equal(v(f, 'umesh_connections', { direction: 'outbound', transport: 'other' }), 1)
    assert.equal(f.get('umesh_network_bytes_total')!.type, 'counter')
    assert.equal(v(f, 'umesh_network_bytes_total', { direction: 'in' }), 1000)
    assert.equal(v(f, 'umesh_network_bytes_total', { direction: 'out' }), 2000)
    assert.equal(v(f, 'umesh_protocol_bytes_total', { protocol: '/umesh/t/chunks/1.0.0', direction: 'in' }), 700)
    assert.equal(v(f, 'umesh_protocol_bytes_total', { protocol: '/umesh/t/chunks/1.0.0', direction: 'out' }), 10)
    assert.equal(v(f, 'umesh_protocol_bytes_total', { protocol: '/meshsub/1.2.0', direction: 'out' }), 6)
    assert.equal(v(f, 'umesh_protocol_bytes_total', { protocol: 'other', direction: 'in' }), 4)
    assert.equal(v(f, 'umesh_protocol_bytes_total', { protocol: 'other', direction: 'out' }), 6)
    assert.deepEqual(new Set(findSamples(f, 'umesh_protocol_bytes_total').map(s => s.labels.protocol)), new Set(['/umesh/t/chunks/1.0.0', '/meshsub/1.2.0', 'other']))
  })

  it('swarm pieces and counters, caps, rates, bytes, throttling and the upload queue', async () => {
    const f = await scrape(nodeSources())
    assert.equal(v(f, 'umesh_swarm_releases'), 2)
    assert.equal(v(f, 'umesh_swarm_sessions'), 5)
    assert.equal(v(f, 'umesh_swarm_pieces_held'), 30)
    assert.equal(v(f, 'umesh_swarm_pieces_fetching'), 12)
    assert.equal(v(f, 'umesh_swarm_pieces_requested'), 4)
    assert.equal(v(f, 'umesh_swarm_pieces_fetched_total'), 18)
    assert.equal(v(f, 'umesh_swarm_chunk_verification_failures_total'), 1)
    assert.equal(v(f, 'umesh_swarm_chunk_protocol_errors_total'), 2)
    assert.equal(f.get('umesh_swarm_chunk_verification_failures_total')!.type, 'counter')
    assert.equal(v(f, 'umesh_swarm_limit_bytes_per_second', { direction: 'upload' }), 1_000_000)
    assert.equal(v(f, 'umesh_swarm_limit_bytes_per_second', { direction: 'download' }), 0)
    assert.equal(v(f, 'umesh_swarm_rate_bytes_per_second', { direction: 'upload' }), 900_000)
    assert.equal(v(f, 'umesh_swarm_rate_bytes_per_second', { direction: 'download' }), 20_000)
    assert.equal(v(f, 'umesh_swarm_bytes_total', { direction: 'upload' }), 5e6)
    assert.equal(v(f, 'umesh_swarm_bytes_total', { direction: 'download' }), 7e6)
    assert.equal(v(f, 'umesh_swarm_throttle_delay_seconds', { direction: 'upload' }), 0.25)
    assert.equal(v(f, 'umesh_swarm_throttle_delay_seconds', { direction: 'download' }), 0)
    assert.equal(v(f, 'umesh_swarm_upload_queue'), 3)
  })

  it('installs: one state set per package (snake_case), the current version, update available, outcomes counted', async () => {
    const f = await scrape(nodeSources())
    const states = (pkg: string): Record<string, number> => Object.fromEntries(findSamples(f, 'umesh_install_state', { package: pkg }).map(s => [s.labels.state, s.value]))
    assert.deepEqual(states('app'), { idle: 0, fetching: 0, staging: 0, installing: 0, health_check: 1, healthy: 0, failed: 0, rolled_back: 0 })
    assert.deepEqual(states('db'), { idle: 0, fetching: 0, staging: 0, installing: 0, health_check: 0, healthy: 0, failed: 0, rolled_back: 1 })
    assert.equal(v(f, 'umesh_install_current_info', { package: 'app', version: '1.0.0' }), 1)
    assert.equal(v(f, 'umesh_install_current_info', { package: 'db', version: 'none' }), 1)
    assert.equal(v(f, 'umesh_install_update_available', { package: 'app' }), 1)
    assert.equal(v(f, 'umesh_install_update_available', { package: 'db' }), 0)
    assert.equal(v(f, 'umesh_installs_total', { package: 'app', kind: 'upgrade', outcome: 'installed' }), 3)
    assert.equal(v(f, 'umesh_installs_total', { package: 'app', kind: 'upgrade', outcome: 'rolled_back' }), 1)
    assert.equal(v(f, 'umesh_installs_total', { package: 'db', kind: 'rollback', outcome: 'rolled_back' }), 2)
  })

  it('trust, releases by state (unknown states as other), announcements and reports by verdict', async () => {
    const f = await scrape(nodeSources())
    assert.equal(v(f, 'umesh_trust_timestamp_version'), 17)
    assert.equal(v(f, 'umesh_trust_stale'), 1)
    assert.equal(v(f, 'umesh_trust_last_refresh_timestamp_seconds'), 1_700_000_000.5)
    assert.deepEqual(Object.fromEntries(findSamples(f, 'umesh_releases').map(s => [s.labels.state, s.value])), { held: 2, fetching: 1, failed: 0, other: 1 })
    assert.equal(v(f, 'umesh_announcements_total', { verdict: 'accepted' }), 9)
    assert.equal(v(f, 'umesh_announcements_total', { verdict: 'ignored' }), 2)
    assert.equal(v(f, 'umesh_announcements_total', { verdict: 'rejected' }), 1)
    assert.deepEqual(Object.fromEntries(findSamples(f, 'umesh_reports_total').map(s => [s.labels.verdict, s.value])), { accepted: 40, stale: 7, rejected: 3 })
  })

  it('the announcement-to-verified histogram observes each latency once, across scrapes, and starts over with a new follower', async () => {
    const log = { count: 3, recent: [0.07, 0.7, 7] }
    const metrics = createMetrics(nodeSources({ announceLatency: () => log }))
    try {
      let f = parsePrometheus(await metrics.scrape())
      assert.equal(f.get('umesh_announcement_to_verified_seconds')!.type, 'histogram')
      assert.equal(v(f, 'umesh_announcement_to_verified_seconds_bucket', { le: '0.05' }), 0)
      assert.equal(v(f, 'umesh_announcement_to_verified_seconds_bucket', { le: '0.1' }), 1)
      assert.equal(v(f, 'umesh_announcement_to_verified_seconds_bucket', { le: '1' }), 2)
      assert.equal(v(f, 'umesh_announcement_to_verified_seconds_bucket', { le: '10' }), 3)
      assert.equal(v(f, 'umesh_announcement_to_verified_seconds_count'), 3)
      assert.ok(Math.abs(v(f, 'umesh_announcement_to_verified_seconds_sum')! - 7.77) < 1e-9)
      // nothing new: the same histogram
      f = parsePrometheus(await metrics.scrape())
      assert.equal(v(f, 'umesh_announcement_to_verified_seconds_count'), 3)
      // two more, one of them beyond what the log keeps of the older ones
      log.count = 5
      log.recent = [7, 0.2, 40]
      f = parsePrometheus(await metrics.scrape())
      assert.equal(v(f, 'umesh_announcement_to_verified_seconds_count'), 5)
      assert.equal(v(f, 'umesh_announcement_to_verified_seconds_bucket', { le: '0.25' }), 2)
      assert.equal(v(f, 'umesh_announcement_to_verified_seconds_bucket', { le: '30' }), 4)
      // more measured than the log keeps: only what it keeps is observed
      log.count = 10
      log.recent = [1.5, 1.5]
      f = parsePrometheus(await metrics.scrape())
      assert.equal(v(f, 'umesh_announcement_to_verified_seconds_count'), 7)
      // a new follower counts from 0 again
      log.count = 1
      log.recent = [0.01]
      f = parsePrometheus(await metrics.scrape())
      assert.equal(v(f, 'umesh_announcement_to_verified_seconds_count'), 8)
      assert.equal(v(f, 'umesh_announcement_to_verified_seconds_bucket', { le: '0.05' }), 1)
    } finally {
      metrics.stop()
    }
  })

  it('process: memory, CPU, start time, and the event loop delay until stop()', async () => {
    const metrics = createMetrics({})
    try {
      // several turns of the loop, so the delay monitor has samples however busy the machine is
      for (let i = 0; i < 8; i++) await new Promise(resolve => setTimeout(resolve, 20))
      const f = parsePrometheus(await metrics.scrape())
      const rss = v(f, 'umesh_process_resident_memory_bytes')!
      assert.ok(rss > 10 * 1024 * 1024 && rss < 16 * 1024 ** 3, `rss ${rss}`)
      const heapUsed = v(f, 'umesh_process_heap_used_bytes')!
      assert.ok(heapUsed > 1024 * 1024)
      assert.ok(v(f, 'umesh_process_heap_total_bytes')! >= heapUsed)
      const external = v(f, 'umesh_process_external_memory_bytes')!
      const arrayBuffers = v(f, 'umesh_process_array_buffers_bytes')!
      assert.ok(arrayBuffers > 0 && external >= arrayBuffers, `external ${external}, array buffers ${arrayBuffers}`)
      assert.ok(external < rss, `external ${external} is part of rss ${rss}`)
      assert.ok(v(f, 'umesh_process_cpu_seconds_total', { mode: 'user' })! > 0)
      assert.ok(v(f, 'umesh_process_cpu_seconds_total', { mode: 'system' })! >= 0)
      const start = v(f, 'umesh_process_start_time_seconds')!
      assert.ok(Math.abs(start - (Date.now() - process.uptime() * 1000) / 1000) < 5, `start ${start}`)
      for (const stat of ['mean', 'p50', 'p99', 'max']) {
        const lag = v(f, `umesh_event_loop_lag_${stat}_seconds`)
        assert.ok(lag !== undefined && lag >= 0 && lag < 5, `${stat}: ${lag}`)
      }
      assert.ok(v(f, 'umesh_event_loop_lag_max_seconds')! >= v(f, 'umesh_event_loop_lag_p50_seconds')!)
      metrics.stop()
      await new Promise(resolve => setTimeout(resolve, 30))
      const after = parsePrometheus(await metrics.scrape())
      assert.deepEqual(findSamples(after, 'umesh_event_loop_lag_mean_seconds'), [], 'no loop delay once stopped')
      assert.ok(v(after, 'umesh_process_resident_memory_bytes')! > 0, 'the rest still answers')
    } finally {
      metrics.stop()
    }
  })

  it('absent sources (a bootstrap node, a part not built yet): their families have no samples, none is a made-up zero', async () => {
    const f = await scrape({ info: () => ({ version: '0.1.0', role: 'bootstrap', network: 't' }), network: () => undefined, installs: () => undefined })
    for (const name of ['umesh_peers', 'umesh_connections', 'umesh_network_bytes_total', 'umesh_swarm_pieces_held', 'umesh_swarm_upload_queue', 'umesh_install_state', 'umesh_installs_total', 'umesh_trust_timestamp_version', 'umesh_releases', 'umesh_fleet_nodes', 'umesh_rollout_wave_nodes']) {
      assert.deepEqual(f.get(name)?.samples, [], name)
    }
    assert.equal(v(f, 'umesh_announcement_to_verified_seconds_count'), 0)
    assert.equal(v(f, 'umesh_build_info', { version: '0.1.0', role: 'bootstrap', network: 't' }), 1)
  })

  it('a getter that throws leaves out the metrics reading it, counted and reported; the others still answer', async () => {
    const errors: string[] = []
    const metrics = createMetrics(nodeSources({
      swarm: () => { throw new Error('swarm broke') },
      onError: (metric, err) => { errors.push(`${metric}: ${(err as Error).message}`) }
    }))
    try {
      const f = parsePrometheus(await metrics.scrape())
      assert.deepEqual(f.get('umesh_swarm_pieces_held')!.samples, [])
      assert.equal(v(f, 'umesh_peers'), 4)
      assert.ok(errors.includes('umesh_swarm_pieces_held: swarm broke'), errors.join('\n'))
      const again = parsePrometheus(await metrics.scrape())
      assert.equal(v(again, 'umesh_metrics_collect_errors_total', { metric: 'umesh_swarm_pieces_held' }), 2)
      assert.ok(v(again, 'umesh_metrics_last_scrape_duration_seconds')! > 0)
    } finally {
      metrics.stop()
    }
  })

  it('each getter is called once per scrape however many metrics read it', async () => {
    const calls = new Map<string, number>()
    const counted = nodeSources()
    for (const key of Object.keys(counted) as Array<keyof MetricsSources>) {
      const get = counted[key] as () => unknown
      ;(counted as Record<string, unknown>)[key] = () => { calls.set(key, (calls.get(key) ?? 0) + 1); return get() }
    }
    const metrics = createMetrics(counted)
    try {
      await metrics.scrape()
      await metrics.scrape()
      for (const [key, n] of calls) assert.equal(n, 2, `${key} called ${n} times in 2 scrapes`)
      assert.ok((calls.get('installs') ?? 0) > 0)
    } finally {
      metrics.stop()
    }
  })

  it('label values with quotes, backslashes and newlines are escaped so the text still parses', async () => {
    const f = await scrape(nodeSources({ installs: () => [{ package: 'app', state: 'healthy', current: '1.0 "q" \\ \n', available: null }] }))
    assert.equal(v(f, 'umesh_install_current_info', { package: 'app', version: '1.0 "q" \\ \n' }), 1)
  })

  it('two Metrics in one process keep separate registries (never the global one)', async () => {
    const { register } = await import('prom-client')
    const before = register.getMetricsAsArray().length
    const a = createMetrics(nodeSources())
    const b = createMetrics(nodeSources({ network: () => undefined }))
    try {
      assert.equal(v(parsePrometheus(await a.scrape()), 'umesh_peers'), 4)
      assert.deepEqual(parsePrometheus(await b.scrape()).get('umesh_peers')!.samples, [])
      assert.equal(register.getMetricsAsArray().length, before)
    } finally {
      a.stop()
      b.stop()
    }
  })
})
