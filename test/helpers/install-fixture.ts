/**
 * A node data dir that holds several signed releases of one package, made
 * the real way: a repository, a publisher node, a follower node that fetches
 * and verifies each release; then both stop and the data dir is a template
 * that install tests copy (one copy per test, so each starts the same).
 *
 * The package `app`: data files (one changes per version, the rest are
 * hard-link candidates), `bin/health` (exits 0, or 1 in a broken release),
 * `bin/activate` (records the version it activated in the state dir), and
 * migrations that append to a state file, so a rollback's restore and
 * `down` migrations are visible byte for byte.
 *
 * Unit tests of the Installer use the same releases without a mesh:
 * `memoryRelease` chunks a release's source tree into an in-memory chunk
 * store and describes it with a release index (unsigned: the Installer takes
 * the indexes it is given as verified). The mesh parts are imported only
 * when `makeFixture` runs, so those tests load no libp2p.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chunkCid } from '../../protocols/shared/index.js'
import { pseudoRandomBytes } from '../../src/util/pseudo-random.js'
import type { PackageInstallConfig } from '../../src/install/types.js'
import type { IndexFile, ReleaseIndex } from '../../src/release/release-index.js'
import type { CID } from 'multiformats/cid'

export interface ReleaseSpec {
  version: string
  /** bin/health exits 1 */
  broken?: boolean
  /** migration ids shipped (each appends "<id> up" / removes its line on down, in <state>/log.txt) */
  migrations?: string[]
  /** migration ids (among `migrations`) whose `up` fails */
  failing?: string[]
  extraArgs?: string[]
}

export interface Fixture {
  /** the template data dir: holds every release, nothing installed */
  template: string
  repoDir: string
  versions: string[]
}

/** the install settings the tests use; state lives in `<dir>/state` */
export function installConfig (dataDir: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const state = join(dataDir, 'state')
  return {
    installRoot: join(dataDir, 'installs', 'app'),
    autoUpdate: false,
    health: { command: ['/bin/sh', 'bin/health'], timeoutMs: 5_000, retries: 1, intervalMs: 100 },
    hooks: { activate: ['/bin/sh', 'bin/activate'], timeoutMs: 10_000 },
    statePaths: [join(state, 'config.txt'), join(state, 'log.txt')],
    ...overrides
  }
}

/** installConfig as the install engine sees it once the config is loaded (for tests that build an Installer) */
export function packageConfig (dataDir: string, overrides: Partial<PackageInstallConfig> = {}): PackageInstallConfig {
  const state = join(dataDir, 'state')
  return {
    installRoot: join(dataDir, 'installs', 'app'),
    keepVersions: 3,
    autoUpdate: false,
    health: { check: { type: 'command', command: ['/bin/sh', 'bin/health'] }, timeoutMs: 5_000, retries: 1, intervalMs: 100, graceMs: 0 },
    hooks: { activate: ['/bin/sh', 'bin/activate'], timeoutMs: 10_000 },
    statePaths: [join(state, 'config.txt'), join(state, 'log.txt')],
    encryptBackups: false,
    dependencies: 'install',
    minFreeMemory: 0,
    allowDowngrade: false,
    ...overrides
  }
}

/** the state files of `app` as a fresh node has them: `<dataDir>/state/config.txt` and an empty `log.txt` */
export function makeStateFiles (dataDir: string): void {
  const state = join(dataDir, 'state')
  mkdirSync(state, { recursive: true })
  writeFileSync(join(state, 'config.txt'), 'setting=1\n')
  writeFileSync(join(state, 'log.txt'), '')
}

/** writes `<dataDir>/config.json` with install settings for `app` and makes its state files */
export function configureNode (dataDir: string, overrides: Record<string, unknown> = {}): void {
  makeStateFiles(dataDir)
  writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ packages: { app: installConfig(dataDir, overrides) } }, null, 1))
}

/** the source tree of one release of `app` (see the file's header) */
export function releaseSource (dir: string, spec: ReleaseSpec, index: number): string {
  const src = join(dir, `src-${spec.version}`)
  rmSync(src, { recursive: true, force: true })
  mkdirSync(join(src, 'bin'), { recursive: true })
  mkdirSync(join(src, 'data'), { recursive: true })
  for (let i = 0; i < 8; i++) writeFileSync(join(src, 'data', `part-${i}.bin`), pseudoRandomBytes(128 * 1024, i === 0 ? 100 + index : i))
  writeFileSync(join(src, 'VERSION'), `${spec.version}\n`)
  writeFileSync(join(src, 'bin', 'health'), spec.broken === true ? '#!/bin/sh\necho "broken build" >&2\nexit 1\n' : '#!/bin/sh\ntest -f VERSION\n')
  // activation: the state dir learns which version runs (found from the state path's folder)
  writeFileSync(join(src, 'bin', 'activate'), '#!/bin/sh\necho "$UMESH_NEW_VERSION" > "$UMESH_STATE_DIR/active.txt"\n')
  for (const f of ['health', 'activate']) chmodSync(join(src, 'bin', f), 0o755)
  if ((spec.migrations ?? []).length > 0) mkdirSync(join(src, 'migrations'))
  for (const id of spec.migrations ?? []) {
    writeFileSync(join(src, 'migrations', `${id}.up`), (spec.failing ?? []).includes(id)
      ? `#!/bin/sh\necho "${id} cannot run" >&2\nexit 3\n`
      : `#!/bin/sh\necho "${id} up" >> "$UMESH_STATE_DIR/log.txt"\necho "schema=${id}" > "$UMESH_STATE_DIR/config.txt"\n`)
    writeFileSync(join(src, 'migrations', `${id}.down`), `#!/bin/sh\ngrep -v "^${id} up$" "$UMESH_STATE_DIR/log.txt" > "$UMESH_STATE_DIR/log.tmp" || true\nmv "$UMESH_STATE_DIR/log.tmp" "$UMESH_STATE_DIR/log.txt"\n`)
    chmodSync(join(src, 'migrations', `${id}.up`), 0o755)
    chmodSync(join(src, 'migrations', `${id}.down`), 0o755)
  }
  return src
}

