import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerKeeper } from '../../../src/discovery/peer-keeper.js'
import type { PeerId } from '@libp2p/interface'

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

const noLog = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false })

interface FakeDht {
  /** called for each random walk; yields the walk's events */
  walk: (signal: AbortSignal) => AsyncGenerator<any>
}

/**
 * The parts of a libp2p node the keeper uses: connections, the peer store
 * (empty: the node knows only what walks tell it), dials that succeed or
 * fail, peer:discovery, and a DHT whose walks the test scripts.
 */
async function fakeNode (dht: FakeDht, dialOk = true, dialMs = 0): Promise<{ node: any, connected: Set<string>, dialled: string[], events: EventTarget }> {
  const self = await newPeerId()
  const connected = new Set<string>()
  const dialled: string[] = []
  const events = new EventTarget()
  const node = {
    peerId: self,
    getPeers: () => [...connected].map(s => ({ toString: () => s })),
    getConnections: (p: PeerId) => connected.has(p.toString()) ? [{}] : [],
    peerStore: { all: async () => [] },
    addEventListener: events.addEventListener.bind(events),
    removeEventListener: events.removeEventListener.bind(events),
    dial: async (p: PeerId, options: { signal: AbortSignal }) => {
      dialled.push(p.toString())
      if (dialMs > 0) await answerAfter(dialMs, options.signal)
      if (!dialOk) throw Object.assign(new Error('refused'), { name: 'DialError' })
      connected.add(p.toString())
    },
    services: { dht: { routingTable: { size: 1 }, getClosestPeers: (_key: Uint8Array, options: { signal: AbortSignal }) => dht.walk(options.signal) } }
  }
  return { node, connected, dialled, events }
}

/** resolves after ms, or rejects when the signal aborts first (as kad-dht's queries do) */
async function answerAfter (ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason) }, { once: true })
  })
}

/** moves the mock clock on by `ms`, a second at a time, letting the keeper's promises settle after each */
function mockAdvance (t: TestContext): (ms: number) => Promise<void> {
  return async (ms) => {
    for (let i = 0; i < ms / 1000; i++) {
      t.mock.timers.tick(1000)
      for (let j = 0; j < 10; j++) await new Promise(resolve => setImmediate(resolve))
    }
  }
}

