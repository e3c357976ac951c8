/**
 * The daemon: composes config, identity, network and discovery into phases
 * (core, config, keys, network, bootstrap, discovery, sync, background),
 * starts them in order with one AbortSignal, stops them in reverse, reloads
 * what it can on request, and reports its status.
 */
import { EventEmitter } from 'node:events'
import { join } from 'node:path'
import { LevelDatastore } from 'datastore-level'
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { loadConfig } from '../config/index.js'
import { resolveDataDir } from '../config/load.js'
import { loadOrCreateIdentity } from '../identity/index.js'
import { createMeshNode } from '../network/create-node.js'
import { NetworkGuard } from '../network/network-guard.js'
import { BootstrapDialer } from '../discovery/bootstrap-dialer.js'
import { PeerKeeper } from '../discovery/peer-keeper.js'
import { applyLogLevel } from '../util/log-level.js'
import { VERSION } from '../version.js'
import { coreCheck, stampClock } from './core-check.js'
import { removeDaemonFile, writeDaemonFile } from './daemon-file.js'
import { PhaseRunner } from './phases.js'
import { ResourceSampler } from './resources.js'
import { diffConfig } from './reload.js'
import { Content } from './content.js'
import { startControlServer } from '../install/control.js'
import { InstallManager } from '../install/manager.js'
import { runOperation } from '../install/operations.js'
import { reportsTopic } from '../network/protocol-ids.js'
import { Coordinator } from '../rollout/coordinator.js'
import { NodeRollouts } from '../rollout/node-rollouts.js'
import { checkContentOptions } from './content-options.js'
import type { ConfigSources, LoadedConfig, LogLevel, NodeConfig } from '../config/index.js'
import type { Identity } from '../identity/index.js'
import type { MeshNodeParts, Role } from '../network/create-node.js'
import type { StatusReport } from '../../protocols/status/index.js'
import type { PhaseDefinition, PhaseRecord, PhaseResult } from './phases.js'
import type { ReloadOutcome } from './reload.js'
import type { ConnectionManager } from '@libp2p/interface-internal'

export type DaemonState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped'

export interface DaemonInit {
  role: Role
  sources: ConfigSources
}

export interface DaemonEvents {
  phase: [PhaseRecord]
  log: [LogLevel, string]
}

export class Daemon extends EventEmitter<DaemonEvents> {
  readonly role: Role
  readonly dataDir: string
  state: DaemonState = 'idle'
  readonly phases: PhaseRunner
  loaded?: LoadedConfig
  identity?: Identity
  parts?: MeshNodeParts
  private readonly sources: ConfigSources
  private readonly startedAt = Date.now()
  private readonly log = logger('umesh:daemon')
  private readonly resources: ResourceSampler
  private guard?: NetworkGuard
  private bootstrapDialer?: BootstrapDialer
  private keeper?: PeerKeeper
  content?: Content
  installs?: InstallManager
  rollouts?: NodeRollouts
  private readonly abort = new AbortController()

  constructor (init: DaemonInit) {
    super()
    this.role = init.role
    this.sources = init.sources
    this.dataDir = resolveDataDir(init.sources)
    this.resources = new ResourceSampler(this.dataDir)
    const phases: PhaseDefinition[] = [
      { name: 'core', run: async () => this.core() },
      { name: 'config', run: async () => this.configPhase() },
      { name: 'keys', run: async () => this.keys() },
      { name: 'installs', run: async () => this.installsPhase() },
      { name: 'network', run: async () => this.network() },
      { name: 'bootstrap', run: async (signal) => this.bootstrap(signal) },
      { name: 'discovery', run: async () => this.discovery() },
      { name: 'sync', run: async () => this.syncPhase() },
      { name: 'background', run: async () => this.background() }
    ]
    this.phases = new PhaseRunner(phases, record => { this.emit('phase', record) })
  }

  get config (): NodeConfig {
    if (this.loaded == null) throw new Error('the config phase has not run')
    return this.loaded.config
  }

  async start (): Promise<void> {
    if (this.state !== 'idle') throw new Error(`cannot start a daemon that is ${this.state}`)
    this.state = 'starting'
    try {
      await this.phases.start(this.abort.signal)
      this.state = 'running'
    } catch (err) {
      this.state = 'stopped'
      throw err
    }
  }

