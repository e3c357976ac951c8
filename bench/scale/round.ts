/**
 * One timed round: `umesh release add` of a fresh --mib MiB version, then at
 * once `umesh rollout start` with the variant's waves, then every node
 * polled until it runs the version (and the coordinator says completed).
 * Held times come from held.json's time of writing (read when status first
 * says held), install times from each node's history, wave times from the
 * coordinator's state file; CPU from /proc between the round's start and end.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { readCoordinatorState } from '../../src/rollout/coordinator.js'
import { readRollout } from '../../src/rollout/repo-rollouts.js'
import { Repository } from '../../src/trust/repository.js'
import { pseudoRandomBytes } from '../../src/util/pseudo-random.js'
import { umesh, umeshOk, wallNow } from '../cli-runs.js'
import { MAX_PARALLEL, MIB, PACKAGE, POLL_MS, RUN_TIMEOUT_MS, VARIANTS, opts } from './options.js'
import { progress } from './output.js'
import { heldAt, installOf, readAll, tryStatus } from './observe.js'
import type { Fleet, Member } from './fleet.js'
import type { Counters } from './observe.js'
import type { Variant } from './options.js'
import type { Libp2p } from '@libp2p/interface'

export interface Round {
  variant: Variant
  version: string
  t0: number
  publishMs?: number
  /** per node: wall ms held, and install start / end */
  held: Map<string, number>
  installs: Map<string, { start: number, end: number }>
  allHeldAt?: number
  allHealthyAt?: number
  completedAt?: number
  waves: Array<{ name: string, openedAt?: number, gateAt?: number }>
  before?: Map<string, Counters>
  after?: Map<string, Counters>
  /** CPU ms per member over the round */
  cpuMs: Map<string, number>
  /** the bootstrap node's connections, max seen in the round's polls */
  bootstrapConnections: number[]
  error?: string
}

/** a tree of `mib` MiB in 4 files (seeded: each version different), plus bin/health */
export function releaseTree (dir: string, version: string, mib: number, seed: number): string {
  const src = join(dir, `src-${version}`)
  mkdirSync(join(src, 'bin'), { recursive: true })
  mkdirSync(join(src, 'data'), { recursive: true })
  const files = mib >= 4 ? 4 : 1
  for (let i = 0; i < files; i++) writeFileSync(join(src, 'data', `part-${i}.bin`), pseudoRandomBytes(Math.floor(mib * 1024 * 1024 / files), seed * 100 + i + 1))
  writeFileSync(join(src, 'VERSION'), `${version}\n`)
  writeFileSync(join(src, 'bin', 'health'), '#!/bin/sh\ntest -f VERSION\n')
  chmodSync(join(src, 'bin', 'health'), 0o755)
  return src
}

export function readDoc (repo: string): ReturnType<typeof readRollout> | undefined {
  try { return readRollout(Repository.open(repo), PACKAGE) } catch { return undefined }
}

function cpuAt (m: Member): number | undefined {
  return m.sampler.take()?.cpuMs
}

