/**
 * Part 2 of the follow benchmark: the publisher serves the release --serve-
 * followers times, to fresh followers started one after another (each holds
 * the release, installs nothing, and is stopped before the next starts, so
 * every byte comes from the publisher): 1 GiB in all at the defaults. The
 * publisher's RSS is sampled throughout; each follower's time from ready to
 * holding the release, and the chunk bytes the publisher sent (status).
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { wallNow } from '../cli-runs.js'
import { startDaemon } from './daemons.js'
import { followerArgs, followSteps } from './follow-run.js'
import { DEBUG_NAMESPACES, FETCH_TIMEOUT_MS, PACKAGE, SERVE_FOLLOWERS } from './options.js'
import { progress } from './output.js'
import { memoryOf, statusOf } from './status.js'
import type { BenchDaemon } from './daemons.js'
import type { ProcSample } from './proc-sampler.js'
import type { MemoryView } from './status.js'
import type { Libp2p } from '@libp2p/interface'

/** after the last follower, the publisher is sampled this much longer */
const TAIL_MS = 5_000

export interface ServeRun {
  /** wall ms: the first follower started, the last one stopped, sampling ended */
  from?: number
  lastStopped?: number
  to?: number
  fetches: Array<{ name: string, readyToHeldMs?: number, cpuMs?: number, heldAt?: number, error?: string }>
  uploaded?: { before: number, after: number }
  publisher: ProcSample[]
  memory: Partial<Record<'before' | 'after', MemoryView>>
  error?: string
}

export async function serveRun (dir: string, client: Libp2p, repo: string, publisher: BenchDaemon): Promise<ServeRun> {
  const run: ServeRun = { fetches: [], publisher: [], memory: {} }
  const uploaded = async (): Promise<number> => Number((await statusOf(client, publisher))?.bandwidth?.uploadedBytes ?? NaN)
  try {
    run.memory.before = await memoryOf(client, publisher)
    const before = await uploaded()
    run.from = wallNow()
    for (let i = 1; i <= SERVE_FOLLOWERS; i++) {
      const name = `fetcher-${i}`
      progress(`part 2: ${name} of ${SERVE_FOLLOWERS} fetches the release from the publisher`)
      let d: BenchDaemon | undefined
      try {
        d = await startDaemon({ dir, name, args: followerArgs(repo, publisher, PACKAGE, false), debug: DEBUG_NAMESPACES, patterns: followSteps(PACKAGE) })
        const ready = d.sampler.take()!
        const held = await d.marks.wait('held', FETCH_TIMEOUT_MS)
        run.fetches.push({ name, readyToHeldMs: held.arrived - ready.at, cpuMs: held.sample != null ? held.sample.cpuMs - ready.cpuMs : undefined, heldAt: held.arrived })
      } catch (err) {
        run.fetches.push({ name, error: (err as Error).message.slice(0, 300) })
      } finally {
        await d?.stop()
        rmSync(join(dir, name), { recursive: true, force: true })
      }
    }
    run.lastStopped = wallNow()
    await sleep(TAIL_MS)
    run.to = wallNow()
    run.memory.after = await memoryOf(client, publisher)
    run.uploaded = { before, after: await uploaded() }
  } catch (err) {
    run.error = (err as Error).message.slice(0, 1500)
  } finally {
    run.publisher = [...publisher.sampler.samples]
  }
  return run
}
