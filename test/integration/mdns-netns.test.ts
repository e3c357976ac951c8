/**
 * mDNS discovery between two hosts, with no bootstrap list: two network
 * namespaces joined by a veth pair, one `umesh node` process in each. The
 * nodes must find each other by multicast DNS alone, a node started with
 * --no-mdns must stay unknown, and nodes of different networks on the same
 * link must not meet.
 *
 * Needs root and `ip netns` (skipped otherwise). Nothing leaves the two
 * namespaces: they get a private test subnet, a multicast route on the veth
 * and no default route; the root namespace is not touched beyond creating
 * and deleting the namespaces.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { CLI_PATH } from '../../src/demo/local-mesh.js'
import { runProcess, startProcess, tempDir, waitFor } from '../helpers/cli.js'
import type { StartedProcess } from '../helpers/cli.js'

const PREFIX = 'umesh-mdns-'
const NS_A = `${PREFIX}a-${process.pid}`
const NS_B = `${PREFIX}b-${process.pid}`
const IF_A = 'umesh-a'
const IF_B = 'umesh-b'
/** a private subnet that exists only inside the two namespaces */
const SUBNET = `10.213.${20 + (process.pid % 200)}`
const ADDR_A = `${SUBNET}.1`
const ADDR_B = `${SUBNET}.2`
/** the daemon's mDNS query interval (src/network/create-node.ts) plus a margin */
const MDNS_ROUND_MS = 6_000

function ip (args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 })
  if (r.error != null || r.status !== 0) {
    throw new Error(`ip ${args.join(' ')} failed: ${r.error?.message ?? r.stderr.trim()}`)
  }
}

function skipReason (): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces'
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5_000 })
  if (list.error != null || list.status !== 0) return `\`ip netns\` is unavailable: ${list.error?.message ?? list.stderr.trim()}`
  const probe = `${PREFIX}probe-${process.pid}`
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8', timeout: 5_000 })
  if (add.error != null || add.status !== 0) return `cannot create a network namespace: ${add.error?.message ?? add.stderr.trim()}`
  spawnSync('ip', ['netns', 'del', probe], { timeout: 5_000 })
  return undefined
}

/** namespaces left behind by a run that was killed (its pid is gone) */
function removeStaleNamespaces (): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5_000 })
  for (const line of list.stdout?.split('\n') ?? []) {
    const m = /^(umesh-mdns-(?:a|b|probe)-(\d+))\b/.exec(line)
    if (m == null || Number(m[2]) === process.pid) continue
    try {
      process.kill(Number(m[2]), 0)
    } catch {
      spawnSync('ip', ['netns', 'del', m[1]], { timeout: 5_000 })
    }
  }
}

function setUpNamespaces (): void {
  ip(['netns', 'add', NS_A])
  ip(['netns', 'add', NS_B])
  // both ends are created inside their namespaces: no interface ever appears in the root namespace
  ip(['link', 'add', IF_A, 'netns', NS_A, 'type', 'veth', 'peer', 'name', IF_B, 'netns', NS_B])
  for (const [ns, dev, addr] of [[NS_A, IF_A, ADDR_A], [NS_B, IF_B, ADDR_B]]) {
    ip(['-n', ns, 'link', 'set', 'lo', 'up'])
    ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev])
    ip(['-n', ns, 'link', 'set', dev, 'up'])
    // without a route for multicast (and with no default route) every mDNS
    // send fails with ENETUNREACH, which multicast-dns swallows silently
    ip(['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev])
  }
}

function removeNamespaces (): void {
  // deleting a namespace deletes its end of the veth, and with it the pair
  for (const ns of [NS_A, NS_B]) spawnSync('ip', ['netns', 'del', ns], { timeout: 5_000 })
}

/** the environment minus any UMESH_* setting, so no bootstrap list or other option sneaks in */
function cleanEnv (): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('UMESH_') && k !== 'DEBUG'))
}

interface Peer { peerId: string, addr: string, direction: string }
interface Status { peerId: string, network: string, peers: Peer[], phases: Array<{ name: string, state: string, detail: string }> }

class NsNode {
  proc?: StartedProcess
  peerId = ''

