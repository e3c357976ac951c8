/**
 * Part 2 of the release benchmark: a fresh mesh, tiny releases one at a
 * time, and for every (follower, release) the time from the new timestamp
 * being written to the follower trusting it, and to it holding the release.
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { addRelease } from '../../src/release/index.js'
import { Repository } from '../../src/trust/repository.js'
import { seeded } from './data.js'
import { ANNOUNCE_POLL_MS, RELEASES, RELEASE_WAIT_MS, STRAGGLER_WAIT_MS } from './options.js'
import { progress } from './output.js'
import { startMesh, umeshOk, wallNow } from './processes.js'
import { gossipRecipients } from './publisher-log.js'
import { holds, pollUntil, tryStatus, watch } from './status.js'
import type { Watched } from './status.js'
import type { StatusResponse } from '../../protocols/status/index.js'
import type { Libp2p } from '@libp2p/interface'

export interface Sample {
  release: number
  node: string
  /** wall ms the release's timestamp.json was written */
  written: number
  /** ms from `written`: first poll trusting the new timestamp, the node's own lastRefreshMs (end of that refresh), first poll holding it (or a newer release) */
  polled?: number
  nodeClock?: number
  held?: number
}

export interface AnnounceRound {
  label: string
  followers: number
  startMs?: number
  initialSyncMs?: number
  initialMissing: string[]
  /** connected mesh peers (this benchmark's client not counted), all on 127.0.0.1 */
  publisherPeers?: number
  followerPeers: number[]
  releases: Array<{ version: string, timestampVersion: number, addMs: number, writtenToReturnMs: number, waitedMs: number }>
  samples: Sample[]
  /** wall ms polling stopped: unreached samples were watched until then */
  endWall?: number
  /** timestamp version -> gossip recipients, from the publisher's log ("announced timestamp version V to N peers") */
  recipients: Map<number, number[]>
  skipped?: string
  error?: string
}

export function tinySource (dir: string, i: number): void {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'data.bin'), seeded(4096, `umesh-bench-releases tiny ${i}`))
}

export async function waitUntil (cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs
  while (!cond()) {
    if (performance.now() >= end) return false
    await sleep(25)
  }
  return true
}

