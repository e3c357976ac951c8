/**
 * The mirror's metrics: what a follower took from its static HTTP mirror,
 * apart from what peers sent, read back with the strict Prometheus parser;
 * no samples at all on a node without a mirror.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMetrics } from '../../../src/metrics/index.js'
import { parsePrometheus, sampleValue } from '../../helpers/prom-parse.js'
import type { MetricsSources } from '../../../src/metrics/index.js'
import type { PromFamily } from '../../helpers/prom-parse.js'

async function scrape (sources: MetricsSources): Promise<Map<string, PromFamily>> {
  const metrics = createMetrics(sources)
  try {
    return parsePrometheus(await metrics.scrape())
  } finally {
    metrics.stop()
  }
}

describe('createMetrics: the mirror', () => {
  it('counts chunk and metadata bytes, chunks, requests and failures from the mirror', async () => {
    const families = await scrape({ mirror: () => ({ requests: 40, failures: 3, chunkBytes: 5_000_000, chunks: 18, metadataBytes: 12_345 }) })
    assert.equal(sampleValue(families, 'umesh_mirror_bytes_total', { kind: 'chunks' }), 5_000_000)
    assert.equal(sampleValue(families, 'umesh_mirror_bytes_total', { kind: 'metadata' }), 12_345)
    assert.equal(sampleValue(families, 'umesh_mirror_chunks_total'), 18)
    assert.equal(sampleValue(families, 'umesh_mirror_requests_total'), 40)
    assert.equal(sampleValue(families, 'umesh_mirror_failures_total'), 3)
    assert.equal(families.get('umesh_mirror_bytes_total')?.type, 'counter')
  })

  it('has no samples without a mirror', async () => {
    const families = await scrape({})
    for (const name of ['umesh_mirror_bytes_total', 'umesh_mirror_chunks_total', 'umesh_mirror_requests_total', 'umesh_mirror_failures_total']) {
      assert.equal(families.get(name)?.samples.length ?? 0, 0, name)
    }
  })
})
