/**
 * The publisher side of a node started with --repo: its releases as the
 * mesh sees them (published-releases.ts: served metadata, the trusted root,
 * pieces by index CID, status) and the loop that announces each new
 * timestamp at once, re-announces it periodically and re-signs it before it
 * expires (publisher.ts).
 *
 * Imports: announce/ (types), release/, swarm/ (piece lists), trust/, data-dir/.
 */
import { Publisher } from './publisher.js'
import type { PublisherComponents, PublisherInit } from './publisher.js'

export { Publisher } from './publisher.js'
export type { PublisherComponents, PublisherInit } from './publisher.js'
export { PublishedReleases } from './published-releases.js'

export function publisher (init: PublisherInit = {}): (components: PublisherComponents) => Publisher {
  return (components) => new Publisher(components, init)
}
