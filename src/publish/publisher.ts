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
import { Repository } from '../trust/repository.js'
import type { Announcements } from '../follow/announcements.js'
import type { Logger } from '@libp2p/interface'

export interface PublisherInit {
  repoDir: string
  announcements: Announcements
  log: Logger
  pollMs?: number
  republishMs?: number
}

export class Publisher {
  private timer?: NodeJS.Timeout
  private watcher?: FSWatcher
  private lastStamp = ''
  private lastAnnounce = 0
  private busy = false
  private again = false
  announced = 0

  constructor (private readonly init: PublisherInit) {}

  get timestampFile (): string {
    return join(this.init.repoDir, 'metadata', 'timestamp.json')
  }

  repo (): Repository {
    return Repository.open(this.init.repoDir)
  }

  timestampVersion (): number {
    try {
      return JSON.parse(readFileSync(this.timestampFile, 'utf8')).signed.version
    } catch {
      return 0
    }
  }

  start (): void {
    this.timer = setInterval(() => { void this.tick() }, this.init.pollMs ?? 500)
    this.timer.unref()
    try {
      // the timestamp is replaced by a rename: the folder reports it
      this.watcher = watch(join(this.init.repoDir, 'metadata'), (_event, name) => { if (name === 'timestamp.json') void this.tick() })
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
      const repo = this.repo()
      // re-sign when less than half the timestamp's lifetime is left
      const lifetime = repo.settings.expiry.timestamp * 86_400_000
      if (repo.timestampExpires().getTime() - Date.now() < lifetime / 2) {
        repo.refreshTimestamp()
        this.init.log('re-signed the timestamp before it expires')
      }
      const st = statSync(this.timestampFile)
      const stamp = `${st.mtimeMs}:${st.size}`
      const due = Date.now() - this.lastAnnounce > (this.init.republishMs ?? 30_000)
      if (stamp !== this.lastStamp || due) {
        const bytes = readFileSync(this.timestampFile)
        const recipients = await this.init.announcements.announce(bytes)
        this.lastStamp = stamp
        this.lastAnnounce = Date.now()
        this.announced++
        this.init.log('announced timestamp version %d to %d peers', this.timestampVersion(), recipients)
      }
    } catch (err) {
      this.init.log.error('publisher tick failed - %e', err)
    } finally {
      this.busy = false
      if (this.again) {
        this.again = false
        void this.tick()
      }
    }
  }
}
