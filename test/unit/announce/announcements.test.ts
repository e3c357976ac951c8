/**
 * The announce component over a stub gossipsub: the topic validator it
 * installs judges each message against the trusted root (accept and emit a
 * newer timestamp, reject a forgery, ignore an old one, flag unknown keys),
 * a node with no trust ignores everything, announce() publishes on the topic
 * and stop() takes everything down again.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, beforeEach, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Metadata, MetadataKind } from '@tufjs/models'
import { Announcements } from '../../../src/announce/index.js'
import { announceTopic } from '../../../src/network/protocol-ids.js'
import { Repository } from '../../../src/trust/repository.js'
import { captureLogger } from '../../helpers/capture-logger.js'
import { tempDir } from '../../helpers/cli.js'
import type { TimestampAnnouncement, TrustSource } from '../../../src/announce/index.js'
import type { Message, TopicValidatorFn } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import type { Root } from '@tufjs/models'

const NETWORK = 'test'
const TOPIC = announceTopic(NETWORK)

/** what the component does to gossipsub, and what gossipsub would hand it */
class StubPubsub extends EventTarget {
  readonly topicValidators = new Map<string, TopicValidatorFn>()
  readonly subscribed = new Set<string>()
  readonly published: Array<{ topic: string, data: Uint8Array }> = []
  listeners = 0

  subscribe (topic: string): void { this.subscribed.add(topic) }
  unsubscribe (topic: string): void { this.subscribed.delete(topic) }

  override addEventListener (type: string, listener: any, options?: any): void {
    if (type === 'message') this.listeners++
    super.addEventListener(type, listener, options)
  }

  override removeEventListener (type: string, listener: any, options?: any): void {
    if (type === 'message') this.listeners--
    super.removeEventListener(type, listener, options)
  }

  async publish (topic: string, data: Uint8Array): Promise<{ recipients: PeerId[] }> {
    this.published.push({ topic, data })
    return { recipients: [peer, peer, peer] }
  }

  /** runs the topic's validator on a message from `from` */
  async validate (from: PeerId, data: Uint8Array, topic = TOPIC): Promise<TopicValidatorResult> {
    const validator = this.topicValidators.get(topic)
    assert.ok(validator != null, `a validator on ${topic}`)
    return await validator(from, { type: 'unsigned', topic, data } as Message)
  }
}

let peer: PeerId

