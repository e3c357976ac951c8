/**
 * The publisher side of a node started with --repo: it watches the
 * repository's timestamp and announces each new one at once (a watch on
 * the metadata folder, with a poll every 0.5 s behind it for file systems
 * that do not report changes; so `umesh release add` on the same machine
 * reaches the mesh without a restart), re-announces periodically for nodes that missed it, and re-signs
 * the timestamp before it expires so nodes never see the repository as frozen.
 */
import { statSync, readFileSync, watch } from 'node:fs'
import type { FSWatcher } from 'node:fs'
import { join } from 'node:path'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import type { PublishedReleases } from './published-releases.js'

export interface PublisherInit {
  /** the timestamp is checked this often besides the folder watch (default 0.5 s) */
  pollMs?: number
  /** the current timestamp is announced again this often (default 30 s) */
  republishMs?: number
}

export interface PublisherComponents {
  /** the repository this node publishes */
  releases: PublishedReleases
  /** where timestamps are announced */
  announcements: { announce: (bytes: Uint8Array) => Promise<number> }
  logger: ComponentLogger
}

export class Publisher {
  private timer?: NodeJS.Timeout
  private watcher?: FSWatcher
  private lastStamp = ''
  private lastAnnounce = 0
  private busy = false
  private again = false
  private readonly log: Logger
  announced = 0

  constructor (private readonly components: PublisherComponents, private readonly init: PublisherInit = {}) {
    this.log = components.logger.forComponent('umesh:publisher')
  }

  get timestampFile (): string {
    return join(this.components.releases.repoDir, 'metadata', 'timestamp.json')
  }

  start (): void {
    this.timer = setInterval(() => { void this.tick() }, this.init.pollMs ?? 500)
    this.timer.unref()
    try {
      // the timestamp is replaced by a rename: the folder reports it
      this.watcher = watch(join(this.components.releases.repoDir, 'metadata'), (_event, name) => { if (name === 'timestamp.json') void this.tick() })
      this.watcher.on('error', () => { this.watcher?.close() })
      this.watcher.unref()
    } catch {
      // no watch on this file system: the poll alone
    }
    void this.tick()
  }

  stop (): void {
    clearInterval(this.timer)
    this.watcher?.close()
  }

  private async tick (): Promise<void> {
    if (this.busy) {
      // a change seen while a tick runs gets its own tick right after
      this.again = true
      return
    }
    this.busy = true
    try {
      const repo = this.components.releases.repo()
      // re-sign when less than half the timestamp's lifetime is left
      const lifetime = repo.settings.expiry.timestamp * 86_400_000
      if (repo.timestampExpires().getTime() - Date.now() < lifetime / 2) {
        repo.refreshTimestamp()
        this.log('re-signed the timestamp before it expires')
      }
      const st = statSync(this.timestampFile)
      const stamp = `${st.mtimeMs}:${st.size}`
      const due = Date.now() - this.lastAnnounce > (this.init.republishMs ?? 30_000)
      if (stamp !== this.lastStamp || due) {
        const bytes = readFileSync(this.timestampFile)
        const recipients = await this.components.announcements.announce(bytes)
        this.lastStamp = stamp
        this.lastAnnounce = Date.now()
        this.announced++
        this.log('announced timestamp version %d to %d peers', this.components.releases.timestampVersion(), recipients)
      }
    } catch (err) {
      this.log.error('publisher tick failed - %e', err)
    } finally {
      this.busy = false
      if (this.again) {
        this.again = false
        void this.tick()
      }
    }
  }
}
