/**
 * The swarms of the releases this node fetches or serves, by the CID of
 * their index: how rare each chunk is among the peers in them (the upload
 * scheduler serves rare chunks first) and how many sessions are open (for
 * status). Releases nobody asked about for a while are forgotten: at most
 * MAX_RELEASES are kept, their sessions closed, and once started a swarm
 * with no download and no session is dropped IDLE_MS after its last use (a
 * swarm holds every piece's CID and counters: about 0.6 MB for a 256 MiB
 * release, kept for nothing once the release has spread). A peer that asks
 * about the release later opens it again.
 */
import type { ReleaseSwarm } from './release-swarm.js'

export const MAX_RELEASES = 16
/** a swarm with no download and no session is dropped this long after its last use */
export const IDLE_MS = 10 * 60_000
const SWEEP_MS = 60_000

export class ReleaseSwarms {
  private readonly releases = new Map<string, ReleaseSwarm>()
  private sweeper?: NodeJS.Timeout

  /** drops idle swarms every minute until stopped */
  start (): void {
    this.sweeper ??= setInterval(() => { this.sweep() }, SWEEP_MS)
    this.sweeper.unref()
  }

  stop (): void {
    clearInterval(this.sweeper)
    this.sweeper = undefined
  }

  /** drops the swarms with no download and no session, unused for idleMs; returns how many */
  sweep (now = Date.now(), idleMs = IDLE_MS): number {
    let dropped = 0
    for (const s of [...this.releases.values()]) {
      if (s.listener != null || s.peers.size > 0 || now - s.lastUsed < idleMs) continue
      s.close()
      this.releases.delete(s.key)
      dropped++
    }
    return dropped
  }

  get (key: string): ReleaseSwarm | undefined {
    return this.releases.get(key)
  }

  add (swarm: ReleaseSwarm): void {
    this.releases.set(swarm.key, swarm)
    this.evict()
  }

  /** known peers that hold chunk `key`, in any swarm (the upload scheduler's rarity) */
  holders (key: string): number {
    let n = 0
    for (const swarm of this.releases.values()) {
      const i = swarm.index.get(key)
      if (i !== undefined) n = Math.max(n, swarm.availability[i])
    }
    return n
  }

  /** swarms and sessions, for status */
  stats (): { releases: number, sessions: number } {
    let sessions = 0
    for (const s of this.releases.values()) sessions += s.peers.size
    return { releases: this.releases.size, sessions }
  }

  /**
   * Pieces across the swarms, for metrics: held by this node, still missing
   * in the releases being fetched, and requests out to peers now.
   */
  pieces (): { held: number, fetching: number, requested: number } {
    let held = 0
    let fetching = 0
    let requested = 0
    for (const s of this.releases.values()) {
      held += s.held.count
      if (s.listener != null) fetching += s.count - s.held.count
      requested += s.requested
    }
    return { held, fetching, requested }
  }

  closeAll (): void {
    this.stop()
    for (const s of this.releases.values()) s.close()
    this.releases.clear()
  }

  private evict (): void {
    if (this.releases.size <= MAX_RELEASES) return
    const idle = [...this.releases.values()].filter(s => s.listener == null).sort((a, b) => a.lastUsed - b.lastUsed)
    for (const s of idle.slice(0, this.releases.size - MAX_RELEASES)) {
      s.close()
      this.releases.delete(s.key)
    }
  }
}
