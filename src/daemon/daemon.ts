/**
 * The daemon, the one composition root: it builds each part in its phase
 * (core, config, keys, installs, network, bootstrap, discovery, sync,
 * background), gives each what it needs at construction, starts them in
 * order with one AbortSignal and stops them in reverse, reloads what it can
 * on request, and reports status. The parts hold the logic; the daemon only
 * chooses them and passes one to another.
 */
import { EventEmitter } from 'node:events'
import { join } from 'node:path'
import { LevelDatastore } from 'datastore-level'
import { logger } from '@libp2p/logger'
import { announcements } from '../announce/index.js'
import { loadConfig } from '../config/index.js'
import { resolveDataDir } from '../config/load.js'
import { openChunkStore } from '../content/index.js'
import { dataPaths, HeldReleases, parseFollow } from '../data-dir/index.js'
import { BootstrapDialer } from '../discovery/bootstrap-dialer.js'
import { PeerKeeper } from '../discovery/peer-keeper.js'
import { FollowedReleases, NodeTrust, follower } from '../follow/index.js'
import { loadOrCreateIdentity } from '../identity/index.js'
import { AutoUpdater, InstallManager, runOperation, startControlServer } from '../install/index.js'
import { createMeshNode } from '../network/create-node.js'
import { NetworkGuard } from '../network/network-guard.js'
import { ownAddresses } from '../network/bound-addresses.js'
import { PeerRecordCache } from '../network/peer-record-cache.js'
import { dhtProtocol } from '../network/protocol-ids.js'
import { PublishedReleases, publisher } from '../publish/index.js'
import { coordinator, nodeRollouts } from '../rollout/index.js'
import { Bandwidth, ReleaseSwarms, swarm } from '../swarm/index.js'
import { applyLogLevel } from '../util/log-level.js'
import { missingMemorySettings } from '../util/memory-settings.js'
import { VERSION } from '../version.js'
import { coreCheck, stampClock } from './core-check.js'
import { removeDaemonFile, writeDaemonFile } from './daemon-file.js'
import { operatorLogger } from './operator-log.js'
import { PhaseRunner } from './phases.js'
import { checkReleaseOptions } from './release-options.js'
import { applyLive, diffConfig } from './reload.js'
import { ResourceSampler } from './resources.js'
import { openHttp } from './http-phase.js'
import { statusReport } from './status-report.js'
import { IdleCollector } from './idle-collector.js'
import type { Follower } from '../follow/index.js'
import type { Announcements } from '../announce/index.js'
import type { ConfigSources, LoadedConfig, LogLevel, NodeConfig } from '../config/index.js'
import type { ChunkStore } from '../content/index.js'
import type { DataPaths } from '../data-dir/index.js'
import type { Identity } from '../identity/index.js'
import type { MeshNodeParts, Role } from '../network/create-node.js'
import type { Coordinator, NodeRollouts } from '../rollout/index.js'
import type { HttpServer } from '../http/index.js'
import type { Swarm } from '../swarm/index.js'
import type { StatusReport } from '../../protocols/status/index.js'
import type { PhaseDefinition, PhaseRecord, PhaseResult } from './phases.js'
import type { ReloadOutcome } from './reload.js'
import type { ComponentLogger } from '@libp2p/interface'

export type DaemonState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped'

export interface DaemonInit {
  role: Role
  sources: ConfigSources
}

export interface DaemonEvents {
  phase: [PhaseRecord]
  /** a message for the operator's log; fields: the component that speaks (default umesh:daemon) and what is known (peer, package, version, phase, ...) */
  log: [level: LogLevel, message: string, fields?: { component?: string, [field: string]: unknown }]
}

/** what this node does with releases: publish a repository, follow one, or neither */
export type ReleaseMode = 'publisher' | 'follower' | 'off'

