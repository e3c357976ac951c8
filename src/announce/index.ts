/**
 * Announcements of new signed timestamps on the gossip topic
 * `/umesh/<network>/announce/1`: how each message is judged against the
 * node's trusted root before gossipsub forwards it (judge.ts), and the
 * component that subscribes, validates, emits what it accepted and
 * publishes (announcements.ts). The publisher announces through it; the
 * follower listens to it.
 *
 * Imports: network/ (the topic name), libraries.
 */
import { Announcements } from './announcements.js'
import type { AnnouncementsComponents, AnnouncementsInit } from './announcements.js'

export { Announcements } from './announcements.js'
export type { AnnouncementEvents, AnnouncementsComponents, AnnouncementsInit, TimestampAnnouncement, TrustSource } from './announcements.js'
export { judgeAnnouncement, MAX_ANNOUNCEMENT_BYTES } from './judge.js'
export type { TrustedState, Verdict } from './judge.js'

export function announcements (init: AnnouncementsInit): (components: AnnouncementsComponents) => Announcements {
  return (components) => new Announcements(components, init)
}
