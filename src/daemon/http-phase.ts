/**
 * The daemon's HTTP phase: with --http-listen, the listener opens early, so
 * /healthz and /readyz answer while the later phases run; /metrics reads
 * the parts as they are at each scrape; the management API answers once
 * the coordinator exists (sync phase). The listener, Fastify and
 * prom-client are loaded only when asked for.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { fetchStatus } from '../../protocols/status/index.js'
import { metricsSources } from './metrics-sources.js'
import type { Daemon } from './daemon.js'
import type { PhaseResult } from './phases.js'
import type { HttpComponents, HttpServer, Management } from '../http/index.js'

export async function openHttp (daemon: Daemon): Promise<PhaseResult> {
  const listen = daemon.config.httpListen
  if (listen == null) return { skipped: 'no --http-listen' }
  const { startHttp, TokenStore } = await import('../http/index.js')
  const { createMetrics } = await import('../metrics/index.js')
  const metrics = createMetrics(metricsSources(daemon))
  const network = daemon.config.network
  const management = (): Management | undefined => {
    const coordinator = daemon.parts.coordinator
    const node = daemon.parts.mesh?.node
    if (coordinator == null || node == null) return undefined
    return {
      repoDir: daemon.config.repo!,
      coordinator,
      peerStatus: async (peerId, signal) => await fetchStatus(node, peerIdFromString(peerId), network, { signal })
    }
  }
  const components: HttpComponents = {
    tokens: new TokenStore(daemon.paths.apiTokens),
    readiness: () => ({ ready: daemon.state === 'running', phase: daemon.phase, phases: daemon.phases.records }),
    status: () => daemon.report(),
    metrics,
    management: daemon.config.coordinator && daemon.config.repo != null ? management : undefined,
    logger: daemon.componentLogger
  }
  let server: HttpServer
  try {
    server = daemon.parts.http = await startHttp({ listen, metricsAuth: daemon.config.httpMetricsAuth, maxUpload: daemon.config.httpMaxUpload }, components)
  } catch (err) {
    metrics.stop()
    throw err
  }
  const api = daemon.config.coordinator ? '; management API and dashboard at /' : ''
  return { detail: `http://${server.address} (/healthz, /readyz, /metrics, /api/v1${api})`, undo: async () => { await server.close(); metrics.stop() } }
}