  constructor (readonly name: string, readonly ns: string, readonly addr: string, readonly dataDir: string, readonly flags: string[]) {
    mkdirSync(dataDir, { recursive: true })
  }

  start (): void {
    this.proc = startProcess(this.name, 'ip', ['netns', 'exec', this.ns, process.execPath, CLI_PATH, 'node',
      '--data-dir', this.dataDir, '--listen', `/ip4/${this.addr}/tcp/0`, ...this.flags], { env: cleanEnv() })
  }

  async ready (): Promise<void> {
    const m = await this.proc!.waitForOutput(/ready: node (\S+) on network/, 20_000)
    this.peerId = m[1]
  }

  /** the daemon's status, asked from inside its namespace */
  async status (): Promise<Status> {
    const r = await runProcess('ip', ['netns', 'exec', this.ns, process.execPath, CLI_PATH, 'status', '--data-dir', this.dataDir, '--json', '--timeout', '3000'],
      { timeoutMs: 8_000, env: cleanEnv() })
    if (r.code !== 0) throw new Error(`status of ${this.name} failed (code ${String(r.code)}): ${r.stderr.trim()}`)
    return JSON.parse(r.stdout) as Status
  }

  async peerIds (): Promise<Set<string>> {
    return new Set((await this.status()).peers.map(p => p.peerId))
  }

  tail (): string {
    return `--- ${this.name} (${this.ns}, ${this.peerId}) ---\n${this.proc?.output().slice(-1500) ?? ''}`
  }
}

const skip = skipReason()
if (skip != null) console.log(`skipping the mDNS network-namespace test: ${skip}`)

