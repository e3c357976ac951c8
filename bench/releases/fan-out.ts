/**
 * Parts 1 and 3 of the release benchmark, on one mesh: a large release from
 * the publisher to every follower (beside same-run baselines: hashing and
 * copying the file, the CLI's fixed cost), then the delta part on the
 * followers that hold it.
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Repository } from '../../src/trust/repository.js'
import { deltaPart } from './delta.js'
import { seeded, sha256File } from './data.js'
import { FOLLOWERS, MiB, PART_TIMEOUT_MS, POLL_MS, SIZE, budgetEnd } from './options.js'
import { progress } from './output.js'
import { startMesh, umeshOk, wallNow } from './processes.js'
import { gossipRecipients } from './publisher-log.js'
import { pollUntil, snapshot, watch, watchFetches } from './status.js'
import type { Delta } from './delta.js'
import type { FollowerFetch, Traffic } from './status.js'
import type { Libp2p } from '@libp2p/interface'

export interface Baselines { sha256Ms: number[], copyMs: number[], listMs: number[], sha256: string }


export interface NodeRow { name: string, before?: Traffic, after?: Traffic }

export interface FanOut {
  size: number
  add?: { ms: number, endWall: number, writtenWall: number, json: any }
  fetches: FollowerFetch[]
  nodes: NodeRow[]
  connectedToPublisher?: number
  notHeld: string[]
  /** gossip recipients of each publish, from the publisher's log: timestamp version -> counts */
  recipients?: Map<number, number[]>
  timestampVersion?: number
  error?: string
}

export async function baselines (file: string, dir: string, repo: string): Promise<Baselines> {
  const b: Baselines = { sha256Ms: [], copyMs: [], listMs: [], sha256: '' }
  progress('baselines: sha256 of the file, a local copy of it, `umesh release list` (1 warm-up + 3 runs each)')
  const copy = join(dir, 'copy.bin')
  for (let i = 0; i < 4; i++) {
    let t0 = performance.now()
    b.sha256 = await sha256File(file)
    if (i > 0) b.sha256Ms.push(performance.now() - t0)
    t0 = performance.now()
    await copyFile(file, copy)
    if (i > 0) b.copyMs.push(performance.now() - t0)
    rmSync(copy, { force: true })
    const list = await umeshOk(['release', 'list', '--repo', repo, '--json'])
    if (i > 0) b.listMs.push(list.ms)
  }
  return b
}

export async function fanOutAndDelta (root: string, client: Libp2p, runDelta: boolean): Promise<{ base?: Baselines, fan: FanOut, delta?: Delta }> {
  const deadline1 = Math.min(wallNow() + PART_TIMEOUT_MS, budgetEnd)
  const fan: FanOut = { size: SIZE, fetches: [], nodes: [], notHeld: [] }
  const dir = join(root, 'fanout')
  const repo = join(dir, 'repo')
  const src1 = join(dir, 'src-1')
  const src2 = join(dir, 'src-2')
  mkdirSync(src1, { recursive: true })
  mkdirSync(src2, { recursive: true })
  progress(`part 1: ${SIZE / MiB} MiB of seeded data; repo init`)
  const v1 = seeded(SIZE, 'umesh-bench-releases v1')
  writeFileSync(join(src1, 'data.bin'), v1)
  await umeshOk(['repo', 'init', '--repo', repo])
  const base = await baselines(join(src1, 'data.bin'), dir, repo)

  const mesh = startMesh(join(dir, 'mesh'))
  let delta: Delta | undefined
  try {
    progress(`part 1: starting a bootstrap node, a publisher and ${FOLLOWERS} followers`)
    await mesh.start(60_000)
    const publisherP = mesh.addNode('publisher', ['--repo', repo])
    const followerArgs = ['--trusted-root', join(repo, 'metadata', '1.root.json'), '--follow', 'app']
    const followerPs = Array.from({ length: FOLLOWERS }, (_x, i) => mesh.addNode(`follower-${i + 1}`, followerArgs))
    await Promise.all([publisherP, ...followerPs].map(async p => { await p.waitReady(60_000) }))
    const publisher = watch(publisherP)
    const followers = followerPs.map(watch)
    const bootstrap = watch(mesh.bootstrap!)
    const all = [publisher, ...followers, bootstrap]

    // followers fetch from the peers they are connected to: wait (bounded) until each is connected to the publisher
    progress('part 1: waiting (up to 30 s) for every follower to be connected to the publisher')
    const connected = new Set<string>()
    await pollUntil(client, followers, 500, Math.min(deadline1, wallNow() + 30_000), (n, s) => {
      const ok = s.peers.some(x => x.peerId === publisher.peerId)
      if (ok) connected.add(n.name)
      return ok
    })
    fan.connectedToPublisher = connected.size

    const before = await snapshot(client, all)
    progress(`part 1: umesh release add (${SIZE / MiB} MiB), then polling the followers every ${POLL_MS} ms until each holds it`)
    const add = await umeshOk(['release', 'add', src1, '--repo', repo, '--package', 'app', '--version', '1.0.0', '--json'], 120_000)
    fan.add = { ms: add.ms, endWall: add.endWall, writtenWall: statSync(join(repo, 'metadata', 'timestamp.json')).mtimeMs, json: JSON.parse(add.stdout) }
    fan.timestampVersion = Repository.open(repo).signedOf('timestamp').version as number
    ;({ fetches: fan.fetches, notHeld: fan.notHeld } = await watchFetches(client, followers, '1.0.0', deadline1))
    const after = await snapshot(client, all)
    fan.nodes = all.map((n, i) => ({ name: n.name, before: before[i], after: after[i] }))

    if (runDelta) {
      delta = await deltaPart(client, repo, src2, v1, publisher, followers, bootstrap)
    }
  } catch (err) {
    fan.error ??= (err as Error).message.slice(0, 1500)
  } finally {
    progress('part 1: stopping the mesh')
    await mesh.stop()
    fan.recipients = gossipRecipients(join(dir, 'mesh', 'publisher.log'))
    if (delta != null) delta.recipients = fan.recipients
    rmSync(dir, { recursive: true, force: true })
  }
  return { base, fan, delta }
}