/** publishes each release and waits until a real follower holds it; returns the follower's data dir as a template */
export async function makeFixture (dir: string, releases: ReleaseSpec[]): Promise<Fixture> {
  const { multiaddr } = await import('@multiformats/multiaddr')
  const { fetchStatus } = await import('../../protocols/status/index.js')
  const { readDaemonFile } = await import('../../src/daemon/daemon-file.js')
  const { LocalMesh } = await import('../../src/demo/local-mesh.js')
  const { createClientNode } = await import('../../src/network/client-node.js')
  const { runCli, waitFor } = await import('./cli.js')
  const repoDir = join(dir, 'repo')
  assert.equal((await runCli(['repo', 'init', '--repo', repoDir])).code, 0)
  const mesh = new LocalMesh({ dir: join(dir, 'mesh'), nodes: 0 })
  const client = await createClientNode()
  try {
    await mesh.start()
    const publisher = mesh.addNode('publisher', ['--repo', repoDir])
    const follower = mesh.addNode('template', ['--trusted-root', join(repoDir, 'metadata', '1.root.json'), '--follow', 'app'])
    await Promise.all([publisher.waitReady(), follower.waitReady()])
    for (const [i, spec] of releases.entries()) {
      const added = await runCli(['release', 'add', releaseSource(dir, spec, i), '--repo', repoDir, '--package', 'app', '--version', spec.version, ...(spec.extraArgs ?? [])])
      assert.equal(added.code, 0, added.stderr)
      await waitFor(`the follower holding app ${spec.version}`, async () => {
        const info = readDaemonFile(follower.dataDir)
        const s = await fetchStatus(client, info.addrs.map(a => multiaddr(a)), info.network, { signal: AbortSignal.timeout(3_000) })
        return s.releases.some(r => r.version === spec.version && r.state === 'held')
      }, 60_000, 300)
    }
    await mesh.stop()
    return { template: follower.dataDir, repoDir, versions: releases.map(r => r.version) }
  } finally {
    await mesh.stop()
    await client.stop()
  }
}

/** a fresh copy of the template as a node data dir, configured to install `app` */
export function nodeFrom (fixture: Fixture, dir: string, overrides: Record<string, unknown> = {}): string {
  cpSync(fixture.template, dir, { recursive: true })
  rmSync(join(dir, 'daemon.lock'), { force: true })
  configureNode(dir, overrides)
  return dir
}

/** the environment every install in these tests runs with: hooks find the state dir through it */
export function installEnv (dataDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { UMESH_STATE_DIR: join(dataDir, 'state'), ...extra }
}

/** an in-memory chunk store: what the Installer reads chunks from */
export interface MemoryStore {
  chunks: Map<string, Uint8Array>
  get: (cid: CID) => Promise<Uint8Array>
}

export function memoryStore (): MemoryStore {
  const chunks = new Map<string, Uint8Array>()
  return {
    chunks,
    get: async (cid) => {
      const bytes = chunks.get(cid.toString())
      if (bytes == null) throw new Error(`no chunk ${cid.toString()} in the test store`)
      return bytes
    }
  }
}

function listTree (dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel), { withFileTypes: true })
    .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    .flatMap(e => e.isDirectory() ? listTree(dir, rel === '' ? e.name : `${rel}/${e.name}`) : [rel === '' ? e.name : `${rel}/${e.name}`])
}

/**
 * Release `spec` of `app` (the tree releaseSource writes under `dir`), its
 * files cut into chunks of `chunkSize` bytes put in `store`, and the release
 * index that describes it, as `release add` would (unsigned).
 */
export function memoryRelease (dir: string, spec: ReleaseSpec, n: number, store: MemoryStore, chunkSize = 64 * 1024): ReleaseIndex {
  const src = releaseSource(dir, spec, n)
  const files: IndexFile[] = listTree(src).map((path) => {
    const bytes = readFileSync(join(src, path))
    const chunks = []
    for (let off = 0; off < bytes.length; off += chunkSize) {
      const piece = bytes.subarray(off, off + chunkSize)
      const cid = chunkCid(piece).toString()
      store.chunks.set(cid, piece)
      chunks.push({ cid, size: piece.length })
    }
    const mode = (statSync(join(src, path)).mode & 0o111) !== 0 ? 0o755 : 0o644
    return { path, mode, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), chunks }
  })
  rmSync(src, { recursive: true, force: true })
  return {
    format: 'umesh-release/1',
    package: 'app',
    version: spec.version,
    scheme: 'semver',
    channel: 'stable',
    changelog: '',
    created: new Date().toISOString(),
    totalSize: files.reduce((sum, f) => sum + f.size, 0),
    files,
    requires: [],
    conflicts: [],
    requiredStep: false,
    critical: false
  }
}
