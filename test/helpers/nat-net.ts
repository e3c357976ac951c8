/**
 * Two sites behind NAT and a public segment, made of Linux network
 * namespaces, for the NAT traversal test:
 *
 *   public segment (a bridge): the bootstrap node, the publisher, and each
 *   site's router on its public side; each site: a LAN bridge, two hosts
 *   whose default route is the site's router, which masquerades what leaves
 *   its public side (iptables MASQUERADE, ip_forward on) and forwards from
 *   the public side into the LAN only what belongs to a connection the LAN
 *   opened. Public hosts have no route into the LANs.
 *
 * Every link is capped with tbf both ways: the site uplinks (a router's
 * public side) slower than the LANs, so bytes matter. The public segment
 * uses addresses libp2p counts as public (AutoNAT ignores private ones); it
 * exists only inside the namespaces: no interface in the root namespace, no
 * default route on any public host, IPv6 off, so nothing leaves the machine.
 * Namespaces are named `umesh-nat-<pid>-*`; stale ones of a dead run are
 * removed first. Needs root, `ip`, `tc` and `iptables` (skipReason says why not).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CLI_PATH } from '../../src/demo/local-mesh.js'
import { createIdentity } from '../../src/identity/index.js'
import { runProcess, startProcess } from './cli.js'
import { cleanEnv } from './netns-node.js'
import type { StartedProcess } from './cli.js'

const PREFIX = 'umesh-nat-'
const RUN = `${PREFIX}${process.pid}`
const N = 20 + (process.pid % 200)
/** the public segment: not a private range (AutoNAT would skip it), and reachable from nowhere but these namespaces */
export const PUBLIC_NET = `11.77.${N}`
export const PORT = 4090
const PUBLIC_RATE = '16mbit'
const UPLINK_RATE = '8mbit'
const LAN_RATE = '32mbit'

export interface Site {
  name: string
  /** the LAN's /24 prefix, e.g. 10.201.x */
  lan: string
  routerNs: string
  /** the router's public address */
  publicIp: string
  hosts: Array<{ ns: string, ip: string }>
}

export interface NatNet {
  bootstrap: { ns: string, ip: string }
  publisher: { ns: string, ip: string }
  sites: Site[]
}

function run (cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 })
  if (r.error != null || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr.trim()}`)
  return r.stdout
}

export function skipReason (): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces and NAT routers'
  for (const [cmd, args] of [['ip', ['netns', 'list']], ['tc', ['-V']], ['iptables', ['-V']]] as Array<[string, string[]]>) {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5_000 })
    if (r.error != null || r.status !== 0) return `\`${cmd}\` is unavailable: ${r.error?.message ?? r.stderr.trim()}`
  }
  const probe = `${RUN}-probe`
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8', timeout: 5_000 })
  if (add.error != null || add.status !== 0) return `cannot create a network namespace: ${add.error?.message ?? add.stderr.trim()}`
  const nat = spawnSync('ip', ['netns', 'exec', probe, 'iptables', '-t', 'nat', '-L'], { encoding: 'utf8', timeout: 5_000 })
  spawnSync('ip', ['netns', 'del', probe], { timeout: 5_000 })
  if (nat.error != null || nat.status !== 0) return `iptables' nat table does not work in a namespace: ${nat.error?.message ?? nat.stderr.trim()}`
  return undefined
}

function namespaces (): string[] {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5_000 })
  return (list.stdout ?? '').split('\n').map(l => l.split(' ')[0]).filter(n => n.startsWith(PREFIX))
}

/** namespaces of a run whose process is gone */
export function removeStaleNamespaces (): void {
  for (const ns of namespaces()) {
    const pid = Number(/^umesh-nat-(\d+)-/.exec(ns)?.[1])
    if (!Number.isInteger(pid) || pid === process.pid) continue
    try {
      process.kill(pid, 0)
    } catch {
      spawnSync('ip', ['netns', 'del', ns], { timeout: 5_000 })
    }
  }
}

export function removeNatNet (): void {
  for (const ns of namespaces().filter(n => n.startsWith(`${RUN}-`))) spawnSync('ip', ['netns', 'del', ns], { timeout: 5_000 })
}

function addNs (ns: string): void {
  run('ip', ['netns', 'add', ns])
  run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])
  run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
}

