/**
 * Plain auto-update: with `autoUpdate` on, a package installs the newest
 * held release of its followed channel when it is newer than the current
 * one. It runs when a release is held (the follower hands over the verified
 * index with it) and once at start for releases held before. A package a
 * rollout governs is left to the rollout; a version this node already tried
 * and rolled back is not retried by itself. Failures are in the history and
 * status; they are logged, not thrown.
 */
import type { InstallManager } from './manager.js'
import type { ReleaseIndex } from '../release/index.js'
import type { ComponentLogger, Logger } from '@libp2p/interface'

/** a release now held in full, with its verified index */
export interface HeldReleaseEvent {
  package: string
  version: string
  index: ReleaseIndex
}

export interface AutoUpdateComponents {
  manager: InstallManager
  /** emits `held` for each release held in full (the follower) */
  releases: {
    on: (event: 'held', listener: (release: HeldReleaseEvent) => void) => unknown
    off: (event: 'held', listener: (release: HeldReleaseEvent) => void) => unknown
  }
  /** whether a rollout decides this package's installs */
  rollouts: { governs: (pkg: string) => boolean }
  logger: ComponentLogger
}

export class AutoUpdater {
  private readonly log: Logger
  private readonly onHeld = (release: HeldReleaseEvent): void => {
    this.components.manager.remember(release.package, release.version, release.index)
    void this.run()
  }

  constructor (private readonly components: AutoUpdateComponents) {
    this.log = components.logger.forComponent('umesh:auto-update')
  }

  start (): void {
    this.components.releases.on('held', this.onHeld)
  }

  stop (): void {
    this.components.releases.off('held', this.onHeld)
  }

  /** installs what plain auto-update would install now, one package after another */
  async run (): Promise<void> {
    const { manager, rollouts } = this.components
    for (const [pkg, installer] of manager.installers) {
      if (!manager.autoUpdates(pkg) || manager.busy || rollouts.governs(pkg)) continue
      const next = manager.availableUpdate(pkg)
      if (next == null) continue
      // a version this node already tried and rolled back is not retried automatically
      const tried = installer.history().some(h => h.to === next && h.kind !== 'rollback' && h.outcome !== 'installed')
      if (tried) continue
      try {
        await manager.upgrade({ package: pkg, choice: { to: next } })
      } catch (err) {
        this.log.error('auto-update of %s to %s did not complete - %e', pkg, next, err)
      }
    }
  }
}
