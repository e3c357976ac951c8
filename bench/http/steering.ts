/**
 * Part 3: how soon an event-stream client hears of a change. A rollout of
 * a package with no nodes is started through the API (POST
 * /api/v1/rollouts), then paused and resumed in turn through the API. Each
 * POST gives a `changed` event at once (sent by the route before it
 * answers) and a `rollout` event (started / paused / resumed) at the
 * coordinator's next pass (once a second), whose `at` is the coordinator's
 * clock. Each POST waits a different share of a second after the previous
 * change was heard, so the POSTs fall at every point of the coordinator's
 * one-second cycle.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { HttpClient } from './client.js'
import { EventReader } from '../../test/helpers/event-reader.js'
import type { StreamEvent } from '../../test/helpers/event-reader.js'

export interface Change {
  action: 'start' | 'pause' | 'resume'
  /** the POST's round trip */
  postMs: number
  /** POST sent -> its `changed` event read */
  changedMs: number
  /** the rollout event's `at` (coordinator) -> read here, wall clock of the same machine */
  atToArrivalMs: number
  /** POST sent -> the rollout event read: includes the wait for the coordinator's next pass */
  postToRolloutMs: number
}

export interface SteeringResult { changes: Change[], error?: string, otherEvents: number }

async function timedChange (client: HttpClient, reader: EventReader, action: Change['action'], pkg: string, path: string, body: unknown, expected: string, code: number): Promise<Change> {
  const from = reader.events.length
  const t0 = performance.now()
  const r = await client.send('POST', path, body)
  const postMs = performance.now() - t0
  if (r.status !== code) throw new Error(`POST ${path}: ${r.status} ${r.body.slice(0, 300)}`)
  const changed = await reader.waitFor('`changed`', e => e.event === 'changed' && e.data?.package === pkg, 5_000, from)
  const rollout: StreamEvent = await reader.waitFor(`\`rollout\` (${expected})`, e => e.event === 'rollout' && e.data?.package === pkg && e.data?.event === expected, 5_000, from)
  return { action, postMs, changedMs: changed.perfAt - t0, atToArrivalMs: rollout.wallAt - Date.parse(rollout.data.at), postToRolloutMs: rollout.perfAt - t0 }
}

export async function steering (base: string, readToken: string, operateToken: string, pkg: string, version: string, changes: number): Promise<SteeringResult> {
  const result: SteeringResult = { changes: [], otherEvents: 0 }
  const reader = new EventReader(base, readToken)
  const client = new HttpClient(base, operateToken)
  try {
    await reader.open()
    result.changes.push(await timedChange(client, reader, 'start', pkg, '/api/v1/rollouts', { package: pkg, version, waves: '100%' }, 'started', 201))
    for (let i = 0; i < changes; i++) {
      // golden-ratio steps: the waits spread evenly over 0-1 s
      await sleep(Math.round(((i + 1) * 0.618034 % 1) * 1000))
      const action = i % 2 === 0 ? 'pause' : 'resume'
      result.changes.push(await timedChange(client, reader, action, pkg, `/api/v1/rollouts/${pkg}/${action}`, {}, action === 'pause' ? 'paused' : 'resumed', 200))
    }
  } catch (err) {
    result.error = (err as Error).message.slice(0, 800)
  } finally {
    result.otherEvents = reader.events.filter(e => e.data?.package !== pkg).length
    reader.stop()
    client.close()
  }
  return result
}
