/**
 * Part 4: the resident memory the HTTP listener adds to a daemon. Each
 * round starts two plain nodes at once, one without and one with
 * --http-listen (the order of the two spawns alternates between rounds),
 * lets both settle, reads both VmRSS (/proc/PID/status), drives requests at
 * the listener (half /api/v1/status, half /metrics; all /api/v1/status when
 * /metrics is not wired), waits a second and reads both again. Fresh data
 * dirs each round; both stopped before the next. Only --http-listen builds
 * the metrics registry, so the difference is the listener and the metrics.
 */
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { HttpClient } from './client.js'
import { createToken, rssBytes, spawnDaemon } from './daemons.js'
import { RSS_REQUESTS, RSS_ROUNDS, SETTLE_MS } from './options.js'
import { progress } from './output.js'
import type { Daemon } from './daemons.js'

export interface MemoryRound {
  first: 'without' | 'with'
  /** after settling, before any request */
  idle: { without: number, with: number }
  /** after the requests */
  loaded: { without: number, with: number }
  /** requests that did not answer 200 */
  failed: number
  paths: string
}

export interface MemoryResult { rounds: MemoryRound[], error?: string }

export async function memoryRun (root: string, metricsWired: boolean): Promise<MemoryResult> {
  const result: MemoryResult = { rounds: [] }
  const paths = metricsWired ? ['/api/v1/status', '/metrics'] : ['/api/v1/status']
  try {
    for (let r = 0; r < RSS_ROUNDS; r++) {
      const first = r % 2 === 0 ? 'without' : 'with'
      const dir = join(root, `rss-${r + 1}`)
      const token = await createToken(join(dir, 'with'), 'read', 'bench-read')
      progress(`memory round ${r + 1} of ${RSS_ROUNDS}: two nodes, ${first} the listener spawned first; settle ${SETTLE_MS / 1000} s, ${RSS_REQUESTS} requests, VmRSS`)
      const daemons: Daemon[] = []
      try {
        for (const which of first === 'without' ? [false, true] : [true, false]) {
          daemons.push(await spawnDaemon({ dir, name: which ? 'with' : 'without', http: which }))
        }
        await Promise.all(daemons.map(async d => { await d.p.waitReady(30_000) }))
        const without = daemons.find(d => d.base == null)!
        const withHttp = daemons.find(d => d.base != null)!
        await sleep(SETTLE_MS)
        const idle = { without: rssBytes(without.pid), with: rssBytes(withHttp.pid) }
        const client = new HttpClient(withHttp.base!, token)
        let failed = 0
        try {
          for (let i = 0; i < RSS_REQUESTS; i++) {
            if ((await client.get(paths[i % paths.length])).status !== 200) failed++
          }
        } finally {
          client.close()
        }
        await sleep(1_000)
        result.rounds.push({ first, idle, loaded: { without: rssBytes(without.pid), with: rssBytes(withHttp.pid) }, failed, paths: paths.join(' + ') })
      } finally {
        await Promise.all(daemons.map(async d => { await d.stop() }))
      }
    }
  } catch (err) {
    result.error = (err as Error).message.slice(0, 1500)
  }
  return result
}
