/**
 * Part 3 of the release benchmark: v1 with new bytes inserted in the middle,
 * published on part 1's mesh; what each follower that holds v1 fetches for
 * it, beside the background traffic of an idle window polled the same way.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Repository } from '../../src/trust/repository.js'
import { seeded } from './data.js'
import { INSERT_BYTES, MiB, PART_TIMEOUT_MS, POLL_MS, budgetEnd } from './options.js'
import { mib, progress } from './output.js'
import { umeshOk, wallNow } from './processes.js'
import { holds, pollUntil, snapshot, tryStatus, watchFetches } from './status.js'
import type { FollowerFetch } from './status.js'
import type { NodeRow } from './fan-out.js'
import type { Watched } from './status.js'
import type { Libp2p } from '@libp2p/interface'

export interface Delta {
  size: number
  timestampVersion?: number
  recipients?: Map<number, number[]>
  add?: { ms: number, endWall: number, json: any }
  idle?: { ms: number, bytesIn: number[] }
  fetches: FollowerFetch[]
  nodes: NodeRow[]
  notHeld: string[]
  error?: string
}

export async function deltaPart (client: Libp2p, repo: string, src2: string, v1: Buffer, publisher: Watched, followers: Watched[], bootstrap: Watched): Promise<Delta> {
  const deadline = Math.min(wallNow() + PART_TIMEOUT_MS, budgetEnd)
  const mid = Math.floor(v1.length / 2)
  const v2 = Buffer.concat([v1.subarray(0, mid), seeded(INSERT_BYTES, 'umesh-bench-releases insertion'), v1.subarray(mid)])
  writeFileSync(join(src2, 'data.bin'), v2)
  const delta: Delta = { size: v2.length, fetches: [], nodes: [], notHeld: [] }
  // the followers that hold v1 take part; one that does not would fetch everything
  const holding: Watched[] = []
  for (const f of followers) {
    const s = await tryStatus(client, f)
    if (s != null && holds(s, '1.0.0')) holding.push(f)
  }
  if (holding.length === 0) {
    delta.error = 'no follower holds 1.0.0, so there is nothing to measure a delta against'
    return delta
  }
  const all = [publisher, ...holding, bootstrap]
  try {
    // background traffic (gossip, DHT, these status polls) over a quiet window, polled as often as below
    progress(`part 3: idle window, 3 s of polling every ${POLL_MS} ms (background traffic)`)
    const idleStart = await snapshot(client, holding)
    const t0 = performance.now()
    await pollUntil(client, holding, POLL_MS, wallNow() + 3_000, () => false)
    const idleEnd = await snapshot(client, holding)
    delta.idle = { ms: performance.now() - t0, bytesIn: holding.map((_f, i) => (idleEnd[i]?.bytesIn ?? NaN) - (idleStart[i]?.bytesIn ?? NaN)) }

    const before = await snapshot(client, all)
    progress(`part 3: umesh release add (v1 with ${INSERT_BYTES / MiB} MiB inserted at ${mib(mid)}), then polling ${holding.length} follower(s) until each holds it`)
    const add = await umeshOk(['release', 'add', src2, '--repo', repo, '--package', 'app', '--version', '1.1.0', '--json'], 120_000)
    delta.add = { ms: add.ms, endWall: add.endWall, json: JSON.parse(add.stdout) }
    delta.timestampVersion = Repository.open(repo).signedOf('timestamp').version as number
    ;({ fetches: delta.fetches, notHeld: delta.notHeld } = await watchFetches(client, holding, '1.1.0', deadline))
    const after = await snapshot(client, all)
    delta.nodes = all.map((n, i) => ({ name: n.name, before: before[i], after: after[i] }))
  } catch (err) {
    delta.error = (err as Error).message.slice(0, 1500)
  }
  return delta
}
