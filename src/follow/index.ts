/**
 * The follower side of a node started with --trusted-root: its trusted TUF
 * state in the data dir (node-trust.ts), its releases as the mesh sees them
 * (followed-releases.ts), the rounds that refresh metadata through peers and
 * fetch followed releases (follower.ts, refresh.ts), differential sync with
 * newly identified peers (catch-up.ts) and the rollout documents it verified
 * (rollout-documents.ts). A release held in full is emitted as `held` with
 * its verified index.
 *
 * Imports: announce/, data-dir/, network/ (peer protocols), release/, swarm/,
 * trust/, protocols/.
 */
import { Follower } from './follower.js'
import type { FollowerComponents, FollowerInit } from './follower.js'

export { Follower } from './follower.js'
export type { AnnounceLatencies, FollowerComponents, FollowerEvents, FollowerInit, HeldRelease } from './follower.js'
export { FollowedReleases } from './followed-releases.js'
export type { FollowerProgress, ReleaseProgress } from './followed-releases.js'
export { NodeTrust } from './node-trust.js'
export { RolloutDocuments } from './rollout-documents.js'

export function follower (init: FollowerInit): (components: FollowerComponents) => Follower {
  return (components) => new Follower(components, init)
}