/** the parts the phases build, each once, in this order */
export interface DaemonParts {
  store?: ChunkStore
  installs?: InstallManager
  releases?: PublishedReleases | FollowedReleases
  bandwidth?: Bandwidth
  mesh?: MeshNodeParts<Swarm>
  announcements?: Announcements
  follower?: Follower
  rollouts?: NodeRollouts
  autoUpdate?: AutoUpdater
  coordinator?: Coordinator
  http?: HttpServer
}

export class Daemon extends EventEmitter<DaemonEvents> {
  readonly role: Role
  readonly dataDir: string
  readonly paths: DataPaths
  state: DaemonState = 'idle'
  readonly phases: PhaseRunner
  loaded?: LoadedConfig
  identity?: Identity
  readonly parts: DaemonParts = {}
  private readonly sources: ConfigSources
  private readonly startedAt = Date.now()
  private readonly log = logger('umesh:daemon')
  /** the loggers the daemon hands its parts (a component's error also reaches the operator's log) */
  readonly componentLogger: ComponentLogger
  private readonly resources: ResourceSampler
  private bootstrapDialer?: BootstrapDialer
  private keeper?: PeerKeeper
  private guard?: NetworkGuard
  private readonly abort = new AbortController()

  constructor (init: DaemonInit) {
    super()
    this.role = init.role
    this.sources = init.sources
    this.dataDir = resolveDataDir(init.sources)
    this.paths = dataPaths(this.dataDir)
    this.resources = new ResourceSampler(this.dataDir)
    this.componentLogger = operatorLogger((line, fields) => { this.emit('log', 'warn', line, fields) })
    const phases: PhaseDefinition[] = [
      { name: 'core', run: async () => this.core() },
      { name: 'config', run: async () => this.configPhase() },
      { name: 'http', run: async () => this.httpPhase() },
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

  get mode (): ReleaseMode {
    return this.config.repo != null ? 'publisher' : this.config.trustedRoot != null ? 'follower' : 'off'
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
      this.emit('log', 'warn', `stopping phase ${phase}: ${(error as Error).message}`, { component: 'umesh:daemon', phase })
    }
    this.state = 'stopped'
  }

  private async core (): Promise<PhaseResult> {
    const { lock, warnings } = coreCheck(this.dataDir)
    warnings.forEach(w => this.emit('log', 'warn', w, { component: 'umesh:daemon', phase: 'core' }))
    const missing = missingMemorySettings()
    if (missing.length > 0) {
      this.emit('log', 'info', `started without ${missing.join(' and ')}: memory a transfer used stays resident after it (30-40 MB a minute after a 256 MiB release); start the daemon with them to give it back`, { component: 'umesh:daemon', phase: 'core' })
    }
    return { undo: () => { lock.release() }, detail: this.dataDir }
  }

  private async configPhase (): Promise<PhaseResult> {
    this.loaded = loadConfig(this.sources)
    if (this.role === 'bootstrap' && this.loaded.config.dhtMode !== 'server') {
      this.emit('log', 'warn', 'a bootstrap node is always a DHT server: ignoring dhtMode=client', { component: 'umesh:daemon', phase: 'config' })
      this.loaded.config.dhtMode = 'server'
    }
    checkReleaseOptions(this.role, this.loaded.config)
    applyLogLevel(this.loaded.config.logLevel)
    const files = [this.loaded.configFile, this.loaded.bootstrapFile].filter(f => f != null)
    return { detail: `network ${this.loaded.config.network}${files.length > 0 ? `; ${files.join(', ')}` : ''}` }
  }

  /** the HTTP listener, when --http-listen is set (http-phase.ts) */
  private async httpPhase (): Promise<PhaseResult> {
    return await openHttp(this)
  }

  private async keys (): Promise<PhaseResult> {
    this.identity = await loadOrCreateIdentity(this.dataDir)
    return { detail: `${this.identity.created ? 'created' : 'loaded'} ${this.identity.peerId.toString()}` }
  }

  /** the chunk store, opened by the first phase that needs it: a publisher's is its repository's */
  private async chunkStore (): Promise<ChunkStore> {
    this.parts.store ??= await openChunkStore(this.config.repo != null ? join(this.config.repo, 'chunks') : this.paths.chunks)
    return this.parts.store
  }

  /**
   * The install engine: installs a crash interrupted are finished or undone
   * before the node joins the mesh, and the control socket opens for
   * `umesh update ...`.
   */
  private async installsPhase (): Promise<PhaseResult> {
    if (this.role !== 'node') return { skipped: 'a bootstrap node installs nothing' }
    const manager = new InstallManager({ paths: this.paths, store: await this.chunkStore(), logger: this.componentLogger }, { packages: this.config.packages, signal: this.abort.signal })
    const recovered = await manager.recoverAll({ signal: this.abort.signal })
    for (const e of recovered) this.emit('log', e.outcome === 'installed' ? 'info' : 'warn', `recovered the interrupted install of ${e.package} ${e.to}: ${e.outcome}${e.reason !== '' ? ` (${e.reason})` : ''}`, { component: 'umesh:install', phase: 'installs', package: e.package, version: e.to, outcome: e.outcome })
    const server = await startControlServer(this.dataDir, async (request, say) => await runOperation(manager, request, say), this.componentLogger.forComponent('umesh:install'))
    this.parts.installs = manager
    const count = manager.installers.size
    return {
      detail: `${count} package${count === 1 ? '' : 's'} with install settings${recovered.length > 0 ? `; recovered ${recovered.length} interrupted install${recovered.length === 1 ? '' : 's'}` : ''}; control socket open`,
      undo: async () => { await server.close() }
    }
  }

  /** what the protocols serve: the publisher's repository, the follower's verified state, or nothing */
  private releaseCatalog (): PublishedReleases | FollowedReleases | undefined {
    if (this.mode === 'publisher') return new PublishedReleases(this.config.repo!)
    if (this.mode !== 'follower') return undefined
    const trust = new NodeTrust(this.paths)
    trust.init(this.config.trustedRoot!)
    return new FollowedReleases({ trust, paths: this.paths, held: new HeldReleases(this.paths.held, parseFollow(this.config.follow)) })
  }

  private async network (): Promise<PhaseResult> {
    const store = await this.chunkStore()
    const releases = this.parts.releases = this.releaseCatalog()
    const catalog = releases ?? { piecesOf: async () => undefined }
    const swarms = new ReleaseSwarms()
    const bandwidth = this.parts.bandwidth = new Bandwidth({ upload: this.config.uploadLimit, download: this.config.downloadLimit }, swarms)
    const level = new LevelDatastore(this.paths.datastore)
    await level.open()
    // peer records in memory, written to LevelDB at most every 5 s (peer-record-cache.ts)
    const datastore = new PeerRecordCache(level, { onError: err => { this.emit('log', 'warn', `could not write peer records - ${err.message}`, { component: 'umesh:datastore' }) } })
    const closeDatastore = async (): Promise<void> => {
      await datastore.close().catch(() => {})
      await level.close()
    }
    let mesh: MeshNodeParts<Swarm> | undefined
    try {
      mesh = await createMeshNode({
        config: this.config,
        role: this.role,
        privateKey: this.identity!.privateKey,
        datastore,
        version: VERSION,
        report: () => this.report(),
        serve: {
          mirrorRoot: () => releases?.mirrorRoot(),
          summary: () => releases?.summary() ?? { timestampVersion: 0, releases: [] },
          store,
          upload: bandwidth.scheduler
        },
        swarm: (node, peers) => swarm({ network: this.config.network })({ node, store, catalog, peers, swarms, bandwidth, logger: this.componentLogger })
      })
      await mesh.node.start()
    } catch (err) {
      await Promise.resolve(mesh?.node.stop()).catch(() => {})
      await closeDatastore()
      throw err
    }
    this.parts.mesh = mesh
    const { node, peers } = mesh
    peers.start()
    bandwidth.start()
    swarms.start()
    // once a transfer is over, what it left in V8's heap is collected (idle-collector.ts)
    const collector = new IdleCollector({ moved: () => bandwidth.upload.total + bandwidth.downloaded, busy: () => this.parts.installs?.busy === true, log: logger('umesh:memory') })
    collector.start()
    this.guard = new NetworkGuard(node, this.config.network, logger('umesh:guard'))
    this.guard.start()
    // bound addresses too: a public address is advertised only once AutoNAT confirms it, and the CLI on this machine must find the daemon before that
    const addrs = ownAddresses(node)
    writeDaemonFile(this.dataDir, { pid: process.pid, peerId: node.peerId.toString(), role: this.role, network: this.config.network, addrs, startedAt: this.startedAt })
    return {
      detail: addrs.join(' '),
      undo: async () => {
        removeDaemonFile(this.dataDir)
        this.guard?.stop()
        collector.stop()
        bandwidth.stop()
        mesh.swarm.stop()
        peers.stop()
        await node.stop()
        await closeDatastore()
      }
    }
  }

  private async bootstrap (signal: AbortSignal): Promise<PhaseResult> {
    const node = this.parts.mesh!.node
    const dialer = this.bootstrapDialer = new BootstrapDialer({ node, list: this.config.bootstrap, log: logger('umesh:bootstrap') })
    dialer.start()
    const undo = (): void => { dialer.stop() }
    if (dialer.size === 0) {
      return { undo, skipped: this.config.bootstrap.length > 0 ? 'this node is its own only bootstrap peer' : 'no bootstrap peers configured' }
    }
    // wait briefly for the first bootstrap peer; without one the node still
    // starts, from remembered peers and mDNS, and the dialer keeps trying
    const reached = await dialer.waitForOne(3_000, signal)
    if (!reached) this.emit('log', 'warn', `no bootstrap peer reachable yet (${dialer.size} configured); re-dialling with backoff`, { component: 'umesh:bootstrap', phase: 'bootstrap', configured: dialer.size })
    return { undo, detail: `${dialer.connected()} of ${dialer.size} bootstrap peers connected` }
  }

  private async discovery (): Promise<PhaseResult> {
    const { node, gater, peers } = this.parts.mesh!
    const dht = dhtProtocol(this.config.network)
    const keeper = this.keeper = new PeerKeeper({
      node,
      targetPeers: this.config.targetPeers,
      log: logger('umesh:discovery'),
      speaksDht: peer => peers.speaks(peer, dht),
      allowed: peer => !gater.settings.denyPeers.has(peer.toString()) && this.guard?.isForeign(peer) !== true
    })
    keeper.start()
    const known = (await node.peerStore.all()).length
    return {
      detail: `dht ${this.config.dhtMode}, mdns ${this.config.mdns ? 'on' : 'off'}, ${known} known peers, target ${this.config.targetPeers}`,
      undo: () => { keeper.stop() }
    }
  }

  /** announcements, then the publisher (and coordinator) or the follower (and the node's rollouts and auto-update) */
  private async syncPhase (): Promise<PhaseResult> {
    const { node, peers, swarm } = this.parts.mesh!
    const { network } = this.config
    const releases = this.parts.releases
    const logger = this.componentLogger
    const announce = this.parts.announcements = announcements({ network })({ pubsub: node.services.pubsub, trust: releases, logger })
    announce.start()
    const stops: Array<() => void | Promise<void>> = [() => { announce.stop() }]
    const undo = async (): Promise<void> => { for (const stop of stops) await stop() }
    if (releases instanceof PublishedReleases) {
      const pub = publisher({ republishMs: this.config.announceInterval * 1000 })({ releases, announcements: announce, logger })
      pub.start()
      stops.unshift(() => { pub.stop() })
      let detail = `publishing ${releases.repoDir}: timestamp v${releases.timestampVersion()}, ${releases.summary().releases.length} releases`
      if (this.config.coordinator) {
        const coord = this.parts.coordinator = coordinator({ repoDir: releases.repoDir, network, webhooks: this.config.webhooks })({ pubsub: node.services.pubsub, logger })
        coord.start()
        stops.unshift(async () => { await coord.stop() })
        detail += '; coordinating rollouts'
      }
      return { undo, detail }
    }
    if (releases instanceof FollowedReleases) {
      const follow = this.parts.follower = follower({ network, follow: parseFollow(this.config.follow), periodicMs: this.config.checkInterval * 1000, mirrors: this.config.mirrors, mirrorAfterMs: this.config.mirrorAfterMs })({ node, releases, paths: this.paths, swarm, peers, announcements: announce, logger })
      const installs = this.parts.installs
      if (installs != null && installs.installers.size > 0) {
        const rollouts = this.parts.rollouts = nodeRollouts({
          network,
          tags: this.config.tags,
          labels: () => this.config.labels,
          maintenance: this.config.maintenance,
          allowDowngrade: pkg => this.config.packages[pkg]?.allowDowngrade === true
        })({ identity: this.identity!, manager: installs, pubsub: node.services.pubsub, documents: follow.rollouts, trust: releases.trust, logger })
        const auto = this.parts.autoUpdate = new AutoUpdater({ manager: installs, releases: follow, rollouts, logger })
        rollouts.start()
        auto.start()
        stops.unshift(() => { rollouts.stop() }, () => { auto.stop() })
      }
      follow.start()
      stops.unshift(() => { follow.stop() })
      return { undo, detail: `following ${this.config.follow.join(', ') || 'no packages (verifying and relaying only)'}; trusted timestamp v${releases.trust.timestampVersion()}` }
    }
    return { undo, skipped: 'no --repo or --trusted-root: serving what it holds (no --repo or --trusted-root)' }
  }

  private async background (): Promise<PhaseResult> {
    // releases held before this start that were never installed
    void this.parts.autoUpdate?.run()
    stampClock(this.dataDir)
    const timer = setInterval(() => {
      try { stampClock(this.dataDir) } catch (err) { this.log.error('could not record the clock - %e', err) }
    }, 60_000)
    timer.unref()
    return { undo: () => { clearInterval(timer) }, detail: 'clock stamp' }
  }

  /** Re-reads the config; applies what can change live, lists what needs a restart. Throws ConfigError and keeps the old config when the new one is invalid. */
  async reload (): Promise<ReloadOutcome> {
    const mesh = this.parts.mesh
    if (this.state !== 'running' || this.loaded == null || mesh == null) {
      throw new Error(`cannot reload while ${this.state}`)
    }
    const next = loadConfig(this.sources)
    if (this.role === 'bootstrap') next.config.dhtMode = 'server'
    const outcome = diffConfig(this.loaded.config, next.config)
    await applyLive(outcome.applied, next.config, { mesh, bootstrapDialer: this.bootstrapDialer, keeper: this.keeper, bandwidth: this.parts.bandwidth })
    for (const key of outcome.applied) this.log('applied %s = %o', key, next.config[key])
    // what needs a restart keeps its running value, so status tells the truth
    for (const key of outcome.restartNeeded) (next.config as any)[key] = this.loaded.config[key]
    this.loaded = next
    return outcome
  }

  /** `ready` once every phase is done, else the phase running now (or the daemon's state) */
  get phase (): string {
    if (this.state === 'running') return 'ready'
    if (this.state === 'stopping') return 'stopping'
    return this.phases.current()?.name ?? this.state
  }

  report (): StatusReport {
    return statusReport({
      peerId: this.identity?.peerId.toString() ?? '',
      role: this.role,
      network: this.loaded?.config.network ?? '',
      mode: this.loaded == null ? 'off' : this.mode,
      startedAt: this.startedAt,
      phase: this.phase,
      phases: this.phases.records,
      resources: this.resources.usage(),
      parts: this.parts
    })
  }
}
