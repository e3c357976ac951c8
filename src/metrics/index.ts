/**
 * Prometheus metrics (`umesh_*`) for `GET /metrics`: one private prom-client
 * registry per daemon (never the global one), every value computed on
 * scrape from plain getters the daemon passes (sources.ts): a node's peers,
 * traffic per protocol, swarm, caps, installs, trust, announcements and the
 * announcement-to-verified latency (node.ts), the process and its event
 * loop (process.ts), and on a coordinator the fleet, each rollout and its
 * waves (fleet.ts). Labels are bounded: protocol ids, states and kinds come
 * from fixed sets, versions on a coordinator are capped; no peer id is ever
 * a label. collector.ts holds the scrape-time gauge and counter.
 *
 * Imports: rollout/ (the report book, rollout documents and their view),
 * prom-client.
 */
import { Counter, Gauge, Registry } from 'prom-client'
import { Collected } from './collector.js'
import { fleetMetrics } from './fleet.js'
import { latencyHistogram, nodeMetrics } from './node.js'
import { ProcessMetrics } from './process.js'
import type { MetricsSources } from './sources.js'

export type {
  AnnouncementCounts, BandwidthSample, ByteCounts, CoordinatorSample, InstallOutcomeSample, InstallSample, LatencyLog,
  MetricsSources, NetworkSample, NodeInfo, PhaseSample, SwarmSample, TrustSample
} from './sources.js'
export { fleetCounts, MAX_FLEET_VERSIONS } from './fleet.js'

export interface Metrics {
  /** the Content-Type of scrape()'s text (Prometheus text format 0.0.4) */
  contentType: string
  /** the metrics now, in the Prometheus text format */
  scrape: () => Promise<string>
  /** stops the event-loop monitor; scrape() still answers, without the loop delay */
  stop: () => void
}

/**
 * The sources, each getter called at most once per scrape: several metrics
 * read one source (the installs feed three), and a getter may do real work.
 */
function oncePerScrape (sources: MetricsSources): { sources: MetricsSources, next: () => void } {
  let scrape = 0
  const wrapped: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(sources)) {
    if (key === 'onError' || typeof value !== 'function') {
      wrapped[key] = value
      continue
    }
    let at = -1
    let memo: unknown
    wrapped[key] = () => {
      if (at !== scrape) {
        memo = value()
        at = scrape
      }
      return memo
    }
  }
  return { sources: wrapped as MetricsSources, next: () => { scrape++ } }
}

export function createMetrics (given: MetricsSources): Metrics {
  const { sources, next } = oncePerScrape(given)
  const registry = new Registry()
  const errors = new Counter({
    name: 'umesh_metrics_collect_errors_total',
    help: 'Scrapes in which a metric could not be computed and was left out, by metric',
    labelNames: ['metric'],
    registers: [registry]
  })
  const onError = (metric: string, err: unknown): void => {
    errors.inc({ metric })
    try { sources.onError?.(metric, err) } catch {}
  }
  const lastScrape = new Gauge({
    name: 'umesh_metrics_last_scrape_duration_seconds',
    help: 'How long the previous scrape took to compute',
    registers: [registry]
  })
  const proc = new ProcessMetrics()
  for (const init of [...proc.metrics(), ...nodeMetrics(sources), ...fleetMetrics(sources)]) new Collected(init, onError).register(registry)
  latencyHistogram(sources, registry, onError)
  let stopped = false
  return {
    contentType: registry.contentType,
    async scrape () {
      const started = performance.now()
      next()
      if (!stopped) proc.startScrape()
      const text = await registry.metrics()
      lastScrape.set((performance.now() - started) / 1000)
      return text
    },
    stop () {
      if (stopped) return
      stopped = true
      proc.stop()
    }
  }
}
