/**
 * The options that decide what a node does with releases, checked together
 * in the config phase: a node publishes a repository (--repo) or follows
 * one (--trusted-root, --follow), never both; a bootstrap node does neither.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { ConfigError } from '../errors.js'
import { Repository } from '../trust/repository.js'
import type { NodeConfig } from '../config/index.js'
import type { Role } from '../network/create-node.js'

export function checkReleaseOptions (role: Role, config: NodeConfig): void {
  if (role === 'bootstrap' && (config.repo != null || config.trustedRoot != null || config.follow.length > 0)) {
    throw new ConfigError(config.repo != null ? '--repo' : config.trustedRoot != null ? '--trusted-root' : '--follow', 'a bootstrap node holds no packages; run a publisher or a follower with umesh node')
  }
  if (config.repo != null && config.trustedRoot != null) {
    throw new ConfigError('--repo', 'a node either publishes a repository (--repo) or follows one (--trusted-root), not both')
  }
  if (config.follow.length > 0 && config.trustedRoot == null) {
    throw new ConfigError('--follow', 'following packages needs --trusted-root FILE (the repository\'s root.json), so the node can verify what it fetches')
  }
  if (config.coordinator && config.repo == null) {
    throw new ConfigError('--coordinator', 'the coordinator signs rollout changes with the repository\'s rollouts key: give it --repo DIR')
  }
  if (config.repo != null) {
    config.repo = resolve(config.repo)
    try {
      Repository.open(config.repo)
    } catch (err) {
      throw new ConfigError('--repo', (err as Error).message)
    }
  }
  if (config.trustedRoot != null) {
    config.trustedRoot = resolve(config.trustedRoot)
    if (!existsSync(config.trustedRoot)) throw new ConfigError('--trusted-root', `${config.trustedRoot}: file not found; copy the repository's metadata/root.json to the node`)
  }
}
