/**
 * Part 2 on a plain node (not a coordinator): /healthz as the baseline of
 * the HTTP stack, /metrics as Prometheus scrapes it, /api/v1/status as the
 * dashboard polls it; each a series on one keep-alive connection.
 */
import { join } from 'node:path'
import { HttpClient } from './client.js'
import { createToken, startDaemon } from './daemons.js'
import { REQUESTS, WARM_UP } from './options.js'
import { progress } from './output.js'
import type { Series } from './client.js'

export interface NodeResult { series: Series[], metricsWired?: boolean, error?: string }

export async function nodeRun (root: string): Promise<NodeResult> {
  const result: NodeResult = { series: [] }
  const dir = join(root, 'node')
  try {
    const token = await createToken(join(dir, 'node'), 'read', 'bench-read')
    progress('starting a node (umesh node --http-listen)')
    const node = await startDaemon({ dir, name: 'node', http: true })
    const client = new HttpClient(node.base!, token)
    try {
      result.metricsWired = (await client.get('/metrics')).status !== 404
      const routes: Array<[string, string]> = [['GET /healthz (baseline: the HTTP stack alone)', '/healthz']]
      if (result.metricsWired) routes.push(['GET /metrics (node)', '/metrics'])
      routes.push(['GET /api/v1/status (node)', '/api/v1/status'])
      for (const [label, path] of routes) {
        progress(`node: ${label}: ${WARM_UP} warm-up + ${REQUESTS} timed requests`)
        result.series.push(await client.series(label, path, REQUESTS, WARM_UP))
      }
    } finally {
      client.close()
      await node.stop()
    }
  } catch (err) {
    result.error = (err as Error).message.slice(0, 1500)
  }
  return result
}