describe('Announcements', () => {
  const tmp = tempDir('umesh-announcements-')
  after(() => { tmp.remove() })
  const repo = Repository.init(join(tmp.path, 'repo'))
  const root = (): Metadata<Root> => Metadata.fromJSON(MetadataKind.Root, JSON.parse(readFileSync(join(repo.metadataDir, '1.root.json'), 'utf8')))
  const timestamp = (): Buffer => readFileSync(join(repo.metadataDir, 'timestamp.json'))
  const versionOf = (bytes: Uint8Array): number => JSON.parse(Buffer.from(bytes).toString('utf8')).signed.version

  let pubsub: StubPubsub
  let trusted: { root: Metadata<Root>, timestampVersion: number }
  let component: Announcements
  let heard: { timestamps: TimestampAnnouncement[], unknown: PeerId[] }

  function start (withTrust = true): Announcements {
    const trust: TrustSource | undefined = withTrust ? { trusted: () => trusted } : undefined
    const a = new Announcements({ pubsub: pubsub as any, trust, logger: captureLogger().components }, { network: NETWORK })
    heard = { timestamps: [], unknown: [] }
    a.on('timestamp', t => { heard.timestamps.push(t) })
    a.on('unknown-keys', p => { heard.unknown.push(p) })
    a.start()
    return a
  }

  beforeEach(async () => {
    peer ??= peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    pubsub = new StubPubsub()
    trusted = { root: root(), timestampVersion: 0 }
    component = start()
  })

  it('subscribes to /umesh/<network>/announce/1 with a validator and a message listener', () => {
    assert.equal(component.topic, '/umesh/test/announce/1')
    assert.deepEqual([...pubsub.topicValidators.keys()], [TOPIC])
    assert.deepEqual([...pubsub.subscribed], [TOPIC])
    assert.equal(pubsub.listeners, 1)
  })

  it('accepts a newer signed timestamp and emits it with its sender, version and bytes', async () => {
    const bytes = timestamp()
    trusted.timestampVersion = versionOf(bytes) - 1
    assert.equal(await pubsub.validate(peer, bytes), TopicValidatorResult.Accept)
    assert.equal(heard.timestamps.length, 1)
    const [t] = heard.timestamps
    assert.ok(t.from.equals(peer))
    assert.equal(t.version, versionOf(bytes))
    assert.deepEqual(Buffer.from(t.bytes), bytes)
    assert.deepEqual(heard.unknown, [])
  })

  it('rejects a forged timestamp (a trusted key, a bad signature) and emits nothing', async () => {
    const md = JSON.parse(timestamp().toString('utf8'))
    md.signed.version += 100
    assert.equal(await pubsub.validate(peer, Buffer.from(JSON.stringify(md))), TopicValidatorResult.Reject)
    assert.equal(await pubsub.validate(peer, Buffer.from('not json')), TopicValidatorResult.Reject)
    assert.deepEqual(heard, { timestamps: [], unknown: [] })
    assert.equal(component.counts.rejected, 2)
  })

  it('ignores a timestamp no newer than the trusted one', async () => {
    const bytes = timestamp()
    trusted.timestampVersion = versionOf(bytes)
    assert.equal(await pubsub.validate(peer, bytes), TopicValidatorResult.Ignore)
    trusted.timestampVersion = versionOf(bytes) + 3
    assert.equal(await pubsub.validate(peer, bytes), TopicValidatorResult.Ignore)
    assert.deepEqual(heard, { timestamps: [], unknown: [] })
    assert.equal(component.counts.ignored, 2)
    assert.equal(component.counts.rejected, 0)
  })

  it('ignores a timestamp signed by keys the trusted root does not know, and emits unknown-keys with the sender', async () => {
    // a repository of its own, so the other tests keep the first timestamp key
    const rotated = Repository.init(join(tmp.path, 'rotated'))
    const rootOf = (version: number): Metadata<Root> => Metadata.fromJSON(MetadataKind.Root, JSON.parse(readFileSync(join(rotated.metadataDir, `${version}.root.json`), 'utf8')))
    trusted = { root: rootOf(1), timestampVersion: 0 }
    rotated.rotate('timestamp')
    const bytes = readFileSync(join(rotated.metadataDir, 'timestamp.json'))
    assert.equal(await pubsub.validate(peer, bytes), TopicValidatorResult.Ignore)
    assert.equal(heard.unknown.length, 1)
    assert.ok(heard.unknown[0].equals(peer))
    assert.deepEqual(heard.timestamps, [])
    // once the rotated root is trusted, the same message is news
    trusted = { root: rootOf(2), timestampVersion: 0 }
    assert.equal(await pubsub.validate(peer, bytes), TopicValidatorResult.Accept)
    assert.equal(heard.timestamps.length, 1)
  })

  it('with no trust component, ignores every message and emits nothing', async () => {
    component.stop()
    component = start(false)
    assert.equal(await pubsub.validate(peer, timestamp()), TopicValidatorResult.Ignore)
    const md = JSON.parse(timestamp().toString('utf8'))
    md.signed.version += 100
    assert.equal(await pubsub.validate(peer, Buffer.from(JSON.stringify(md))), TopicValidatorResult.Ignore)
    assert.deepEqual(heard, { timestamps: [], unknown: [] })
  })

  it('counts accepted messages gossipsub delivers on its topic only', () => {
    pubsub.dispatchEvent(new CustomEvent('message', { detail: { topic: TOPIC, data: new Uint8Array() } }))
    pubsub.dispatchEvent(new CustomEvent('message', { detail: { topic: '/umesh/other/announce/1', data: new Uint8Array() } }))
    assert.equal(component.counts.accepted, 1)
  })

  it('announce() publishes the bytes on the topic and returns how many peers took them', async () => {
    const bytes = timestamp()
    assert.equal(await component.announce(bytes), 3)
    assert.equal(pubsub.published.length, 1)
    assert.equal(pubsub.published[0].topic, TOPIC)
    assert.deepEqual(Buffer.from(pubsub.published[0].data), bytes)
  })

  it('stop() removes the validator, the subscription, the message listener and the event listeners', async () => {
    component.stop()
    assert.equal(pubsub.topicValidators.has(TOPIC), false)
    assert.equal(pubsub.subscribed.has(TOPIC), false)
    assert.equal(pubsub.listeners, 0)
    assert.equal(component.listenerCount('timestamp'), 0)
    pubsub.dispatchEvent(new CustomEvent('message', { detail: { topic: TOPIC, data: new Uint8Array() } }))
    assert.equal(component.counts.accepted, 0)
  })
})
