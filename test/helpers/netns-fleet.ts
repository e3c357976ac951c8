/**
 * A fleet for the fault tests (partition, loss, churn): a bridge of host
 * namespaces (test/helpers/netns.ts), a publisher on host 0 that also
 * coordinates rollouts, and nodes on hosts 1..n that follow and install
 * `app` (a health-checked release from install-fixture, plus a large file
 * so a transfer takes a while). Each node knows the publisher and every
 * other node from the start. What the tests judge is read from disk, from
 * the root namespace, without asking a daemon: the install journal and
 * history, the trusted timestamp, held.json, and the coordinator's state
 * through `umesh rollout status --json`.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pseudoRandomBytes } from '../../src/util/pseudo-random.js'
import { runCli, tempDir, waitFor } from './cli.js'
import { releaseSource } from './install-fixture.js'
import { hostAddr, removeNetwork, removeStaleNamespaces, setUpNetwork, useNamespacePrefix } from './netns.js'
import { NsNode, cleanEnv } from './netns-node.js'
import type { HistoryEntry, InstallState } from '../../src/install/types.js'

const MiB = 1024 * 1024

export interface FleetInit {
  /** namespace prefix of this test file, e.g. `umesh-part-` */
  prefix: string
  nodes: number
  /** extra flags of every node */
  nodeFlags?: string[]
  /** install settings (default: health-checked, autoUpdate) */
  install?: boolean
  /** the first version, rolled out to everyone before the nodes start (installs only) */
  firstVersion?: string
}

export class NsFleet {
  readonly tmp = tempDir('umesh-fleet-')
  readonly repoDir = join(this.tmp.path, 'repo')
  publisher!: NsNode
  readonly nodes: NsNode[] = []
  private published = 0

  constructor (readonly init: FleetInit) {
    useNamespacePrefix(init.prefix)
  }

  get all (): NsNode[] { return [this.publisher, ...this.nodes] }
  get hosts (): number[] { return Array.from({ length: this.init.nodes + 1 }, (_, i) => i) }

  /** the namespaces, the repository (with the first release and, when installing, its rollout to everyone), the daemons, ready */
  async start (): Promise<void> {
    removeStaleNamespaces()
    setUpNetwork(this.hosts)
    const init = await runCli(['repo', 'init', '--repo', this.repoDir], { env: cleanEnv() })
    assert.equal(init.code, 0, init.stderr)
    const first = this.init.firstVersion ?? '1.0.0'
    await this.publish(first)
    if (this.init.install !== false) await this.rollout(['start', '--package', 'app', '--version', first, '--waves', '100%', '--gate', 'success>=1,soak=1s'])
    this.publisher = await new NsNode('publisher', 0, join(this.tmp.path, 'publisher'), ['--repo', this.repoDir, '--coordinator', '--announce-interval', '5']).init()
    for (let i = 1; i <= this.init.nodes; i++) {
      this.nodes.push(await new NsNode(`node-${i}`, i, join(this.tmp.path, `node-${i}`), [], { DEBUG: 'umesh:follower,umesh:rollout,umesh:bootstrap' }).init())
    }
    const packages = JSON.stringify({ app: { health: { command: ['/bin/sh', 'bin/health'], timeoutMs: 5_000, retries: 1, intervalMs: 200 } } })
    for (const n of this.nodes) {
      n.flags.push('--trusted-root', join(this.repoDir, 'metadata', '1.root.json'), '--follow', 'app', '--check-interval', '5',
        ...(this.init.install !== false ? ['--packages', packages] : []),
        ...this.all.filter(p => p !== n).flatMap(p => ['--bootstrap-peer', p.addr]), ...(this.init.nodeFlags ?? []))
    }
    this.publisher.start()
    await this.publisher.ready()
    for (const n of this.nodes) n.start()
    await Promise.all(this.nodes.map(async n => { await n.ready() }))
  }

  /** SIGKILLs what still runs, removes the namespaces and files (keeps the logs in UMESH_FAULT_LOGS=DIR) */
  async stop (): Promise<void> {
    await Promise.all(this.all.filter(n => n != null).map(async n => { await n.stop() }))
    const logs = process.env.UMESH_FAULT_LOGS
    if (logs != null && logs !== '') {
      for (const n of this.all.filter(n => n != null)) writeFileSync(join(logs, `${this.init.prefix}${n.name}.log`), n.output())
    }
    removeNetwork()
    this.tmp.remove()
  }