export async function announceRound (root: string, client: Libp2p, label: string, followerCount: number, deadline: number): Promise<AnnounceRound> {
  const result: AnnounceRound = { label, followers: followerCount, initialMissing: [], followerPeers: [], releases: [], samples: [], recipients: new Map() }
  const dir = join(root, `announce-${followerCount}`)
  const repo = join(dir, 'repo')
  const src = join(dir, 'src')
  mkdirSync(dir, { recursive: true })
  await umeshOk(['repo', 'init', '--repo', repo])
  tinySource(src, 0)
  await addRelease(Repository.open(repo), src, { package: 'app', version: '1.0.0' })
  const versions = ['1.0.0']

  const mesh = startMesh(join(dir, 'mesh'))
  let stopPolling = false
  let poller: Promise<void> | undefined
  try {
    progress(`part 2 (${label}): starting a bootstrap node, a publisher and ${followerCount} followers`)
    const t0 = performance.now()
    await mesh.start(60_000)
    const publisherP = mesh.addNode('publisher', ['--repo', repo])
    const followerArgs = ['--trusted-root', join(repo, 'metadata', '1.root.json'), '--follow', 'app']
    const followerPs = Array.from({ length: followerCount }, (_x, i) => mesh.addNode(`follower-${i + 1}`, followerArgs))
    await Promise.all([publisherP, ...followerPs].map(async p => { await p.waitReady(60_000) }))
    result.startMs = performance.now() - t0
    const publisher = watch(publisherP)
    const followers = followerPs.map(watch)

    const current = (): number => Repository.open(repo).signedOf('timestamp').version as number
    progress(`part 2 (${label}): waiting (up to 45 s) for every follower to hold 1.0.0`)
    const t1 = performance.now()
    result.initialMissing = (await pollUntil(client, followers, 500, Math.min(deadline, wallNow() + 45_000), (_n, s) =>
      (s.trust?.timestampVersion ?? 0) >= current() && holds(s, '1.0.0'))).map(n => n.name)
    result.initialSyncMs = performance.now() - t1
    const clientId = client.peerId.toString()
    const peersOf = (s: StatusResponse | undefined): number => s == null ? NaN : new Set(s.peers.map(x => x.peerId).filter(id => id !== clientId)).size
    result.publisherPeers = peersOf(await tryStatus(client, publisher))
    result.followerPeers = (await Promise.all(followers.map(async f => peersOf(await tryStatus(client, f))))).filter(Number.isFinite)

    // one poller for the whole round: every follower with a sample still open, every ANNOUNCE_POLL_MS
    const open = (f: Watched): Sample[] => result.samples.filter(x => x.node === f.name && (x.polled == null || x.nodeClock == null || x.held == null))
    const heldFrom = (s: StatusResponse): number => Math.max(-1, ...s.releases.filter(r => r.package === 'app' && r.state === 'held').map(r => versions.indexOf(r.version)))
    poller = (async () => {
      while (!stopPolling) {
        const roundStart = performance.now()
        await Promise.all(followers.filter(f => open(f).length > 0).map(async f => {
          const s = await tryStatus(client, f)
          if (s == null) return
          const at = wallNow()
          const trusted = s.trust?.timestampVersion ?? 0
          const refreshed = Number(s.trust?.lastRefreshMs ?? 0)
          const newestHeld = heldFrom(s)
          for (const x of open(f)) {
            const want = result.releases[x.release - 1]?.timestampVersion ?? Infinity
            if (x.polled == null && trusted >= want) x.polled = at - x.written
            // tuf-js stores the new timestamp before it fetches snapshot and targets, so the
            // refresh that verified it may still be running when the version first shows
            if (x.nodeClock == null && trusted >= want && refreshed >= x.written) x.nodeClock = refreshed - x.written
            if (x.held == null && newestHeld >= x.release) x.held = at - x.written
          }
        }))
        const wait = ANNOUNCE_POLL_MS - (performance.now() - roundStart)
        if (wait > 0) await sleep(wait)
      }
    })()

    for (let i = 1; i <= RELEASES; i++) {
      if (wallNow() + RELEASE_WAIT_MS > deadline) { result.skipped = `stopped after ${i - 1} releases: the time limit was near`; break }
      // a random pause so the releases fall at different points of the publisher's 500 ms watch of the timestamp
      await sleep(300 + Math.floor(Math.random() * 500))
      const version = `1.0.${i}`
      tinySource(src, i)
      progress(`part 2 (${label}): release ${i}/${RELEASES} (app ${version}); waiting up to ${RELEASE_WAIT_MS / 1000} s for every follower to trust and hold it`)
      const tAdd = performance.now()
      const r = Repository.open(repo)
      await addRelease(r, src, { package: 'app', version })
      const returned = wallNow()
      const addMs = performance.now() - tAdd
      const written = statSync(join(repo, 'metadata', 'timestamp.json')).mtimeMs
      versions.push(version)
      result.releases.push({ version, timestampVersion: r.signedOf('timestamp').version as number, addMs, writtenToReturnMs: returned - written, waitedMs: 0 })
      for (const f of followers) result.samples.push({ release: i, node: f.name, written })
      const tw = performance.now()
      await waitUntil(() => result.samples.every(x => x.release !== i || (x.polled != null && x.held != null)), RELEASE_WAIT_MS)
      result.releases[i - 1].waitedMs = performance.now() - tw
    }
    const left = (): boolean => result.samples.every(x => x.polled != null && x.held != null)
    if (!left()) {
      const wait = Math.max(0, Math.min(STRAGGLER_WAIT_MS, deadline - wallNow()))
      progress(`part 2 (${label}): waiting up to ${(wait / 1000).toFixed(0)} s for the followers still behind`)
      await waitUntil(left, wait)
    }
    stopPolling = true
    await poller
    result.endWall = wallNow()
  } catch (err) {
    result.error = (err as Error).message.slice(0, 1500)
  } finally {
    stopPolling = true
    await poller?.catch(() => {})
    result.endWall ??= wallNow()
    progress(`part 2 (${label}): stopping the mesh`)
    await mesh.stop()
    result.recipients = gossipRecipients(join(dir, 'mesh', 'publisher.log'))
    rmSync(dir, { recursive: true, force: true })
  }
  return result
}
