/**
 * The verified rollout document of each followed package that has one (a
 * target of the delegated `rollouts` role). A restarted node knows them from
 * the trusted `rollouts` metadata tuf-js kept, before its first refresh
 * through peers succeeds; each round fetches the current one, mirrors it for
 * peers and remembers its sha256. Readers get the bytes only while the file
 * still hashes to that sha256.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { readByHash, targetFile } from '../data-dir/index.js'
import { targetFilePath } from '../trust/repository.js'
import type { NodeTrust } from './node-trust.js'
import type { DataPaths } from '../data-dir/index.js'
import type { Logger } from '@libp2p/interface'
import type { Updater } from 'tuf-js'

export interface RolloutDocumentsComponents {
  trust: NodeTrust
  paths: DataPaths
  log: Logger
}

export class RolloutDocuments {
  /** package -> sha256 of its verified rollout document */
  private readonly hashes = new Map<string, string>()

  constructor (private readonly components: RolloutDocumentsComponents) {
    this.loadTrusted()
  }

  /** the verified rollout document of `pkg`; undefined when it has none; HashMismatchError when the file changed on disk */
  document (pkg: string): Uint8Array | undefined {
    const hash = this.hashes.get(pkg)
    return hash == null ? undefined : readByHash(targetFile(this.components.paths, hash, 'rollout'), hash)
  }

  private loadTrusted (): void {
    const file = join(this.components.trust.metadataDir, 'rollouts.json')
    if (!existsSync(file)) return
    try {
      const targets = JSON.parse(readFileSync(file, 'utf8')).signed?.targets ?? {}
      for (const [path, t] of Object.entries<any>(targets)) {
        const m = /^rollouts\/([^/]+)\.json$/.exec(path)
        const hash = t?.hashes?.sha256
        if (m == null || typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) continue
        if (existsSync(targetFile(this.components.paths, hash, 'rollout'))) this.hashes.set(m[1], hash)
      }
    } catch (err) {
      this.components.log('could not read the trusted rollouts metadata - %e', err)
    }
  }

  /**
   * Fetches the rollout document of a package through a refreshed updater
   * (tuf-js verifies it through the delegation) and mirrors it for peers.
   * Returns the version it names; undefined when the package has none.
   * Throws when the rollouts metadata could not be read this round.
   */
  async fetch (updater: Updater, pkg: string): Promise<{ version: string } | undefined> {
    const path = `rollouts/${pkg}.json`
    const info = await updater.getTargetInfo(path)
    if (info == null) {
      this.hashes.delete(pkg)
      return undefined
    }
    const hash = info.hashes.sha256
    const file = targetFile(this.components.paths, hash, 'rollout')
    if (!existsSync(file)) await updater.downloadTarget(info, file)
    const bytes = readFileSync(file)
    this.components.trust.mirror(`targets/${targetFilePath(path, hash)}`, bytes)
    this.hashes.set(pkg, hash)
    try {
      const version = JSON.parse(bytes.toString('utf8')).version
      return typeof version === 'string' ? { version } : undefined
    } catch {
      return undefined
    }
  }
}
