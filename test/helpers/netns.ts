/**
 * A capped network of Linux network namespaces for integration tests: a
 * bridge in its own namespace and one namespace per host, each joined to the
 * bridge by a veth pair with a tbf cap on both ends (the host's upload and
 * its download). Nothing leaves the namespaces: a private test subnet, no
 * default route, IPv6 off, no interface in the root namespace; the bridge
 * has no address. Needs root, `ip netns` and `tc` (skipReason says why not).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'

let PREFIX = 'umesh-swarm-'
let RUN = `${PREFIX}${process.pid}`
let BRIDGE_NS = `${RUN}-br`

/**
 * Names this process's namespaces `<prefix><pid>-...` instead of
 * `umesh-swarm-<pid>-...` (call before anything else here), so each test
 * file's namespaces are its own and removeStaleNamespaces clears only its kind.
 */
export function useNamespacePrefix (prefix: string): void {
  assert.match(prefix, /^[a-z][a-z0-9-]{1,15}-$/, 'a short lowercase prefix ending in -')
  PREFIX = prefix
  RUN = `${PREFIX}${process.pid}`
  BRIDGE_NS = `${RUN}-br`
}
/** a private subnet that exists only inside the namespaces */
const SUBNET = `10.214.${20 + (process.pid % 200)}`
/** every host's link, both ways */
const LINK_RATE = '16mbit'

export const hostNs = (host: number): string => `${RUN}-h${host}`
export const hostAddr = (host: number): string => `${SUBNET}.${host + 1}`

function run (cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 })
  if (r.error != null || r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr.trim()}`)
  }
  return r.stdout
}

export function skipReason (): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces'
  for (const [cmd, args] of [['ip', ['netns', 'list']], ['tc', ['-V']]] as Array<[string, string[]]>) {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5_000 })
    if (r.error != null || r.status !== 0) return `\`${cmd}\` is unavailable: ${r.error?.message ?? r.stderr.trim()}`
  }
  const probe = `${RUN}-probe`
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8', timeout: 5_000 })
  if (add.error != null || add.status !== 0) return `cannot create a network namespace: ${add.error?.message ?? add.stderr.trim()}`
  spawnSync('ip', ['netns', 'del', probe], { timeout: 5_000 })
  return undefined
}

/** namespaces left behind by a run that was killed (its pid is gone); processes still in them are not touched */
export function removeStaleNamespaces (): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5_000 })
  for (const line of list.stdout?.split('\n') ?? []) {
    const m = new RegExp(`^(${PREFIX}(\\d+)-(?:br|h\\d+|probe))\\b`).exec(line)
    if (m == null || Number(m[2]) === process.pid) continue
    try {
      process.kill(Number(m[2]), 0)
    } catch {
      spawnSync('ip', ['netns', 'del', m[1]], { timeout: 5_000 })
    }
  }
}

function ourNamespaces (): string[] {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5_000 })
  return (list.stdout ?? '').split('\n').map(l => l.split(' ')[0]).filter(n => n.startsWith(`${RUN}-`))
}

function noIpv6 (ns: string): void {
  run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])
}

/** a bridge namespace and one namespace per host, each host capped at LINK_RATE both ways */
export function setUpNetwork (hosts: number[]): void {
  run('ip', ['netns', 'add', BRIDGE_NS])
  noIpv6(BRIDGE_NS)
  run('ip', ['-n', BRIDGE_NS, 'link', 'set', 'lo', 'up'])
  run('ip', ['-n', BRIDGE_NS, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'])
  run('ip', ['-n', BRIDGE_NS, 'link', 'set', 'br0', 'up'])
  for (const host of hosts) {
    const ns = hostNs(host)
    run('ip', ['netns', 'add', ns])
    noIpv6(ns)
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
    // both ends are made inside their namespaces: no interface ever appears in the root namespace
    run('ip', ['link', 'add', `vh${host}`, 'netns', BRIDGE_NS, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
    run('ip', ['-n', BRIDGE_NS, 'link', 'set', `vh${host}`, 'master', 'br0'])
    run('ip', ['-n', BRIDGE_NS, 'link', 'set', `vh${host}`, 'up'])
    run('ip', ['-n', ns, 'addr', 'add', `${hostAddr(host)}/24`, 'dev', 'eth0'])
    run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up'])
    // the host's upload (eth0 egress) and its download (the bridge port's egress)
    run('tc', ['-n', ns, 'qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', LINK_RATE, 'burst', '32kbit', 'latency', '400ms'])
    run('tc', ['-n', BRIDGE_NS, 'qdisc', 'add', 'dev', `vh${host}`, 'root', 'tbf', 'rate', LINK_RATE, 'burst', '32kbit', 'latency', '400ms'])
  }
  for (const ns of [BRIDGE_NS, ...hosts.map(hostNs)]) {
    assert.equal(run('ip', ['-n', ns, 'route', 'show', 'default']).trim(), '', `${ns} has a default route`)
    assert.equal(run('ip', ['-n', ns, '-6', 'addr', 'show']).trim(), '', `${ns} has IPv6 addresses`)
  }
}

export function removeNetwork (): void {
  // deleting a namespace deletes its veth ends, and with them the pairs
  for (const ns of ourNamespaces()) spawnSync('ip', ['netns', 'del', ns], { timeout: 5_000 })
}

/** bytes a host sent on its link (its eth0's tx counter: chunk data plus every protocol's overhead) */
export function hostTxBytes (host: number): number {
  const [link] = JSON.parse(run('ip', ['-n', hostNs(host), '-s', '-j', 'link', 'show', 'dev', 'eth0'])) as Array<{ stats64: { tx: { bytes: number } } }>
  return link.stats64.tx.bytes
}

/** the same, counted on the bridge side (what the bridge port received from the host) */
export function bridgeRxBytes (host: number): number {
  const [link] = JSON.parse(run('ip', ['-n', BRIDGE_NS, '-s', '-j', 'link', 'show', 'dev', `vh${host}`])) as Array<{ stats64: { rx: { bytes: number } } }>
  return link.stats64.rx.bytes
}

/** runs `cmd args` inside a host's namespace (as root), e.g. iptables; throws with its stderr when it fails */
export function hostExec (host: number, cmd: string, args: string[]): string {
  return run('ip', ['netns', 'exec', hostNs(host), cmd, ...args])
}

/** why iptables cannot be used inside a namespace here, or undefined when it can (call after skipReason) */
export function iptablesSkipReason (): string | undefined {
  const probe = `${RUN}-probe`
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8', timeout: 5_000 })
  if (add.error != null || add.status !== 0) return `cannot create a network namespace: ${add.error?.message ?? add.stderr.trim()}`
  try {
    const r = spawnSync('ip', ['netns', 'exec', probe, 'iptables', '-A', 'INPUT', '-m', 'statistic', '--mode', 'random', '--probability', '0.05', '-j', 'DROP'], { encoding: 'utf8', timeout: 5_000 })
    if (r.error != null || r.status !== 0) return `iptables does not work in a namespace: ${r.error?.message ?? r.stderr.trim()}`
    return undefined
  } finally {
    spawnSync('ip', ['netns', 'del', probe], { timeout: 5_000 })
  }
}