  async stop (): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped' || this.state === 'idle') return
    this.state = 'stopping'
    this.abort.abort()
    for (const { phase, error } of await this.phases.stop()) {
      this.emit('log', 'warn', `stopping phase ${phase}: ${(error as Error).message}`)
    }
    this.state = 'stopped'
  }

  private async core (): Promise<PhaseResult> {
    const { lock, warnings } = coreCheck(this.dataDir)
    warnings.forEach(w => this.emit('log', 'warn', w))
    return { undo: () => { lock.release() }, detail: this.dataDir }
  }

  private async configPhase (): Promise<PhaseResult> {
    this.loaded = loadConfig(this.sources)
    if (this.role === 'bootstrap' && this.loaded.config.dhtMode !== 'server') {
      this.emit('log', 'warn', 'a bootstrap node is always a DHT server: ignoring dhtMode=client')
      this.loaded.config.dhtMode = 'server'
    }
    checkContentOptions(this.role, this.loaded.config)
    applyLogLevel(this.loaded.config.logLevel)
    const files = [this.loaded.configFile, this.loaded.bootstrapFile].filter(f => f != null)
    return { detail: `network ${this.loaded.config.network}${files.length > 0 ? `; ${files.join(', ')}` : ''}` }
  }

  private async keys (): Promise<PhaseResult> {
    this.identity = await loadOrCreateIdentity(this.dataDir)
    return { detail: `${this.identity.created ? 'created' : 'loaded'} ${this.identity.peerId.toString()}` }
  }

  /**
   * The install engine: installs a crash interrupted are finished or undone
   * before the node joins the mesh, and the control socket opens for
   * `umesh update ...`.
   */
  private async installsPhase (): Promise<PhaseResult> {
    if (this.role !== 'node') return { skipped: 'a bootstrap node installs nothing' }
    const log = logger('umesh:install')
    const manager = new InstallManager({
      dataDir: this.dataDir,
      packages: this.config.packages,
      // chunks are read only when staging, after the network phase opened the store
      store: { get: async (cid) => await this.content!.store.get(cid) },
      say: line => { log(line) },
      log: line => { this.emit('log', 'warn', line) }
    })
    const recovered = await manager.recoverAll()
    for (const e of recovered) this.emit('log', e.outcome === 'installed' ? 'info' : 'warn', `recovered the interrupted install of ${e.package} ${e.to}: ${e.outcome}${e.reason !== '' ? ` (${e.reason})` : ''}`)
    const server = await startControlServer(this.dataDir, async (request, say) => await runOperation(manager, request, say), line => { log(line) })
    this.installs = manager
    const count = manager.installers.size
    return {
      detail: `${count} package${count === 1 ? '' : 's'} with install settings${recovered.length > 0 ? `; recovered ${recovered.length} interrupted install${recovered.length === 1 ? '' : 's'}` : ''}; control socket open`,
      undo: async () => { await server.close() }
    }
  }

  private async network (): Promise<PhaseResult> {
    const content = new Content(this.config, this.dataDir)
    await content.open()
    this.content = content
    content.onHeld = () => { void this.installs?.autoUpdate() }
    const datastore = new LevelDatastore(join(this.dataDir, 'datastore'))
    await datastore.open()
    try {
      this.parts = await createMeshNode({
        config: this.config,
        role: this.role,
        privateKey: this.identity!.privateKey,
        datastore,
        version: VERSION,
        report: () => this.report(),
        content: { mirrorRoot: () => content.mirrorRoot(), summary: () => content.summary(), store: content.store, upload: content.bandwidth.scheduler, swarm: () => content.swarm }
      })
      await this.parts.node.start()
    } catch (err) {
      await Promise.resolve(this.parts?.node.stop()).catch(() => {})
      await datastore.close()
      throw err
    }
    const node = this.parts.node
    this.guard = new NetworkGuard(node, this.config.network, logger('umesh:guard'))
    this.guard.start()
    const addrs = node.getMultiaddrs().map(a => a.toString())
    writeDaemonFile(this.dataDir, { pid: process.pid, peerId: node.peerId.toString(), role: this.role, network: this.config.network, addrs, startedAt: this.startedAt })
    return {
      detail: addrs.join(' '),
      undo: async () => {
        removeDaemonFile(this.dataDir)
        this.guard?.stop()
        await node.stop()
        await datastore.close()
      }
    }
  }

  private async bootstrap (signal: AbortSignal): Promise<PhaseResult> {
    const node = this.parts!.node
    this.bootstrapDialer = new BootstrapDialer({ node, list: this.config.bootstrap, log: logger('umesh:bootstrap') })
    const dialer = this.bootstrapDialer
    dialer.start()
    const undo = (): void => { dialer.stop() }
    if (dialer.size === 0) {
      return { undo, skipped: this.config.bootstrap.length > 0 ? 'this node is its own only bootstrap peer' : 'no bootstrap peers configured' }
    }
    // wait briefly for the first bootstrap peer; without one the node still
    // starts, from remembered peers and mDNS, and the dialer keeps trying
    const reached = await dialer.waitForOne(3_000, signal)
    if (!reached) this.emit('log', 'warn', `no bootstrap peer reachable yet (${dialer.size} configured); re-dialling with backoff`)
    return { undo, detail: `${dialer.connected()} of ${dialer.size} bootstrap peers connected` }
  }

  private async discovery (): Promise<PhaseResult> {
    const node = this.parts!.node
    const gater = this.parts!.gater
    this.keeper = new PeerKeeper({
      node,
      targetPeers: this.config.targetPeers,
      log: logger('umesh:discovery'),
      allowed: peer => !gater.settings.denyPeers.has(peer.toString()) && this.guard?.isForeign(peer) !== true
    })
    this.keeper.start()
    const keeper = this.keeper
    const known = (await node.peerStore.all()).length
    return {
      detail: `dht ${this.config.dhtMode}, mdns ${this.config.mdns ? 'on' : 'off'}, ${known} known peers, target ${this.config.targetPeers}`,
      undo: () => { keeper.stop() }
    }
  }

  private async syncPhase (): Promise<PhaseResult> {
    const content = this.content!
    const node = this.parts!.node
    let detail = content.start(node)
    const stops: Array<() => void | Promise<void>> = [() => { content.stop() }]
    const topic = reportsTopic(this.config.network)
    if (content.mode === 'publisher' && this.config.coordinator) {
      const log = logger('umesh:coordinator')
      const coordinator = new Coordinator({ repoDir: this.config.repo!, pubsub: node.services.pubsub, topic, webhooks: this.config.webhooks, log: line => { log(line) } })
      coordinator.start()
      stops.unshift(async () => { await coordinator.stop() })
      detail += '; coordinating rollouts'
    }
    const installs = this.installs
    if (content.mode === 'follower' && installs != null && installs.installers.size > 0) {
      const log = logger('umesh:rollout')
      const rollouts = new NodeRollouts({
        peerId: node.peerId.toString(),
        privateKey: this.identity!.privateKey,
        tags: this.config.tags,
        maintenance: this.config.maintenance,
        manager: installs,
        pubsub: node.services.pubsub,
        topic,
        rolloutFile: pkg => content.follower?.rollouts.get(pkg),
        signedReleases: () => content.trust?.targets() ?? {},
        allowDowngrade: pkg => this.config.packages[pkg]?.allowDowngrade === true,
        log: line => { log(line) },
        ...(process.env.UMESH_TEST_CLOCK_OFFSET_MS != null ? { now: () => new Date(Date.now() + Number(process.env.UMESH_TEST_CLOCK_OFFSET_MS)) } : {})
      })
      installs.governed = pkg => rollouts.governs(pkg)
      rollouts.start()
      this.rollouts = rollouts
      stops.unshift(() => { rollouts.stop() })
    }
    const undo = async (): Promise<void> => { for (const stop of stops) await stop() }
    return content.mode === 'off' ? { undo, skipped: `no --repo or --trusted-root: ${detail}` } : { undo, detail }
  }

  private async background (): Promise<PhaseResult> {
    // releases held before this start that were never installed
    void this.installs?.autoUpdate()
    stampClock(this.dataDir)
    const timer = setInterval(() => {
      try { stampClock(this.dataDir) } catch (err) { this.log.error('could not record the clock - %e', err) }
    }, 60_000)
    timer.unref()
    return { undo: () => { clearInterval(timer) }, detail: 'clock stamp' }
  }

  /** Re-reads the config; applies what can change live, lists what needs a restart. Throws ConfigError and keeps the old config when the new one is invalid. */
  async reload (): Promise<ReloadOutcome> {
    if (this.state !== 'running' || this.loaded == null || this.parts == null) {
      throw new Error(`cannot reload while ${this.state}`)
    }
    const next = loadConfig(this.sources)
    if (this.role === 'bootstrap') next.config.dhtMode = 'server'
    const outcome = diffConfig(this.loaded.config, next.config)
    const { gater, node } = this.parts
    for (const key of outcome.applied) {
      const value = next.config[key]
      if (key === 'denyPeers') {
        gater.settings.denyPeers = new Set(next.config.denyPeers)
        for (const id of next.config.denyPeers) await node.hangUp(peerIdFromString(id)).catch(() => {})
      } else if (key === 'maxInboundPerIp') {
        gater.settings.maxInboundPerIp = next.config.maxInboundPerIp
      } else if (key === 'maxConnections') {
        // setMaxConnections is on the connection manager, which libp2p exposes only through its components
        (node as unknown as { components: { connectionManager: ConnectionManager } }).components.connectionManager.setMaxConnections(next.config.maxConnections)
      } else if (key === 'bootstrap' || key === 'bootstrapFile') {
        this.bootstrapDialer?.setList(next.config.bootstrap)
      } else if (key === 'targetPeers') {
        this.keeper?.setTarget(next.config.targetPeers)
      } else if (key === 'uploadLimit' || key === 'downloadLimit') {
        this.content?.bandwidth.setLimits({ upload: next.config.uploadLimit, download: next.config.downloadLimit })
      } else if (key === 'logLevel') {
        applyLogLevel(next.config.logLevel)
      }
      this.log('applied %s = %o', key, value)
    }
    // what needs a restart keeps its running value, so status tells the truth
    for (const key of outcome.restartNeeded) (next.config as any)[key] = this.loaded.config[key]
    this.loaded = next
    return outcome
  }

  private rolloutText (pkg: string): string {
    const v = this.rollouts?.view(pkg)
    if (v == null || v.rolloutId === 'none') return ''
    return `rollout ${v.rolloutId} of ${v.version}: wave ${v.wave}, ${v.outcome}${v.reason !== '' ? ` (${v.reason})` : ''}`.slice(0, 1024)
  }

  private installReport (): StatusReport['installs'] {
    const fetching = new Set((this.content?.report().releases ?? []).filter(r => r.state === 'fetching').map(r => r.package))
    return (this.installs?.status() ?? []).slice(0, 64).map(p => ({
      package: p.package,
      current: p.current ?? '',
      pending: p.pending,
      state: p.state === 'idle' && fetching.has(p.package) ? 'fetching' : p.state,
      progressDone: BigInt(p.progress.done),
      progressTotal: BigInt(p.progress.total),
      error: p.lastError,
      available: p.available ?? '',
      rollout: this.rolloutText(p.package)
    }))
  }

  report (): StatusReport {
    const node = this.parts?.node
    const connections = node?.getConnections() ?? []
    const current = this.phases.current()
    const phaseNow = this.state === 'running' ? 'ready' : this.state === 'stopping' ? 'stopping' : current?.name ?? this.state
    return {
      peerId: this.identity?.peerId.toString() ?? '',
      role: this.role,
      network: this.loaded?.config.network ?? '',
      version: VERSION,
      uptimeMs: BigInt(Date.now() - this.startedAt),
      startedAtMs: BigInt(this.startedAt),
      phase: phaseNow,
      phases: this.phases.records.map(r => ({ name: r.name, state: r.state, durationMs: r.durationMs, detail: r.detail })),
      connections: connections.length,
      peers: connections.slice(0, 256).map(c => ({ peerId: c.remotePeer.toString(), addr: c.remoteAddr.toString(), direction: c.direction })),
      listenAddrs: node?.getMultiaddrs().map(a => a.toString()) ?? [],
      resources: this.resources.usage(),
      traffic: {
        bytesIn: BigInt(this.parts?.traffic.totals.bytesIn ?? 0),
        bytesOut: BigInt(this.parts?.traffic.totals.bytesOut ?? 0)
      },
      ...(this.content?.report() ?? { releases: [] }),
      installs: this.installReport(),
      bandwidth: this.content == null ? undefined : { ...this.content.bandwidth.report(), swarmSessions: this.content.swarm?.stats().sessions ?? 0 }
    }
  }
}