export async function runRound (ctx: { root: string, repo: string, client: Libp2p, fleet: Fleet }, variant: Variant, version: string, seed: number, mib = MIB): Promise<Round> {
  const { repo, client, fleet } = ctx
  const all = [fleet.bootstrap, fleet.publisher, ...fleet.nodes]
  const r: Round = { variant, version, t0: 0, held: new Map(), installs: new Map(), waves: [], cpuMs: new Map(), bootstrapConnections: [] }
  const src = releaseTree(join(ctx.root, 'sources'), version, mib, seed)
  r.before = await readAll(client, all)
  const cpu0 = new Map(all.map(m => [m.name, cpuAt(m)]))
  progress(`${variant}: release add ${PACKAGE} ${version} (${mib} MiB), then rollout start (${VARIANTS[variant].label}, max-parallel ${MAX_PARALLEL})`)
  r.t0 = wallNow()
  r.publishMs = (await umeshOk(['release', 'add', src, '--repo', repo, '--package', PACKAGE, '--version', version], 120_000)).ms
  await umeshOk(['rollout', 'start', '--repo', repo, '--package', PACKAGE, '--version', version, '--waves', VARIANTS[variant].waves, '--gate', opts.gate, '--max-parallel', String(MAX_PARALLEL)])
  const id = readDoc(repo)?.id
  const deadline = r.t0 + RUN_TIMEOUT_MS
  let pending = [...fleet.nodes]
  let lastBoot = 0
  while (wallNow() < deadline) {
    const t = performance.now()
    // the bootstrap node's connections every 5 s (status: bounded, may time out under load)
    if (wallNow() - lastBoot > 5_000) {
      lastBoot = wallNow()
      void tryStatus(client, fleet.bootstrap).then(s => { if (s != null) r.bootstrapConnections.push(s.connections) })
    }
    for (const n of pending) {
      if (!r.held.has(n.name)) {
        const at = heldAt(n, version)
        if (at != null) r.held.set(n.name, at)
      }
      const i = installOf(n, version)
      if (i != null) r.installs.set(n.name, i)
    }
    pending = pending.filter(n => !r.installs.has(n.name))
    const doc = readDoc(repo)
    if (pending.length === 0 && (doc?.id !== id || doc?.state === 'completed' || doc?.state === 'halted')) break
    await sleep(Math.max(0, POLL_MS - (performance.now() - t)))
  }
  for (const m of all) {
    const a = cpu0.get(m.name)
    const b = cpuAt(m)
    if (a != null && b != null) r.cpuMs.set(m.name, b - a)
  }
  if (r.held.size === fleet.nodes.length) r.allHeldAt = Math.max(...r.held.values())
  if (r.installs.size === fleet.nodes.length) r.allHealthyAt = Math.max(...[...r.installs.values()].map(i => i.end))
  else {
    // what explains it: how many peers the nodes without the release have (targetPeers is 12)
    const lacking = fleet.nodes.filter(n => !r.held.has(n.name)).slice(0, 16)
    const conns = (await Promise.all(lacking.map(async n => (await tryStatus(client, n, 10_000))?.connections))).filter((c): c is number => c != null).sort((a, b) => a - b)
    const held = fleet.nodes.filter(n => r.held.has(n.name)).map(n => Number(n.name.replace('node-', '')))
    r.error = `after ${RUN_TIMEOUT_MS / 1000} s: ${fleet.nodes.length - r.held.size} node(s) not holding ${version}, ${fleet.nodes.length - r.installs.size} not running it (${pending.slice(0, 8).map(n => n.name).join(', ')}${pending.length > 8 ? ', ...' : ''}); connections of ${conns.length} of those without it: ${conns.join(' ')}; nodes holding it by start order: ${held.sort((a, b) => a - b).join(' ')}`
  }
  r.after = await readAll(client, all)
  const state = readCoordinatorState(repo)?.rollouts[id ?? '']
  const doc = readDoc(repo)
  if (doc != null && doc.id === id) {
    r.waves = doc.waves.map(w => ({ name: w.name }))
    for (const e of state?.events ?? []) {
      const at = Date.parse(e.at)
      const i = r.waves.findIndex(w => new RegExp(`^wave ${w.name}[: ]`).test(e.detail))
      if (e.event === 'completed') r.completedAt = at
      if (i === -1) continue
      if (e.event === 'wave-opened') r.waves[i].openedAt ??= at
      if (e.event === 'gate-passed') r.waves[i].gateAt ??= at
    }
    if (doc.state === 'running') await umesh(['rollout', 'halt', '--repo', repo, '--package', PACKAGE])
  }
  return r
}

/** the setup round: a small first release every node holds and installs, then a "100%" rollout of it so every node is governed by rollouts */
export async function firstRelease (ctx: { root: string, repo: string, client: Libp2p, fleet: Fleet }): Promise<Round> {
  const r = await runRound(ctx, 'single', '1.0.0', 1, 1)
  if (r.error != null) throw new Error(`setup: ${r.error}`)
  // the next rollout may start only when this one is over
  const by = wallNow() + 30_000
  while (wallNow() < by && readDoc(ctx.repo)?.state === 'running') await sleep(200)
  return r
}
