/**
 * Part 1 of the start-up benchmark: one daemon at a time, spawn() to its
 * ready line, on a fresh data dir and again on the same one, and the
 * baselines of the same run (spawn() to exit) it is read against.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { PROJECT_ROOT } from '../machine.js'
import { TimedDaemon, timeToExit } from '../procs.js'
import { IDLE_MS, RUNS, SINGLE_NODE_ARGS } from './options.js'
import { progress } from './output.js'
import { statusOf, targetOf } from './status.js'
import type { Libp2p } from '@libp2p/interface'

export interface StartRun {
  readyMs: number
  /** spawn() to the Daemon constructor (its startedAt): node boot and module loading */
  constructedMs: number
  phases: Array<{ name: string, state: string, durationMs: number }>
  rssBytes: number
  heapUsedBytes: number
  stopMs: number
}

export interface Series {
  label: string
  fresh: StartRun[]
  existing: StartRun[]
  idle?: { rssBytes: number, heapUsedBytes: number }
}

export async function oneStart (script: string, dataDir: string, logFile: string, client: Libp2p, idleMs = 0): Promise<StartRun> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const daemon = new TimedDaemon(script, dataDir, SINGLE_NODE_ARGS, logFile)
  let run: Omit<StartRun, 'stopMs'>
  try {
    const readyMs = await daemon.readyMs()
    if (idleMs > 0) await sleep(idleMs)
    const s = await statusOf(client, targetOf(dataDir))
    run = {
      readyMs,
      constructedMs: Number(s.startedAtMs) - daemon.spawnedAtWall,
      phases: s.phases.map(p => ({ name: p.name, state: p.state, durationMs: p.durationMs })),
      rssBytes: Number(s.resources?.rssBytes ?? NaN),
      heapUsedBytes: Number(s.resources?.heapUsedBytes ?? NaN)
    }
  } catch (err) {
    await daemon.stop()
    throw err
  }
  const stopMs = await daemon.stop()
  return { ...run, stopMs }
}

export async function startSeries (label: string, script: string, dir: string, client: Libp2p): Promise<Series> {
  const series: Series = { label, fresh: [], existing: [] }
  mkdirSync(dir, { recursive: true })
  const log = join(dir, 'daemon.log')
  progress(`${label}: 1 warm-up start (not counted), then ${RUNS} x (fresh data dir, then the same data dir again)`)
  await oneStart(script, join(dir, 'warm-up'), log, client)
  for (let i = 0; i < RUNS; i++) {
    const dataDir = join(dir, `run-${i + 1}`)
    series.fresh.push(await oneStart(script, dataDir, log, client))
    series.existing.push(await oneStart(script, dataDir, log, client))
  }
  progress(`${label}: one more start on an existing data dir, idle ${IDLE_MS} ms, then RSS from status`)
  const idle = await oneStart(script, join(dir, 'run-1'), log, client, IDLE_MS)
  series.idle = { rssBytes: idle.rssBytes, heapUsedBytes: idle.heapUsedBytes }
  return series
}

/** each baseline once as a warm-up, then RUNS rounds of all of them in turn, so a change in machine load hits them alike */
export async function baselines (list: Array<{ label: string, args: string[] }>): Promise<Array<{ label: string, samples: number[] }>> {
  progress(`baselines: ${list.map(b => b.label).join('; ')}: 1 warm-up + ${RUNS} rounds`)
  const results = list.map(b => ({ label: b.label, samples: [] as number[] }))
  for (const b of list) await timeToExit(b.args, PROJECT_ROOT)
  for (let i = 0; i < RUNS; i++) {
    for (const [j, b] of list.entries()) results[j].samples.push(await timeToExit(b.args, PROJECT_ROOT))
  }
  return results
}