  /** adds app `version` (about 1 MiB, mostly shared between versions, plus `bigMiB` of its own) to the repository */
  async publish (version: string, options: { broken?: boolean, bigMiB?: number } = {}): Promise<void> {
    const index = this.published++
    const src = releaseSource(this.tmp.path, { version, broken: options.broken }, index)
    writeFileSync(join(src, 'data', 'big.bin'), pseudoRandomBytes(Math.round((options.bigMiB ?? 0) * MiB) + 1, 1000 + index))
    const r = await runCli(['release', 'add', src, '--repo', this.repoDir, '--package', 'app', '--version', version], { timeoutMs: 60_000, env: cleanEnv() })
    assert.equal(r.code, 0, r.stderr)
  }

  async rollout (args: string[]): Promise<string> {
    const r = await runCli(['rollout', ...args, '--repo', this.repoDir], { timeoutMs: 30_000, env: cleanEnv() })
    assert.equal(r.code, 0, `umesh rollout ${args.join(' ')}: ${r.stderr}`)
    return r.stdout
  }

  /** the coordinator's view, as `umesh rollout status --json` prints it */
  async rolloutStatus (): Promise<any> {
    return JSON.parse(await this.rollout(['status', '--package', 'app', '--json']))
  }

  private installRoot (n: NsNode): string { return join(n.dataDir, 'installs', 'app') }

  /** the node's install journal (nothing installed: an empty one) */
  state (n: NsNode): InstallState {
    const file = join(this.installRoot(n), 'state.json')
    if (!existsSync(file)) return { format: 'umesh-install/1', package: 'app', current: null, versions: [], pending: null }
    return JSON.parse(readFileSync(file, 'utf8')) as InstallState
  }

  /** every install, rollback or failure the node finished, oldest first */
  history (n: NsNode): HistoryEntry[] {
    const file = join(this.installRoot(n), 'history.jsonl')
    if (!existsSync(file)) return []
    return readFileSync(file, 'utf8').split('\n').filter(l => l.trim() !== '').flatMap(l => { try { return [JSON.parse(l) as HistoryEntry] } catch { return [] } })
  }

  /** the version of the timestamp the node trusts (the publisher: the one it signed) */
  trustedVersion (n: NsNode): number {
    const file = n === this.publisher ? join(this.repoDir, 'metadata', 'timestamp.json') : join(n.dataDir, 'tuf', 'metadata', 'timestamp.json')
    try {
      return (JSON.parse(readFileSync(file, 'utf8')) as { signed: { version: number } }).signed.version
    } catch {
      return 0
    }
  }

  /** a line per node: trusted timestamp, installed and pending versions, what it holds */
  describe (): string {
    return this.all.map(n => {
      const s = this.state(n)
      return `${n.name} (${hostAddr(n.host)}): timestamp v${this.trustedVersion(n)}, current ${String(s.current)}, pending ${s.pending == null ? '-' : `${s.pending.to} at ${s.pending.step}`}, held ${n.held().map(p => p.replace(/^releases\/app\//, '')).join(' ')}`
    }).join('\n')
  }

  /** the coordinator's rollout of the package completed: a new one may start only then */
  async waitRolloutCompleted (timeoutMs: number): Promise<void> {
    let last: any
    await waitFor('the coordinator completing the rollout of app', async () => {
      last = await this.rolloutStatus()
      return last.doc?.state === 'completed'
    }, timeoutMs, 500).catch(err => { throw new Error(`${(err as Error).message}; last rollout status: ${JSON.stringify(last?.doc ?? last)}\n${this.describe()}`) })
  }

  async waitAllOn (version: string, timeoutMs: number, nodes = this.nodes): Promise<void> {
    await waitFor(`${nodes.map(n => n.name).join(', ')} running app ${version}`, () => nodes.every(n => this.state(n).current === version && this.state(n).pending == null), timeoutMs, 200)
      .catch(err => { throw new Error(`${(err as Error).message}\n${this.describe()}`) })
  }
}
