/**
 * Parts 1 and 3 on one coordinator holding N nodes' reports: a repository
 * with releases of two packages, a rollout of the first started with the
 * CLI (its document names the rollout the reports belong to), the state
 * file written (fleet-state.ts), then `umesh node --repo R --coordinator
 * --http-listen`. Timed: /healthz (the HTTP stack alone, the baseline),
 * /api/v1/fleet, /api/v1/rollouts/<package>, /metrics; then the event
 * stream while the second package's rollout is steered (steering.ts).
 */
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { readRollout } from '../../src/rollout/repo-rollouts.js'
import { Repository } from '../../src/trust/repository.js'
import { releaseSource } from '../../test/helpers/install-fixture.js'
import { umeshOk } from '../cli-runs.js'
import { seconds } from '../report.js'
import { HttpClient } from './client.js'
import { createToken, rssBytes, startDaemon } from './daemons.js'
import { writeFleetState } from './fleet-state.js'
import { CHANGES, FLEET_PACKAGE, NODES, REQUESTS, STEERED_PACKAGE, WARM_UP } from './options.js'
import { progress } from './output.js'
import { steering } from './steering.js'
import type { Series } from './client.js'
import type { SteeringResult } from './steering.js'

export interface CoordinatorResult {
  stateBytes?: number
  readyMs?: number
  series: Series[]
  metricsWired?: boolean
  /** rows in the fleet response, and how many of them unreachable */
  rows?: number
  unreachable?: number
  rolloutNodes?: number
  rssBytes?: number
  steering?: SteeringResult
  error?: string
}

/** GET path until it answers 200 (the management API answers 503 while the coordinator starts) */
async function until200 (client: HttpClient, path: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const r = await client.get(path)
    if (r.status === 200) return
    if (performance.now() > deadline) throw new Error(`GET ${path}: still ${r.status} after ${seconds(timeoutMs)}: ${r.body.slice(0, 300)}`)
    await sleep(100)
  }
}

export async function coordinatorRun (root: string): Promise<CoordinatorResult> {
  const result: CoordinatorResult = { series: [] }
  const repo = join(root, 'repo')
  const dir = join(root, 'coordinator')
  try {
    progress(`repository: init, release add ${FLEET_PACKAGE} 1.0.0 and ${STEERED_PACKAGE} 1.0.0, rollout start ${FLEET_PACKAGE} 1.0.0 (CLI)`)
    await umeshOk(['repo', 'init', '--repo', repo])
    for (const [i, pkg] of [FLEET_PACKAGE, STEERED_PACKAGE].entries()) {
      await umeshOk(['release', 'add', releaseSource(join(root, 'sources', pkg), { version: '1.0.0' }, i), '--repo', repo, '--package', pkg, '--version', '1.0.0'], 60_000)
    }
    await umeshOk(['rollout', 'start', '--repo', repo, '--package', FLEET_PACKAGE, '--version', '1.0.0'])
    const doc = readRollout(Repository.open(repo), FLEET_PACKAGE)
    if (doc == null) throw new Error(`rollout start left no document of ${FLEET_PACKAGE}`)
    progress(`writing ${NODES} nodes' reports (real Ed25519 peer ids) into ${repo}/coordinator/state.json`)
    result.stateBytes = await writeFleetState(repo, doc, NODES)
    const readToken = await createToken(join(dir, 'coordinator'), 'read', 'bench-read')
    const operateToken = await createToken(join(dir, 'coordinator'), 'operate', 'bench-operate')

    progress('starting the coordinator (umesh node --repo R --coordinator --http-listen)')
    const t0 = performance.now()
    const coordinator = await startDaemon({ dir, name: 'coordinator', args: ['--repo', repo, '--coordinator'], http: true })
    const client = new HttpClient(coordinator.base!, readToken)
    try {
      await until200(client, '/api/v1/fleet', 15_000)
      result.readyMs = performance.now() - t0
      const routes: Array<[string, string]> = [
        ['GET /healthz (baseline: the HTTP stack alone)', '/healthz'],
        [`GET /api/v1/fleet (${NODES} nodes)`, '/api/v1/fleet'],
        [`GET /api/v1/rollouts/${FLEET_PACKAGE} (${NODES} nodes)`, `/api/v1/rollouts/${FLEET_PACKAGE}`]
      ]
      for (const [label, path] of routes) {
        progress(`coordinator: ${label}: ${WARM_UP} warm-up + ${REQUESTS} timed requests`)
        result.series.push(await client.series(label, path, REQUESTS, WARM_UP))
      }
      const fleet = JSON.parse(result.series[1].lastBody) as Array<{ unreachable: boolean }>
      result.rows = fleet.length
      result.unreachable = fleet.filter(r => r.unreachable).length
      result.rolloutNodes = (JSON.parse(result.series[2].lastBody) as { nodes: unknown[] }).nodes.length
      result.metricsWired = (await client.get('/metrics')).status !== 404
      if (result.metricsWired) {
        progress(`coordinator: GET /metrics: ${WARM_UP} warm-up + ${REQUESTS} timed requests`)
        result.series.push(await client.series(`GET /metrics (coordinator, ${NODES} nodes)`, '/metrics', REQUESTS, WARM_UP))
      }
      result.rssBytes = rssBytes(coordinator.pid)
      progress(`event stream: POST /api/v1/rollouts (${STEERED_PACKAGE} 1.0.0), then ${CHANGES} pause / resume changes`)
      result.steering = await steering(coordinator.base!, readToken, operateToken, STEERED_PACKAGE, '1.0.0', CHANGES)
    } finally {
      client.close()
      progress('stopping the coordinator')
      await coordinator.stop()
    }
  } catch (err) {
    result.error = (err as Error).message.slice(0, 1500)
  }
  return result
}
