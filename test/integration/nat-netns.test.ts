/**
 * NAT traversal on a real network of namespaces (test/helpers/nat-net.ts):
 * a public segment with a bootstrap node (which runs the relay service) and
 * a publisher, and two sites, each a LAN of two nodes behind its own NAT
 * router (MASQUERADE); the uplinks capped below the LANs.
 *
 * - AutoNAT: the public nodes confirm each other's addresses (reachable);
 *   every node behind NAT finds itself unreachable and reserves a slot on
 *   the bootstrap node's relay, advertising the relayed address;
 * - the publisher publishes a 4 MiB release; the first node of each site
 *   fetches it across its uplink, the second (started once the first holds
 *   it, its site peer in its bootstrap list, mDNS on) from its site peer:
 *   every chunk of every node verified, the bytes per peer shown, at least
 *   half of each site's bytes site-local, no chunk byte over a relay;
 * - a node of one site reaches a node of the other through the relay
 *   (`umesh status --peer <relayed address>`);
 * - the relayed connections between the daemons and how many a direct
 *   connection followed (hole punching) are reported, not asserted: two
 *   MASQUERADE NATs and TCP without a shared listen/dial port leave DCUtR
 *   nothing to punch with.
 *
 * Needs root, `ip`, `tc` and `iptables` (skipped otherwise, with the reason).
 * NAT_NETNS_LOGS=DIR keeps every daemon's output there.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { pseudoRandomBytes } from '../../src/util/pseudo-random.js'
import { runCli, tempDir, waitFor } from '../helpers/cli.js'
import { NatNode, removeNatNet, removeStaleNamespaces, setUpNatNet, skipReason, statusAt } from '../helpers/nat-net.js'
import { cleanEnv } from '../helpers/netns-node.js'
import { assertHoldsContent, publishRelease, verifiedChunks } from '../helpers/swarm-release.js'
import type { NatNet } from '../helpers/nat-net.js'
import type { Release } from '../helpers/swarm-release.js'

const MiB = 1024 * 1024
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(2)} MiB`

const skip = skipReason()
if (skip != null) console.log(`skipping the NAT traversal network-namespace test: ${skip}`)

describe('NAT traversal: two sites behind NAT, a public bootstrap relay and a publisher', { skip: skip ?? false, timeout: 120_000 }, () => {
  const tmp = tempDir('umesh-nat-netns-')
  const repoDir = join(tmp.path, 'repo')
  const all: NatNode[] = []
  let net: NatNet
  let bootstrap: NatNode
  let publisher: NatNode
  /** per site: its first and its second node */
  const sites: NatNode[][] = []
  let app: Release

  const daemon = async (name: string, host: { ns: string, ip: string }, command: 'node' | 'bootstrap', flags: string[]): Promise<NatNode> => {
    const n = await new NatNode(name, host.ns, host.ip, join(tmp.path, name), command, flags, process.env.NAT_NETNS_DEBUG != null ? { DEBUG: process.env.NAT_NETNS_DEBUG } : {}).init()
    all.push(n)
    return n
  }
  const diagnostics = (): string => all.map(n => n.tail()).join('\n')
  const nameOf = (peerId: string): string => all.find(n => n.peerId === peerId)?.name ?? peerId.slice(-8)

  before(async () => {
    removeStaleNamespaces()
    net = setUpNatNet(2, 2)
    const init = await runCli(['repo', 'init', '--repo', repoDir], { env: cleanEnv() })
    assert.equal(init.code, 0, init.stderr)
    app = await publishRelease(repoDir, tmp.path, 'app', '1.0.0', {
      'data/a.bin': pseudoRandomBytes(3 * MiB, 21),
      'data/b.bin': pseudoRandomBytes(1 * MiB, 22)
    })
    bootstrap = await daemon('bootstrap', net.bootstrap, 'bootstrap', ['--no-mdns'])
    publisher = await daemon('publisher', net.publisher, 'node', ['--no-mdns', '--repo', repoDir, '--announce-interval', '5'])
    publisher.flags.push('--bootstrap-peer', bootstrap.addr)
    // the bootstrap list names the public nodes: the bootstrap node and the publisher
    const follow = ['--trusted-root', join(repoDir, 'metadata', '1.root.json'), '--follow', 'app', '--check-interval', '5', '--bootstrap-peer', bootstrap.addr, '--bootstrap-peer', publisher.addr]
    for (const site of net.sites) {
      // mDNS on: it stays on the site's LAN (the router does not forward multicast)
      sites.push(await Promise.all(site.hosts.map(async (h, i) => await daemon(`${site.name}${i + 1}`, h, 'node', follow))))
    }
    bootstrap.start()
    await bootstrap.ready()
    publisher.start()
    await publisher.ready()
  })

  after(async () => {
    await Promise.all(all.map(async n => { await n.stop() }))
    const logs = process.env.NAT_NETNS_LOGS
    if (logs != null && logs !== '') {
      mkdirSync(logs, { recursive: true })
      for (const n of all) writeFileSync(join(logs, `${n.name}.log`), n.proc?.output() ?? '')
    }
    removeNatNet()
    tmp.remove()
  })

  it('AutoNAT: the public nodes confirm each other\'s addresses', async (t) => {
    for (const n of [bootstrap, publisher]) {
      await waitFor(`${n.name} reachable`, async () => (await n.status()).nat?.reachability === 'reachable', 20_000, 500)
        .catch(err => { throw new Error(`${(err as Error).message}\n${diagnostics()}`) })
      const s = await n.status()
      t.diagnostic(`${n.name}: ${s.nat.reachability}, public ${s.nat.publicAddrs.join(' ')}, relay service ${String(s.nat.relayService)}`)
    }
    assert.equal((await bootstrap.status()).nat.relayService, true, 'a bootstrap node relays by default')
    assert.equal((await publisher.status()).nat.relayService, false, 'an ordinary node does not')
  })

  it('the first node of each site: unreachable, a relay slot on the bootstrap node, the release fetched across the uplink', async (t) => {
    for (const [first] of sites) first.start()
    await Promise.all(sites.map(async ([first]) => { await first.ready() }))
    for (const [first] of sites) {
      await waitFor(`${first.name} unreachable with a relayed address`, async () => {
        const s = await first.status()
        return s.nat?.reachability === 'unreachable' && s.nat.relayAddrs.length > 0
      }, 20_000, 500).catch(err => { throw new Error(`${(err as Error).message}\n${diagnostics()}`) })
      const s = await first.status()
      assert.ok(s.nat.relayAddrs.every((a: string) => a.includes(`/p2p/${bootstrap.peerId}/p2p-circuit`)), `relayed through the bootstrap node: ${s.nat.relayAddrs.join(' ')}`)
      t.diagnostic(`${first.name}: ${s.nat.reachability}, relayed address ${s.nat.relayAddrs[0]}`)
    }
    assert.ok((await bootstrap.status()).nat.relayReservations >= 2, 'the bootstrap node holds a slot for each site\'s first node')
    await waitFor('the first node of each site holding app 1.0.0', () => sites.every(([first]) => first.held().includes(app.targetPath)), 45_000, 200)
      .catch(err => { throw new Error(`${(err as Error).message}\n${diagnostics()}`) })
  })

  it('the second node of each site fetches from its site peer: at least half of each site\'s bytes are site-local', async (t) => {
    // the site peer is in its bootstrap list too: by mDNS alone it was found about a second after the
    // fetch began, and 0.7 of 4 MiB had come from the publisher by then
    for (const [first, second] of sites) second.flags.push('--bootstrap-peer', `/ip4/${first.ip}/tcp/4090/p2p/${first.peerId}`)
    for (const [, second] of sites) second.start()
    await waitFor('every node behind NAT holding app 1.0.0', () => sites.flat().every(n => n.held().includes(app.targetPath)), 45_000, 200)
      .catch(err => { throw new Error(`${(err as Error).message}\n${diagnostics()}`) })
    for (const [i, site] of sites.entries()) {
      let local = 0
      let total = 0
      for (const n of site) {
        const chunks = verifiedChunks(n.chunksDir, app)
        assert.deepEqual(chunks.bad, [], `${n.name} stored chunks that do not hash to their CIDs`)
        assert.equal(chunks.count, app.pieces.length, `${n.name} holds every chunk, each verified`)
        assertHoldsContent(n as any, app)
        const s = await n.status()
        assert.equal(s.nat.reachability, 'unreachable', `${n.name} is behind NAT`)
        const sources: Array<{ peerId: string, bytes: number, link: string }> = s.bandwidth.sources
        for (const src of sources) {
          total += src.bytes
          if (src.link === 'local') local += src.bytes
          assert.notEqual(src.link, 'relayed', `${n.name} took ${src.bytes} chunk bytes from ${nameOf(src.peerId)} over a relay`)
        }
        t.diagnostic(`${n.name} fetched from: ${sources.map(src => `${nameOf(src.peerId)} (${src.link}) ${mib(src.bytes)}`).join(', ')}`)
      }
      t.diagnostic(`site ${net.sites[i].name}: ${mib(local)} site-local of ${mib(total)} (release ${mib(app.bytes)})`)
      assert.ok(local * 2 >= total, `site ${net.sites[i].name}: ${local} site-local bytes of ${total}`)
    }
  })

  it('a node of one site reaches a node of the other through the relay', async (t) => {
    const [a1] = sites[0]
    const [, b2] = sites[1]
    const relayed = (await a1.status()).nat.relayAddrs[0] as string
    const answer = await statusAt(b2.ns, ['--peer', relayed.endsWith(`/p2p/${a1.peerId}`) ? relayed : `${relayed}/p2p/${a1.peerId}`])
    assert.equal(answer.peerId, a1.peerId, 'the status answer came from the node behind the other NAT')
    const after = await a1.status()
    assert.ok(after.nat.relayedOpened >= 1, 'the node behind NAT saw a relayed connection')
    t.diagnostic(`${b2.name} asked ${a1.name} for its status through ${relayed}`)
    // reported, not asserted: whether the daemons met through the relay, and whether hole punching made it direct
    let opened = 0
    let upgraded = 0
    for (const n of all) {
      const s = await n.status()
      opened += s.nat.relayedOpened
      upgraded += s.nat.upgradedDirect
      const relayedPeers = s.peers.filter((p: { relayed?: boolean }) => p.relayed === true).map((p: { peerId: string }) => nameOf(p.peerId))
      if (s.nat.relayedOpened > 0 || relayedPeers.length > 0) t.diagnostic(`${n.name}: ${s.nat.relayedOpened} relayed connections opened, ${s.nat.upgradedDirect} followed by a direct one; relayed now: ${relayedPeers.join(', ') || '-'}`)
    }
    t.diagnostic(`hole punching: ${upgraded} of ${opened} relayed connections (counted at both ends) were followed by a direct connection`)
  })
})
