/**
 * The announce topic on gossipsub: every node subscribes and judges each
 * message with its own trusted root before gossipsub forwards it (see
 * trust/announcement.ts); accepted timestamps reach `onTimestamp`.
 */
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { announceTopic } from '../network/protocol-ids.js'
import { judgeAnnouncement } from '../trust/announcement.js'
import type { TrustedState } from '../trust/announcement.js'
import type { GossipSub, Message } from '@libp2p/gossipsub'
import type { Logger, PeerId } from '@libp2p/interface'

export interface AnnouncementsInit {
  pubsub: GossipSub
  network: string
  trusted: () => TrustedState
  onTimestamp: (from: PeerId, version: number, bytes: Uint8Array) => void
  /** a message signed by keys not (yet) trusted: maybe a rotation this node missed */
  onUnknownKeys: (from: PeerId) => void
  log: Logger
}

export class Announcements {
  readonly topic: string
  readonly counts = { accepted: 0, ignored: 0, rejected: 0 }
  private readonly onMessage = (evt: CustomEvent<Message>): void => {
    if (evt.detail.topic !== this.topic) return
    this.counts.accepted++
  }

  constructor (private readonly init: AnnouncementsInit) {
    this.topic = announceTopic(init.network)
  }

  start (): void {
    const { pubsub } = this.init
    pubsub.topicValidators.set(this.topic, (from, message) => this.validate(from, message))
    pubsub.addEventListener('message', this.onMessage)
    pubsub.subscribe(this.topic)
  }

  stop (): void {
    const { pubsub } = this.init
    pubsub.unsubscribe(this.topic)
    pubsub.removeEventListener('message', this.onMessage)
    pubsub.topicValidators.delete(this.topic)
  }

  private validate (from: PeerId, message: Message): TopicValidatorResult {
    let verdict
    try {
      verdict = judgeAnnouncement(message.data, this.init.trusted())
    } catch (err) {
      this.init.log.error('cannot judge an announcement - %e', err)
      return TopicValidatorResult.Ignore
    }
    if (verdict.action === 'reject') {
      this.counts.rejected++
      this.init.log('rejecting announcement from %p: %s', from, verdict.reason)
      return TopicValidatorResult.Reject
    }
    if (verdict.action === 'ignore') {
      this.counts.ignored++
      this.init.log.trace('ignoring announcement from %p: %s', from, verdict.reason)
      if (verdict.unknownKeys === true) this.init.onUnknownKeys(from)
      return TopicValidatorResult.Ignore
    }
    this.init.onTimestamp(from, verdict.version, message.data)
    return TopicValidatorResult.Accept
  }

  /** publishes signed timestamp bytes; returns how many peers took it */
  async announce (bytes: Uint8Array): Promise<number> {
    const result = await this.init.pubsub.publish(this.topic, bytes)
    return result.recipients.length
  }
}
