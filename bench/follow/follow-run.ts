/**
 * Part 1 of the follow benchmark: one follower, ready and idle beside the
 * publisher, then a release of --mib MiB published; the follower's steps
 * from its log (announcement seen, index verified, held, staged, installed
 * healthy), its CPU between them, and its RSS every --sample-ms from before
 * the announcement to --after seconds after the install, with what status
 * says of its heap at the same points.
 */
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Repository } from '../../src/trust/repository.js'
import { umeshOk, wallNow } from '../cli-runs.js'
import { startDaemon } from './daemons.js'
import { AFTER_MS, DEBUG_NAMESPACES, FETCH_TIMEOUT_MS, IDLE_MS } from './options.js'
import { progress } from './output.js'
import { memoryOf, statusOf } from './status.js'
import type { BenchDaemon } from './daemons.js'
import type { Mark, MarkPattern } from './marks.js'
import type { ProcSample } from './proc-sampler.js'
import type { MemoryView } from './status.js'
import type { Libp2p } from '@libp2p/interface'

export type FollowStep = 'announced' | 'indexVerified' | 'held' | 'staging' | 'staged' | 'installed' | 'collected'

/** the steps of one follow of `pkg`, in order, as the follower logs them */
export function followSteps (pkg: string): Record<FollowStep, MarkPattern> {
  return {
    announced: { component: 'umesh:follower', message: /^announcement of timestamp v(\d+)/ },
    indexVerified: { component: 'umesh:follower', message: new RegExp(`^index of ${pkg} \\S+ verified`) },
    held: { component: 'umesh:follower', message: new RegExp(`^holding ${pkg} `) },
    staging: { component: 'umesh:install', message: new RegExp(`^${pkg}: stage: materialising`) },
    staged: { component: 'umesh:install', message: new RegExp(`^${pkg}: stage: \\d+ files written`) },
    installed: { component: 'umesh:install', message: new RegExp(`^${pkg}: bless: ${pkg} \\S+ installed`) },
    // not a step of the follow: the daemon's one collection once the transfer is over (src/daemon/idle-collector.ts)
    collected: { component: 'umesh:memory', message: /^collected garbage after/ }
  }
}

/** one round of part 1: a fresh follower (its data dir named `name`) and a release of a package nothing else follows */
export interface FollowRound {
  name: string
  package: string
  /** what the round is, for the report */
  label: string
  version: string
  tree: string
  env?: NodeJS.ProcessEnv
  nodeFlags?: string[]
}

export interface FollowRun {
  round: FollowRound
  releaseAddMs?: number
  timestampVersion?: number
  /** the follower's steps (first match after the publish) */
  steps: Partial<Record<FollowStep, Mark>>
  /** wall ms the idle window began and the publish started */
  idleFrom?: number
  publishAt?: number
  follower: ProcSample[]
  publisher: ProcSample[]
  memory: Partial<Record<'idle' | 'installed' | 'after20' | 'after60', MemoryView>>
  error?: string
}

export function followerArgs (repo: string, publisher: BenchDaemon, pkg: string, install: boolean): string[] {
  return [
    '--trusted-root', join(repo, 'metadata', '1.root.json'), '--follow', pkg, '--bootstrap-peer', publisher.addr(),
    ...(install ? ['--packages', JSON.stringify({ [pkg]: {} })] : [])
  ]
}

/** polls the follower's status until it is connected to the publisher (bounded) */
async function connected (client: Libp2p, follower: BenchDaemon, publisher: BenchDaemon, timeoutMs: number): Promise<boolean> {
  const peer = publisher.addr().split('/p2p/')[1]
  const until = wallNow() + timeoutMs
  while (wallNow() < until) {
    const s = await statusOf(client, follower)
    if (s?.peers.some(p => p.peerId === peer) === true) return true
    await sleep(250)
  }
  return false
}

export async function followRun (dir: string, client: Libp2p, repo: string, round: FollowRound, publisher: BenchDaemon): Promise<FollowRun> {
  const run: FollowRun = { round, steps: {}, follower: [], publisher: [], memory: {} }
  const say = (text: string): void => { progress(`part 1, ${round.label}: ${text}`) }
  let follower: BenchDaemon | undefined
  try {
    say('starting the follower (with install settings for the package)')
    follower = await startDaemon({ dir, name: round.name, args: followerArgs(repo, publisher, round.package, true), debug: DEBUG_NAMESPACES, env: round.env, nodeFlags: round.nodeFlags, patterns: followSteps(round.package) })
    if (!await connected(client, follower, publisher, 20_000)) throw new Error('the follower did not connect to the publisher within 20 s')
    run.idleFrom = wallNow()
    say(`idle for ${IDLE_MS / 1000} s, sampled`)
    await sleep(IDLE_MS)
    run.memory.idle = await memoryOf(client, follower)

    say(`umesh release add (${round.version})`)
    run.publishAt = wallNow()
    const add = await umeshOk(['release', 'add', round.tree, '--repo', repo, '--package', round.package, '--version', round.version, '--json'], FETCH_TIMEOUT_MS)
    run.releaseAddMs = add.ms
    const version = run.timestampVersion = Repository.open(repo).signedOf('timestamp').version as number
    say(`waiting for the follower to see timestamp v${version}, fetch and install`)
    const f = follower
    run.steps.announced = await f.marks.wait('announced', FETCH_TIMEOUT_MS, m => Number(m.match[1]) >= version)
    const after = (m: Mark): boolean => m.time >= run.steps.announced!.time
    run.steps.installed = await f.marks.wait('installed', FETCH_TIMEOUT_MS, after)
    for (const step of ['indexVerified', 'held', 'staging', 'staged'] as const) run.steps[step] = f.marks.all(step).find(after)
    run.memory.installed = await memoryOf(client, f)
    const installedAt = run.steps.installed.arrived
    for (const [key, s] of [['after20', 20_000], ['after60', 60_000]] as const) {
      if (s > AFTER_MS) continue
      const wait = installedAt + s - wallNow()
      say(`sampling until +${s / 1000} s after the install`)
      if (wait > 0) await sleep(wait)
      run.memory[key] = await memoryOf(client, f)
    }
    const rest = installedAt + AFTER_MS - wallNow()
    if (rest > 0) await sleep(rest)
    run.steps.collected = f.marks.all('collected').find(after)
  } catch (err) {
    run.error = (err as Error).message.slice(0, 1500)
  } finally {
    if (follower != null) {
      await follower.stop()
      run.follower = follower.sampler.samples
    }
    run.publisher = [...publisher.sampler.samples]
  }
  return run
}
