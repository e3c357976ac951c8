/**
 * The shaped link of the data-plane benchmark: two network namespaces, the
 * sender's and the receiver's, joined by one veth pair, with a tbf qdisc on
 * both ends (the data's way out of the sender, the ACKs' way out of the
 * receiver), re-rated for each --rates entry. Names start with `dpb-<pid>-`;
 * nothing leaves the pair: a private /30, no default route, IPv6 off, no
 * interface in the root namespace. Needs root, `ip` and `tc`.
 *
 * tbf: rate R; burst one millisecond at R, at least 4 KiB (two full frames:
 * below one frame nothing passes, and the kernel's high-resolution watchdog
 * makes a larger bucket unnecessary; 2.5 KB -> 4 KiB at 20 Mbit/s, 125 KB at
 * 1 Gbit/s); latency 50 ms of queue. A GSO super-packet larger than the burst
 * is cut into MSS-sized segments by tbf itself, and a veth without XDP does
 * no GRO, so at 20 Mbit/s the receiver gets one MSS per packet as on a real
 * link, and reads one packet at a time (measured: 1.5 KB per read, 690 reads
 * per MiB, raw). At 1 Gbit/s the receiver is the slower side and each read
 * finds tens of KiB waiting (52-58 KB per read).
 *
 * Both TCP stacks run in one kernel: the softirq work a packet causes runs
 * in whichever process is on the CPU (this kernel has no
 * CONFIG_IRQ_TIME_ACCOUNTING), so part of one end's kernel work is charged to
 * the other (a write of the receiver's runs the sender's receive path and its
 * next transmit). Steering each namespace's receive processing to its own
 * CPU (RPS) with both ends pinned took 3-5 ms/MiB off a raw receiver's
 * system time at 20 Mbit/s (12-14 -> 8.5-9.5); not done here, to leave the
 * scheduler free on a shared 2-core machine.
 */
import { spawnSync } from 'node:child_process'

const PREFIX = 'dpb-'
const RUN = `${PREFIX}${process.pid}`
const SUBNET = `10.251.${process.pid % 250}`

export interface ShapedLink {
  senderNs: string
  receiverNs: string
  senderIp: string
  receiverIp: string
  /** tbf at this rate on both ends; returns the qdisc lines it set, for the report */
  shape: (mbit: number) => string
  remove: () => void
}

function run (args: string[]): string {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout: 10_000 })
  if (r.error != null || r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.error?.message ?? r.stderr.trim()}`)
  return r.stdout
}

/** why the shaped links cannot run here, or undefined when they can */
export function cannotShape (): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'not root: network namespaces and tbf need root'
  for (const args of [['ip', 'netns', 'list'], ['tc', '-V']]) {
    const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout: 5_000 })
    if (r.error != null || r.status !== 0) return `\`${args.join(' ')}\` failed: ${r.error?.message ?? r.stderr.trim()}`
  }
  return undefined
}

/** namespaces of earlier runs that were killed (their pid is gone) */
export function removeStaleNamespaces (): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5_000 })
  for (const line of list.stdout?.split('\n') ?? []) {
    const m = /^(dpb-(\d+)-[sr])\b/.exec(line)
    if (m == null || Number(m[2]) === process.pid) continue
    try {
      process.kill(Number(m[2]), 0)
    } catch {
      spawnSync('ip', ['netns', 'del', m[1]], { timeout: 5_000 })
    }
  }
}

export function tbfParams (mbit: number): { burst: number, latencyMs: number } {
  return { burst: Math.max(4096, Math.round(mbit * 1e6 / 8 / 1000)), latencyMs: 50 }
}

export function createShapedLink (): ShapedLink {
  const senderNs = `${RUN}-s`
  const receiverNs = `${RUN}-r`
  const link: ShapedLink = {
    senderNs,
    receiverNs,
    senderIp: `${SUBNET}.1`,
    receiverIp: `${SUBNET}.2`,
    shape: (mbit) => {
      const { burst, latencyMs } = tbfParams(mbit)
      const tbf = ['tbf', 'rate', `${mbit}mbit`, 'burst', String(burst), 'latency', `${latencyMs}ms`]
      for (const ns of [senderNs, receiverNs]) run(['tc', '-n', ns, 'qdisc', 'replace', 'dev', 'dpb0', 'root', ...tbf])
      return run(['tc', '-n', senderNs, 'qdisc', 'show', 'dev', 'dpb0']).trim()
    },
    remove: () => {
      for (const ns of [senderNs, receiverNs]) spawnSync('ip', ['netns', 'del', ns], { timeout: 5_000 })
    }
  }
  try {
    for (const ns of [senderNs, receiverNs]) {
      run(['ip', 'netns', 'add', ns])
      run(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])
      run(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
    }
    // both ends are made inside their namespaces: no interface ever appears in the root namespace
    run(['ip', 'link', 'add', 'dpb0', 'netns', senderNs, 'type', 'veth', 'peer', 'name', 'dpb0', 'netns', receiverNs])
    for (const [ns, ip] of [[senderNs, link.senderIp], [receiverNs, link.receiverIp]]) {
      run(['ip', '-n', ns, 'addr', 'add', `${ip}/30`, 'dev', 'dpb0'])
      run(['ip', '-n', ns, 'link', 'set', 'dpb0', 'up'])
      if (run(['ip', '-n', ns, 'route', 'show', 'default']).trim() !== '') throw new Error(`${ns} has a default route`)
    }
  } catch (err) {
    link.remove()
    throw err
  }
  return link
}
