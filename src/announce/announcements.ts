/**
 * The announce topic on gossipsub: every node subscribes and judges each
 * message with its own trusted root before gossipsub forwards it (see
 * judge.ts). An accepted timestamp is emitted as `timestamp`; a message
 * signed by keys this node does not know (yet) as `unknown-keys`. The
 * publisher announces through the same component.
 */
import { EventEmitter } from 'node:events'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { announceTopic } from '../network/protocol-ids.js'
import { judgeAnnouncement } from './judge.js'
import type { TrustedState } from './judge.js'
import type { GossipSub, Message } from '@libp2p/gossipsub'
import type { ComponentLogger, Logger, PeerId } from '@libp2p/interface'

export interface AnnouncementsInit {
  network: string
}

/** what this node trusts now: its root and its timestamp version */
export interface TrustSource {
  trusted: () => TrustedState
}

export interface AnnouncementsComponents {
  pubsub: GossipSub
  /** absent on a node that trusts no repository: it ignores every announcement */
  trust?: TrustSource
  logger: ComponentLogger
}

export interface TimestampAnnouncement {
  from: PeerId
  version: number
  /** the signed timestamp, as announced */
  bytes: Uint8Array
  /** when the message reached this node, before it was judged (performance.now() ms): where announcement-to-verified latency starts */
  receivedAt?: number
}

export interface AnnouncementEvents {
  /** an announcement that verified against the trusted root and is newer than what this node trusts */
  timestamp: [TimestampAnnouncement]
  /** a message signed by keys this node does not know: maybe a rotation it missed */
  'unknown-keys': [PeerId]
}

export class Announcements extends EventEmitter<AnnouncementEvents> {
  readonly topic: string
  readonly counts = { accepted: 0, ignored: 0, rejected: 0 }
  private readonly log: Logger
  private readonly onMessage = (evt: CustomEvent<Message>): void => {
    if (evt.detail.topic !== this.topic) return
    this.counts.accepted++
  }

  constructor (private readonly components: AnnouncementsComponents, init: AnnouncementsInit) {
    super()
    this.topic = announceTopic(init.network)
    this.log = components.logger.forComponent('umesh:announce')
  }

  start (): void {
    const { pubsub } = this.components
    pubsub.topicValidators.set(this.topic, (from, message) => this.validate(from, message))
    pubsub.addEventListener('message', this.onMessage)
    pubsub.subscribe(this.topic)
  }

  stop (): void {
    const { pubsub } = this.components
    pubsub.unsubscribe(this.topic)
    pubsub.removeEventListener('message', this.onMessage)
    pubsub.topicValidators.delete(this.topic)
    this.removeAllListeners()
  }

  private validate (from: PeerId, message: Message): TopicValidatorResult {
    const receivedAt = performance.now()
    const trust = this.components.trust
    if (trust == null) return TopicValidatorResult.Ignore
    let verdict
    try {
      verdict = judgeAnnouncement(message.data, trust.trusted())
    } catch (err) {
      this.log.error('cannot judge an announcement - %e', err)
      return TopicValidatorResult.Ignore
    }
    if (verdict.action === 'reject') {
      this.counts.rejected++
      this.log('rejecting announcement from %p: %s', from, verdict.reason)
      return TopicValidatorResult.Reject
    }
    if (verdict.action === 'ignore') {
      this.counts.ignored++
      this.log.trace('ignoring announcement from %p: %s', from, verdict.reason)
      if (verdict.unknownKeys === true) this.emit('unknown-keys', from)
      return TopicValidatorResult.Ignore
    }
    this.emit('timestamp', { from, version: verdict.version, bytes: message.data, receivedAt })
    return TopicValidatorResult.Accept
  }

  /** publishes signed timestamp bytes; returns how many peers took it */
  async announce (bytes: Uint8Array): Promise<number> {
    const result = await this.components.pubsub.publish(this.topic, bytes)
    return result.recipients.length
  }
}