function addBridge (ns: string): void {
  addNs(ns)
  run('ip', ['-n', ns, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'])
  run('ip', ['-n', ns, 'link', 'set', 'br0', 'up'])
}

let ports = 0
/** joins `ns` to the bridge in `bridgeNs` as interface `dev` with `ip`/24, capped at `rate` both ways */
function join2 (bridgeNs: string, ns: string, dev: string, ip: string, rate: string): void {
  const port = `p${ports++}`
  // both ends are made inside their namespaces: no interface ever appears in the root namespace
  run('ip', ['link', 'add', port, 'netns', bridgeNs, 'type', 'veth', 'peer', 'name', dev, 'netns', ns])
  run('ip', ['-n', bridgeNs, 'link', 'set', port, 'master', 'br0'])
  run('ip', ['-n', bridgeNs, 'link', 'set', port, 'up'])
  run('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', dev])
  run('ip', ['-n', ns, 'link', 'set', dev, 'up'])
  run('tc', ['-n', ns, 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', rate, 'burst', '32kbit', 'latency', '400ms'])
  run('tc', ['-n', bridgeNs, 'qdisc', 'add', 'dev', port, 'root', 'tbf', 'rate', rate, 'burst', '32kbit', 'latency', '400ms'])
}

/** the public segment with the bootstrap host and the publisher host, and `sites` sites of `perSite` hosts each */
export function setUpNatNet (sites = 2, perSite = 2): NatNet {
  const pubBr = `${RUN}-pub`
  addBridge(pubBr)
  const bootstrap = { ns: `${RUN}-boot`, ip: `${PUBLIC_NET}.1` }
  const publisher = { ns: `${RUN}-publ`, ip: `${PUBLIC_NET}.2` }
  for (const h of [bootstrap, publisher]) {
    addNs(h.ns)
    join2(pubBr, h.ns, 'eth0', h.ip, PUBLIC_RATE)
  }
  const made: Site[] = []
  for (let s = 0; s < sites; s++) {
    const name = String.fromCharCode(97 + s)
    const lan = `10.${201 + s}.${N}`
    const lanBr = `${RUN}-lan${name}`
    const routerNs = `${RUN}-r${name}`
    const publicIp = `${PUBLIC_NET}.${11 + s}`
    addBridge(lanBr)
    addNs(routerNs)
    join2(pubBr, routerNs, 'wan', publicIp, UPLINK_RATE)
    join2(lanBr, routerNs, 'lan', `${lan}.1`, LAN_RATE)
    run('ip', ['netns', 'exec', routerNs, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'])
    const ipt = (...args: string[]): string => run('ip', ['netns', 'exec', routerNs, 'iptables', ...args])
    ipt('-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE')
    ipt('-A', 'FORWARD', '-i', 'wan', '-o', 'lan', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT')
    ipt('-A', 'FORWARD', '-i', 'wan', '-o', 'lan', '-j', 'DROP')
    const hosts: Site['hosts'] = []
    for (let h = 0; h < perSite; h++) {
      const host = { ns: `${RUN}-${name}${h + 1}`, ip: `${lan}.${h + 2}` }
      addNs(host.ns)
      join2(lanBr, host.ns, 'eth0', host.ip, LAN_RATE)
      run('ip', ['-n', host.ns, 'route', 'add', 'default', 'via', `${lan}.1`])
      hosts.push(host)
    }
    made.push({ name, lan, routerNs, publicIp, hosts })
  }
  // public hosts and routers have no default route: nothing can leave the namespaces
  for (const ns of [pubBr, bootstrap.ns, publisher.ns, ...made.map(s => s.routerNs)]) {
    assert.equal(run('ip', ['-n', ns, 'route', 'show', 'default']).trim(), '', `${ns} has a default route`)
  }
  return { bootstrap, publisher, sites: made }
}

/** one daemon (`umesh node` or `umesh bootstrap`) in a namespace */
export class NatNode {
  proc?: StartedProcess
  peerId = ''

  constructor (readonly name: string, readonly ns: string, readonly ip: string, readonly dataDir: string, readonly command: 'node' | 'bootstrap', readonly flags: string[], readonly env: NodeJS.ProcessEnv = {}) {}

  get addr (): string { return `/ip4/${this.ip}/tcp/${PORT}/p2p/${this.peerId}` }
  get chunksDir (): string { return join(this.dataDir, 'chunks') }

  async init (): Promise<this> {
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 })
    this.peerId = (await createIdentity(this.dataDir)).peerId.toString()
    return this
  }

  start (): void {
    this.proc = startProcess(this.name, 'ip', ['netns', 'exec', this.ns, process.execPath, CLI_PATH, this.command,
      '--data-dir', this.dataDir, '--listen', `/ip4/${this.ip}/tcp/${PORT}`, '--log-level', 'info', ...this.flags],
    { env: cleanEnv(this.env) })
  }

  async ready (): Promise<void> {
    const m = await this.proc!.waitForOutput(/ready: (?:node|bootstrap) (\S+) on network/, 30_000)
    assert.equal(m[1], this.peerId)
  }

  /**
   * `umesh status --json` of this daemon, from inside its namespace, by its
   * listen address: --data-dir reads the addresses the daemon advertises,
   * and libp2p advertises a public one only once AutoNAT confirmed it
   */
  async status (): Promise<any> {
    return await statusAt(this.ns, ['--peer', this.addr, '--network', 'umesh'])
  }

  held (): string[] {
    try {
      return (JSON.parse(readFileSync(join(this.dataDir, 'held.json'), 'utf8')) as { releases: string[] }).releases
    } catch {
      return []
    }
  }

  async stop (): Promise<void> {
    await this.proc?.stop(5_000)
  }

  tail (chars = 2500): string {
    return `--- ${this.name} (${this.ns}, ${this.peerId}) ---\n${(this.proc?.output() ?? '').slice(-chars)}`
  }
}

/** `umesh status --json` run in namespace `ns` with `target` (--data-dir DIR, or --peer MA) */
export async function statusAt (ns: string, target: string[], timeoutMs = 8_000): Promise<any> {
  const r = await runProcess('ip', ['netns', 'exec', ns, process.execPath, CLI_PATH, 'status', ...target, '--json', '--timeout', String(timeoutMs)],
    { timeoutMs: timeoutMs + 5_000, env: cleanEnv() })
  if (r.code !== 0) throw new Error(`umesh status ${target.join(' ')} in ${ns} failed (code ${String(r.code)}): ${r.stderr.trim()}`)
  return JSON.parse(r.stdout)
}