describe('peer keeper', () => {
  it('meets the peers a random walk learns when the DHT answers after 11 s and each dial takes 6 s (a busy machine); walks gave up at 10 s, dials at 5 s', { timeout: 30_000 }, async () => {
    const named = [await newPeerId(), await newPeerId()]
    let fake: Awaited<ReturnType<typeof fakeNode>> | undefined
    const dht: FakeDht = {
      async * walk (signal) {
        await answerAfter(11_000, signal)
        // libp2p announces each peer a DHT answer names as peer:discovery
        for (const id of named) fake?.events.dispatchEvent(new CustomEvent('peer:discovery', { detail: { id, multiaddrs: [] } }))
        yield { name: 'PEER_RESPONSE', closer: named.map(id => ({ id, multiaddrs: [] })) }
      }
    }
    fake = await fakeNode(dht, true, 6_000)
    fake.connected.add('bootstrap')
    const keeper = new PeerKeeper({ node: fake.node, targetPeers: 12, log: noLog as any, allowed: () => true, tickMs: 60_000 })
    keeper.start()
    try {
      const deadline = Date.now() + 22_000
      while (fake.connected.size < 3 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
      assert.deepEqual(fake.dialled.sort(), named.map(p => p.toString()).sort(), 'the peers named by the late answer were dialled')
      assert.equal(fake.connected.size, 3, 'and their slow dials were given the time to connect')
    } finally {
      keeper.stop()
    }
  })

  it('bounds a walk that never ends at 30 s, then walks again', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] })
    const walks: AbortSignal[] = []
    const dht: FakeDht = {
      async * walk (signal) {
        walks.push(signal)
        await answerAfter(3_600_000, signal)
        yield { name: 'PEER_RESPONSE', closer: [] }
      }
    }
    const fake = await fakeNode(dht)
    fake.connected.add('bootstrap')
    const keeper = new PeerKeeper({ node: fake.node, targetPeers: 12, log: noLog as any, allowed: () => true, tickMs: 3_000 })
    keeper.start()
    const advance = mockAdvance(t)
    try {
      await advance(1000)
      assert.equal(walks.length, 1)
      await advance(20_000)
      assert.equal(walks[0].aborted, false, 'a walk still waiting at 21 s is not cut off')
      assert.equal(walks.length, 1, 'one walk at a time')
      await advance(12_000)
      assert.equal(walks[0].aborted, true, 'a walk is cut off at 30 s')
      assert.equal(walks.length, 2, 'and the next one starts at the next tick')
    } finally {
      keeper.stop()
    }
  })

  it('a mesh smaller than the target: walks whose answers name only connected peers wait 30 s, then twice as long; a peer leaving brings them back', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] })
    const mesh = [await newPeerId(), await newPeerId()]
    let walks = 0
    const dht: FakeDht = {
      async * walk () {
        walks++
        yield { name: 'PEER_RESPONSE', closer: mesh.map(id => ({ id, multiaddrs: [] })) }
      }
    }
    const fake = await fakeNode(dht)
    for (const id of mesh) fake.connected.add(id.toString())
    const keeper = new PeerKeeper({ node: fake.node, targetPeers: 12, log: noLog as any, allowed: () => true, tickMs: 3_000 })
    const advance = mockAdvance(t)
    keeper.start()
    try {
      await advance(1000)
      assert.equal(walks, 1, 'the first walk at start')
      assert.equal(keeper.walkDelay, 30_000, 'it named only connected peers: the next waits 30 s')
      await advance(27_000)
      assert.equal(walks, 1, 'no walk at the ticks in between')
      await advance(6_000)
      assert.equal(walks, 2, 'the next walk at the first tick after 30 s')
      assert.ok(keeper.walkDelay > 57_000 && keeper.walkDelay <= 60_000, `then 60 s (${keeper.walkDelay})`)
      await advance(30_000)
      assert.equal(walks, 2)
      // a peer leaves: the mesh changed, the next tick walks
      fake.connected.delete(mesh[0].toString())
      fake.events.dispatchEvent(new CustomEvent('peer:disconnect', { detail: mesh[0] }))
      assert.equal(keeper.walkDelay, 0)
      await advance(3_000)
      assert.equal(walks, 3, 'walks again at the next tick')
      // that walk named mesh[0], not connected now: a peer to dial, so the walks go on at every tick
      assert.equal(keeper.walkDelay, 0)
    } finally {
      keeper.stop()
    }
  })

  it('a walk that names a peer to dial keeps the walks going at every tick', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] })
    let walks = 0
    const dht: FakeDht = {
      async * walk () {
        walks++
        yield { name: 'PEER_RESPONSE', closer: [{ id: await newPeerId(), multiaddrs: [] }] }
      }
    }
    // dials fail at once, so the node stays below target and each named peer waits out a backoff after
    const fake = await fakeNode(dht, false)
    fake.connected.add('bootstrap')
    const keeper = new PeerKeeper({ node: fake.node, targetPeers: 12, log: noLog as any, allowed: () => true, tickMs: 3_000 })
    keeper.start()
    try {
      for (let i = 0; i < 10; i++) {
        t.mock.timers.tick(1000)
        for (let j = 0; j < 20; j++) await new Promise(resolve => setImmediate(resolve))
      }
      assert.equal(keeper.walkDelay, 0)
      assert.ok(walks >= 4, `a walk at start and at each of the 3 ticks (${walks})`)
    } finally {
      keeper.stop()
    }
  })

  it('an empty routing table while connected: offers it the connected peers that speak the DHT, at most once a minute', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] })
    const [speaker, other] = [await newPeerId(), await newPeerId()]
    // an empty table: walks start from it, so nobody answers
    const fake = await fakeNode({ async * walk () {} })
    fake.connected.add(speaker.toString())
    fake.connected.add(other.toString())
    fake.node.getPeers = () => [speaker, other]
    const added: string[] = []
    const table = { size: 0, add: async (p: PeerId) => { added.push(p.toString()) } }
    fake.node.services.dht.routingTable = table
    const keeper = new PeerKeeper({ node: fake.node, targetPeers: 12, log: noLog as any, allowed: () => true, tickMs: 3_000, speaksDht: (p: PeerId) => p.equals(speaker) })
    const advance = mockAdvance(t)
    keeper.start()
    try {
      await advance(1000)
      assert.deepEqual(added, [speaker.toString()], 'the peer that speaks the DHT, not the other')
      await advance(30_000)
      assert.equal(added.length, 1, 'not again within the minute, though walks ran at every tick')
      await advance(33_000)
      assert.equal(added.length, 2, 'again once the minute is over, the table still empty')
      table.size = 3
      await advance(63_000)
      assert.equal(added.length, 2, 'a table with peers in it is left alone')
    } finally {
      keeper.stop()
    }
  })

  it('a tick whose peer store read fails (the store closed at stop) logs and does not throw', async () => {
    const fake = await fakeNode({ async * walk () {} })
    fake.node.peerStore.all = async () => { throw new Error('Iterator is not open: cannot read after close()') }
    const errors: string[] = []
    const log = Object.assign(() => {}, { error: (f: string) => { errors.push(f) }, trace: () => {}, enabled: false })
    const keeper = new PeerKeeper({ node: fake.node, targetPeers: 12, log: log as any, allowed: () => true, tickMs: 60_000 })
    keeper.start()
    await keeper.tick()
    assert.equal(errors.length, 2, 'the tick at start and this one each logged')
    assert.match(errors[0], /could not read the peer store/)
    keeper.stop()
  })

  it('starts at most 60 dials a minute, however many peers are discovered and fail', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] })
    const dht: FakeDht = { async * walk () {} }
    const fake = await fakeNode(dht, false)
    fake.connected.add('bootstrap')
    const keeper = new PeerKeeper({ node: fake.node, targetPeers: 1000, log: noLog as any, allowed: () => true, tickMs: 60_000 })
    keeper.start()
    try {
      const peers = await Promise.all(Array.from({ length: 100 }, async () => await newPeerId()))
      for (const id of peers) fake.events.dispatchEvent(new CustomEvent('peer:discovery', { detail: { id, multiaddrs: [] } }))
      for (let j = 0; j < 10; j++) await new Promise(resolve => setImmediate(resolve))
      assert.equal(fake.dialled.length, 60, 'the first minute: 60 dials')
      t.mock.timers.tick(61_000)
      for (const id of peers.slice(60)) fake.events.dispatchEvent(new CustomEvent('peer:discovery', { detail: { id, multiaddrs: [] } }))
      for (let j = 0; j < 10; j++) await new Promise(resolve => setImmediate(resolve))
      assert.equal(fake.dialled.length, 100, 'a minute later the other 40')
    } finally {
      keeper.stop()
    }
  })
})