test('mDNS discovery between two network namespaces, no bootstrap list', { skip: skip ?? false, timeout: 55_000 }, async (t) => {
  const dir = tempDir('umesh-mdns-')
  const nodes: NsNode[] = []
  t.after(async () => {
    await Promise.all(nodes.map(async n => { await n.proc?.stop(5_000) }))
    removeNamespaces()
    dir.remove()
  })
  removeStaleNamespaces()
  setUpNamespaces()

  const node = (name: string, ns: string, addr: string, flags: string[]): NsNode => {
    const n = new NsNode(name, ns, addr, join(dir.path, name), flags)
    nodes.push(n)
    return n
  }
  const stopAll = async (list: NsNode[]): Promise<void> => { await Promise.all(list.map(async n => { await n.proc?.stop(5_000) })) }
  const diagnostics = (list: NsNode[]): string => list.map(n => n.tail()).join('\n')

  await t.test('two nodes find each other by mDNS alone; a --no-mdns node stays unknown', async () => {
    const a = node('a', NS_A, ADDR_A, ['--mdns', '--log-level', 'info'])
    const b = node('b', NS_B, ADDR_B, ['--mdns', '--log-level', 'info'])
    const quiet = node('b-quiet', NS_B, ADDR_B, ['--no-mdns', '--log-level', 'info'])
    const group = [a, b, quiet]
    try {
      for (const n of group) n.start()
      await Promise.all(group.map(async n => { await n.ready() }))
      const readyAt = Date.now()

      // the only way in: neither has a bootstrap peer
      for (const n of [a, b]) {
        const s = await n.status()
        const phase = s.phases.find(p => p.name === 'bootstrap')
        assert.equal(phase?.state, 'skipped', `${n.name} has a bootstrap phase that ran: ${JSON.stringify(phase)}`)
        assert.match(phase?.detail ?? '', /no bootstrap peers configured/)
      }

      const views = await waitFor('a and b to list each other as peers', async () => {
        const [sa, sb] = await Promise.all([a.status(), b.status()])
        const ok = sa.peers.some(p => p.peerId === b.peerId) && sb.peers.some(p => p.peerId === a.peerId)
        return ok ? { sa, sb } : undefined
      }, 30_000, 500).catch(err => { throw new Error(`${(err as Error).message}\n${diagnostics(group)}`) })
      t.diagnostic(`a and b connected ${Date.now() - readyAt} ms after all were ready`)

      // the connection runs over the veth, between the namespace addresses
      const bSeenByA = views.sa.peers.find(p => p.peerId === b.peerId)!
      const aSeenByB = views.sb.peers.find(p => p.peerId === a.peerId)!
      assert.ok(bSeenByA.addr.startsWith(`/ip4/${ADDR_B}/tcp/`), `a reaches b at ${bSeenByA.addr}`)
      assert.ok(aSeenByB.addr.startsWith(`/ip4/${ADDR_A}/tcp/`), `b reaches a at ${aSeenByB.addr}`)

      // the node without mDNS is as reachable as b, but nobody learns of it
      // and it learns of nobody, even after a full mDNS query round
      const wait = readyAt + MDNS_ROUND_MS - Date.now()
      if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
      const [pa, pb, pq] = await Promise.all([a.peerIds(), b.peerIds(), quiet.peerIds()])
      assert.ok(!pa.has(quiet.peerId), 'a found the --no-mdns node')
      assert.ok(!pb.has(quiet.peerId), 'b found the --no-mdns node')
      assert.ok(!pq.has(a.peerId) && !pq.has(b.peerId), `the --no-mdns node found a peer: ${[...pq].join(', ')}`)
      assert.ok(pa.has(b.peerId) && pb.has(a.peerId), 'a and b lost each other')
    } finally {
      await stopAll(group)
    }
  })

  await t.test('nodes of different networks on the same link do not meet', async () => {
    // two networks, each with a node on both sides of the link: each pair
    // must connect (mDNS works for both tags) and never cross over
    const group = [
      node('beta-a', NS_A, ADDR_A, ['--mdns', '--network', 'beta', '--log-level', 'debug']),
      node('gamma-a', NS_A, ADDR_A, ['--mdns', '--network', 'gamma', '--log-level', 'debug']),
      node('beta-b', NS_B, ADDR_B, ['--mdns', '--network', 'beta', '--log-level', 'debug']),
      node('gamma-b', NS_B, ADDR_B, ['--mdns', '--network', 'gamma', '--log-level', 'debug'])
    ]
    const [betaA, gammaA, betaB, gammaB] = group
    const networkOf = new Map<string, string>()
    try {
      for (const n of group) n.start()
      await Promise.all(group.map(async n => { await n.ready() }))
      const readyAt = Date.now()
      for (const n of group) networkOf.set(n.peerId, n.name.split('-')[0])

      const crossings = (views: Array<Set<string>>): string[] => views.flatMap((peers, i) =>
        [...peers].filter(p => networkOf.has(p) && networkOf.get(p) !== networkOf.get(group[i].peerId)).map(p => `${group[i].name} -> ${p}`))

      const crossed: string[] = []
      await waitFor('each network\'s pair to connect', async () => {
        const views = await Promise.all(group.map(async n => await n.peerIds()))
        crossed.push(...crossings(views))
        const [vBetaA, vGammaA, vBetaB, vGammaB] = views
        return vBetaA.has(betaB.peerId) && vBetaB.has(betaA.peerId) && vGammaA.has(gammaB.peerId) && vGammaB.has(gammaA.peerId)
      }, 30_000, 500).catch(err => { throw new Error(`${(err as Error).message}\n${diagnostics(group)}`) })
      t.diagnostic(`both pairs connected ${Date.now() - readyAt} ms after all were ready`)
      assert.deepEqual(crossed, [], 'nodes of different networks connected')

      // after a full query round, still no crossing
      const wait = readyAt + MDNS_ROUND_MS - Date.now()
      if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
      const views = await Promise.all(group.map(async n => await n.peerIds()))
      assert.deepEqual(crossings(views), [], 'nodes of different networks connected')
      for (const n of group) {
        assert.ok(n.proc!.running(), `${n.name} exited:\n${n.tail()}`)
        // mDNS itself kept the networks apart: the network guard, which hangs
        // up on a peer of another network after identify, never had to act on a node
        const hungUp = group.filter(o => n.proc!.output().includes(`hanging up on ${o.peerId}`)).map(o => o.name)
        assert.deepEqual(hungUp, [], `${n.name} dialled and hung up on nodes of another network`)
      }
    } finally {
      await stopAll(group)
    }
  })
})
