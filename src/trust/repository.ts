/**
 * The publisher's TUF repository, in TUF's standard layout so any static web
 * server can mirror it and any TUF client can read it:
 *
 *   <repo>/repo.json                    expiry settings
 *   <repo>/keys/<role>-<keyid>.json     one key per file, mode 0600 (move root keys offline)
 *   <repo>/metadata/N.root.json         every root version (and root.json, the newest)
 *   <repo>/metadata/N.targets.json      N.snapshot.json, N.rollouts.json, timestamp.json
 *   <repo>/targets/<dir>/<sha256>.<name>  target files, consistent-snapshot names
 *
 * Roles: root (offline, k of n), targets (signs releases), snapshot and
 * timestamp (online), and `rollouts`, a terminating delegation of targets for
 * `rollouts/*`, so the key that steers rollouts can only name signed releases.
 * Metadata is handled as JSON and signed through @tufjs/models.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs'
import { dirname, join, posix } from 'node:path'
import { Metadata, Root, Snapshot, Targets, Timestamp } from '@tufjs/models'
import { writeFileAtomic } from '../util/fs.js'
import { withFileLock } from '../util/file-lock.js'
import { RepositoryError } from './errors.js'
import { generateRoleKey, loadRoleKeys, saveRoleKey, signWith, tufKey } from './role-keys.js'
import type { RoleKey } from './role-keys.js'

export const SPEC_VERSION = '1.0.31'
export const TOP_ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const
export const ROLLOUTS_ROLE = 'rollouts'
export type RoleName = typeof TOP_ROLES[number] | typeof ROLLOUTS_ROLE
export const ROLE_NAMES: RoleName[] = [...TOP_ROLES, ROLLOUTS_ROLE]

/** days each role's metadata stays valid after signing */
export type Expiry = Record<RoleName, number>
export const DEFAULT_EXPIRY: Expiry = { root: 365, targets: 90, snapshot: 7, timestamp: 1, rollouts: 7 }

export interface RepoSettings {
  expiry: Expiry
  rootThreshold: number
  rootKeys: number
}

export interface InitOptions {
  rootKeys?: number
  rootThreshold?: number
  expiry?: Partial<Expiry>
  now?: Date
}

type Json = Record<string, any>

export function expiresIn (days: number, now = new Date()): string {
  return new Date(now.getTime() + days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function sha256 (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function encode (md: Metadata<any>): Uint8Array {
  return Buffer.from(JSON.stringify(md.toJSON(), null, 1))
}

/** a file name for a role's metadata of a version (consistent snapshots) */
export function metadataFileName (role: RoleName, version: number): string {
  return role === 'timestamp' ? 'timestamp.json' : `${version}.${role}.json`
}

/** a target's consistent-snapshot path: the hash before the file's name */
export function targetFilePath (targetPath: string, hash: string): string {
  const dir = posix.dirname(targetPath)
  const name = `${hash}.${posix.basename(targetPath)}`
  return dir === '.' ? name : `${dir}/${name}`
}

export class Repository {
  readonly settings: RepoSettings
  private readonly signed = new Map<RoleName, Json>()
  private keyCache = new Map<RoleName, Map<string, RoleKey>>()
  /** how deep this process is in signing (the lock is taken once) */
  private signing = 0

  private constructor (readonly dir: string) {
    const settingsFile = join(dir, 'repo.json')
    if (!existsSync(settingsFile)) {
      throw new RepositoryError(`${dir} is not an update-mesh repository (no repo.json); create one with: umesh repo init --repo ${dir}`)
    }
    this.settings = JSON.parse(readFileSync(settingsFile, 'utf8'))
  }

  get metadataDir (): string { return join(this.dir, 'metadata') }
  get keysDir (): string { return join(this.dir, 'keys') }
  get targetsDir (): string { return join(this.dir, 'targets') }

  static init (dir: string, options: InitOptions = {}): Repository {
    const rootKeys = options.rootKeys ?? 1
    const rootThreshold = options.rootThreshold ?? 1
    if (!Number.isInteger(rootKeys) || rootKeys < 1 || rootKeys > 16) throw new RepositoryError(`--root-keys: expected 1 to 16, found ${rootKeys}`)
    if (!Number.isInteger(rootThreshold) || rootThreshold < 1 || rootThreshold > rootKeys) {
      throw new RepositoryError(`--root-threshold: expected 1 to ${rootKeys} (the number of root keys), found ${rootThreshold}`)
    }
    if (existsSync(join(dir, 'repo.json')) || existsSync(join(dir, 'metadata'))) {
      throw new RepositoryError(`${dir} already holds a repository; refusing to overwrite it`)
    }
    for (const sub of ['keys', 'metadata', 'targets']) mkdirSync(join(dir, sub), { recursive: true, mode: sub === 'keys' ? 0o700 : 0o755 })
    const settings: RepoSettings = { expiry: { ...DEFAULT_EXPIRY, ...options.expiry }, rootThreshold, rootKeys }
    writeFileAtomic(join(dir, 'repo.json'), JSON.stringify(settings, null, 2) + '\n')

    const keys = {
      root: Array.from({ length: rootKeys }, () => generateRoleKey('root')),
      targets: [generateRoleKey('targets')],
      snapshot: [generateRoleKey('snapshot')],
      timestamp: [generateRoleKey('timestamp')],
      rollouts: [generateRoleKey(ROLLOUTS_ROLE)]
    }
    Object.values(keys).flat().forEach(k => saveRoleKey(join(dir, 'keys'), k))

    const repo = new Repository(dir)
    const now = options.now ?? new Date()
    const e = settings.expiry
    repo.signed.set('root', {
      _type: 'root',
      spec_version: SPEC_VERSION,
      version: 1,
      expires: expiresIn(e.root, now),
      consistent_snapshot: true,
      keys: Object.fromEntries(TOP_ROLES.flatMap(r => keys[r]).map(k => [k.keyId, tufKey(k).toJSON()])),
      roles: Object.fromEntries(TOP_ROLES.map(r => [r, { keyids: keys[r].map(k => k.keyId), threshold: r === 'root' ? rootThreshold : 1 }]))
    })
    repo.signed.set('targets', {
      _type: 'targets',
      spec_version: SPEC_VERSION,
      version: 1,
      expires: expiresIn(e.targets, now),
      targets: {},
      delegations: {
        keys: { [keys.rollouts[0].keyId]: tufKey(keys.rollouts[0]).toJSON() },
        roles: [{ name: ROLLOUTS_ROLE, keyids: [keys.rollouts[0].keyId], threshold: 1, terminating: true, paths: ['rollouts/*'] }]
      }
    })
    repo.signed.set(ROLLOUTS_ROLE, { _type: 'targets', spec_version: SPEC_VERSION, version: 1, expires: expiresIn(e.rollouts, now), targets: {} })
    repo.publish(['root', 'targets', ROLLOUTS_ROLE], now, { versionBump: false })
    return repo
  }

  static open (dir: string): Repository {
    const repo = new Repository(dir)
    repo.load()
    return repo
  }

  /**
   * Every change that signs metadata runs here: under one lock file for all
   * writers (the CLI, the publisher's timestamp refresh, the coordinator),
   * from the newest metadata on disk, so two writers never sign different
   * contents under the same version (which nodes refuse: the timestamp's
   * hash of the snapshot would not match the one they fetch).
   */
  private locked<T> (fn: () => T): T {
    if (this.signing > 0) return fn()
    return withFileLock(join(this.dir, '.sign.lock'), () => {
      this.signing++
      try {
        this.load()
        return fn()
      } finally {
        this.signing--
      }
    }, { holder: 'another writer of this repository', error: message => new RepositoryError(message) })
  }

  /** the newest version of each role, following timestamp → snapshot → targets */
  private load (): void {
    const rootVersions = readdirSync(this.metadataDir).map(f => /^(\d+)\.root\.json$/.exec(f)?.[1]).filter(v => v != null).map(Number)
    if (rootVersions.length === 0) throw new RepositoryError(`${this.metadataDir} holds no root metadata`)
    const read = (name: string): Json => JSON.parse(readFileSync(join(this.metadataDir, name), 'utf8')).signed
    this.signed.set('root', read(`${Math.max(...rootVersions)}.root.json`))
    const timestamp = read('timestamp.json')
    this.signed.set('timestamp', timestamp)
    const snapshot = read(metadataFileName('snapshot', timestamp.meta['snapshot.json'].version))
    this.signed.set('snapshot', snapshot)
    for (const role of ['targets', ROLLOUTS_ROLE] as const) {
      this.signed.set(role, read(metadataFileName(role, snapshot.meta[`${role}.json`].version)))
    }
  }

  signedOf (role: RoleName): Json {
    const s = this.signed.get(role)
    if (s == null) throw new RepositoryError(`no ${role} metadata loaded`)
    return s
  }

  /** key ids the metadata names for a role */
  keyIdsOf (role: RoleName): string[] {
    if (role === ROLLOUTS_ROLE) return this.signedOf('targets').delegations.roles.find((r: Json) => r.name === ROLLOUTS_ROLE).keyids
    return this.signedOf('root').roles[role].keyids
  }

  thresholdOf (role: RoleName): number {
    if (role === ROLLOUTS_ROLE) return this.signedOf('targets').delegations.roles.find((r: Json) => r.name === ROLLOUTS_ROLE).threshold
    return this.signedOf('root').roles[role].threshold
  }

  /** the private keys on this machine for a role's current key ids */
  keysFor (role: RoleName, keyIds = this.keyIdsOf(role)): RoleKey[] {
    let keys = this.keyCache.get(role)
    if (keys == null) {
      keys = existsSync(this.keysDir) ? loadRoleKeys(this.keysDir, role, readdirSync(this.keysDir)) : new Map()
      this.keyCache.set(role, keys)
    }
    return keyIds.map(id => keys.get(id)).filter((k): k is RoleKey => k != null)
  }

  /** signs with the role's keys, refusing below its threshold */
  private sign (role: RoleName, md: Metadata<any>, keyIds = this.keyIdsOf(role), threshold = this.thresholdOf(role)): void {
    const keys = this.keysFor(role, keyIds)
    if (keys.length < threshold) {
      throw new RepositoryError(`signing ${role} needs ${threshold} of its keys, and ${keys.length} ${keys.length === 1 ? 'is' : 'are'} in ${this.keysDir}; bring the missing ${role} key files (${keyIds.filter(id => !keys.some(k => k.keyId === id)).map(id => `${role}-${id.slice(0, 12)}.json`).join(', ')}) back from offline storage`)
    }
    signWith(md, keys.slice(0, Math.max(threshold, keys.length)))
  }

  private metadataOf (role: RoleName, signed: Json): Metadata<any> {
    const model = role === 'root' ? Root.fromJSON(signed) : role === 'snapshot' ? Snapshot.fromJSON(signed) : role === 'timestamp' ? Timestamp.fromJSON(signed) : Targets.fromJSON(signed)
    return new Metadata(model as any)
  }

  private writeRole (role: RoleName, md: Metadata<any>): Uint8Array {
    const bytes = encode(md)
    const version = md.signed.version as number
    writeFileAtomic(join(this.metadataDir, metadataFileName(role, version)), bytes)
    if (role === 'root') writeFileAtomic(join(this.metadataDir, 'root.json'), bytes)
    return bytes
  }

  /**
   * Re-signs the given roles (version bumped, expiry renewed), then snapshot
   * and timestamp, so every change is visible to clients as one new timestamp.
   */
  publish (changed: RoleName[], now = new Date(), options: { versionBump?: boolean, rootSigners?: RoleKey[][] } = {}): void {
    const bump = options.versionBump !== false
    const renew = (role: RoleName): Json => {
      const s = this.signedOf(role)
      const next = { ...s, version: bump ? s.version + 1 : s.version, expires: expiresIn(this.settings.expiry[role], now) }
      this.signed.set(role, next)
      return next
    }
    const written = new Map<string, Uint8Array>()
    for (const role of changed) {
      const md = this.metadataOf(role, renew(role))
      if (role === 'root' && options.rootSigners != null) {
        options.rootSigners.forEach(keys => { signWith(md, keys) })
      } else {
        this.sign(role, md)
      }
      written.set(role, this.writeRole(role, md))
    }
    // snapshot names every targets role's current version, length and hash
    const previous = this.signed.get('snapshot')
    const meta: Json = {}
    for (const role of ['targets', ROLLOUTS_ROLE] as const) {
      const version = this.signedOf(role).version
      const bytes = written.get(role) ?? readFileSync(join(this.metadataDir, metadataFileName(role, version)))
      meta[`${role}.json`] = { version, length: bytes.length, hashes: { sha256: sha256(bytes) } }
    }
    const snapshot = { _type: 'snapshot', spec_version: SPEC_VERSION, version: (previous?.version ?? 0) + 1, expires: expiresIn(this.settings.expiry.snapshot, now), meta }
    this.signed.set('snapshot', snapshot)
    const snapshotMd = this.metadataOf('snapshot', snapshot)
    this.sign('snapshot', snapshotMd)
    const snapshotBytes = this.writeRole('snapshot', snapshotMd)
    this.writeTimestamp(snapshot.version, snapshotBytes, now)
  }

  private writeTimestamp (snapshotVersion: number, snapshotBytes: Uint8Array, now: Date): void {
    const previous = this.signed.get('timestamp')
    const timestamp = {
      _type: 'timestamp',
      spec_version: SPEC_VERSION,
      version: (previous?.version ?? 0) + 1,
      expires: expiresIn(this.settings.expiry.timestamp, now),
      meta: { 'snapshot.json': { version: snapshotVersion, length: snapshotBytes.length, hashes: { sha256: sha256(snapshotBytes) } } }
    }
    this.signed.set('timestamp', timestamp)
    const md = this.metadataOf('timestamp', timestamp)
    this.sign('timestamp', md)
    this.writeRole('timestamp', md)
  }

  /** a new timestamp over the same snapshot: keeps nodes from calling the repository frozen */
  refreshTimestamp (now = new Date()): void {
    this.locked(() => {
      const snapshot = this.signedOf('snapshot')
      this.writeTimestamp(snapshot.version, readFileSync(join(this.metadataDir, metadataFileName('snapshot', snapshot.version))), now)
    })
  }

  /** the timestamp's expiry, for a publisher that re-signs before it lapses */
  timestampExpires (): Date {
    return new Date(this.signedOf('timestamp').expires)
  }

  /** stores target files (consistent-snapshot names) and lists them in `targets` or `rollouts`, then publishes */
  addTargets (files: Array<{ path: string, bytes: Uint8Array, custom?: Json }>, role: 'targets' | typeof ROLLOUTS_ROLE = 'targets', now = new Date()): void {
    this.locked(() => { this.addTargetsLocked(files, role, now) })
  }

  private addTargetsLocked (files: Array<{ path: string, bytes: Uint8Array, custom?: Json }>, role: 'targets' | typeof ROLLOUTS_ROLE, now: Date): void {
    const signed = this.signedOf(role)
    const targets = { ...signed.targets }
    for (const file of files) {
      if (role === ROLLOUTS_ROLE && !file.path.startsWith('rollouts/')) {
        throw new RepositoryError(`the rollouts role may only sign targets under rollouts/, not ${file.path}`)
      }
      const hash = sha256(file.bytes)
      const path = join(this.targetsDir, targetFilePath(file.path, hash))
      mkdirSync(dirname(path), { recursive: true })
      writeFileAtomic(path, file.bytes)
      targets[file.path] = { length: file.bytes.length, hashes: { sha256: hash }, ...(file.custom != null ? { custom: file.custom } : {}) }
    }
    this.signed.set(role, { ...signed, targets })
    this.publish([role], now)
  }

  /** the signed target entries of a role */
  targets (role: 'targets' | typeof ROLLOUTS_ROLE = 'targets'): Record<string, Json> {
    return this.signedOf(role).targets
  }

  /**
   * Replaces a role's key. For root, the new root version is signed by the
   * old keys (their threshold) and the new ones; for the others, root (or
   * targets, for rollouts) names the new key and the role is re-signed with it.
   * Retired key files move to keys/retired/.
   */
  rotate (role: RoleName, now = new Date()): RoleKey[] {
    return this.locked(() => this.rotateLocked(role, now))
  }

  private rotateLocked (role: RoleName, now: Date): RoleKey[] {
    const count = role === 'root' ? this.settings.rootKeys : 1
    const fresh = Array.from({ length: count }, () => generateRoleKey(role))
    const oldIds = this.keyIdsOf(role)
    const oldRootKeys = this.keysFor('root')
    const rootThreshold = this.thresholdOf('root')
    if (oldRootKeys.length < rootThreshold && role !== ROLLOUTS_ROLE) {
      throw new RepositoryError(`rotating ${role} needs ${rootThreshold} root keys in ${this.keysDir}, and ${oldRootKeys.length} ${oldRootKeys.length === 1 ? 'is' : 'are'} there; bring the root key files back from offline storage`)
    }
    fresh.forEach(k => saveRoleKey(this.keysDir, k))
    this.keyCache.delete(role)
    if (role === ROLLOUTS_ROLE) {
      const targets = this.signedOf('targets')
      const keys = { ...targets.delegations.keys }
      oldIds.forEach(id => { delete keys[id] })
      fresh.forEach(k => { keys[k.keyId] = tufKey(k).toJSON() })
      const roles = targets.delegations.roles.map((r: Json) => r.name === ROLLOUTS_ROLE ? { ...r, keyids: fresh.map(k => k.keyId) } : r)
      this.signed.set('targets', { ...targets, delegations: { ...targets.delegations, keys, roles } })
      this.publish(['targets', ROLLOUTS_ROLE], now)
    } else {
      const root = this.signedOf('root')
      const keys = { ...root.keys }
      oldIds.forEach(id => { delete keys[id] })
      fresh.forEach(k => { keys[k.keyId] = tufKey(k).toJSON() })
      this.signed.set('root', { ...root, keys, roles: { ...root.roles, [role]: { ...root.roles[role], keyids: fresh.map(k => k.keyId) } } })
      // a new root must satisfy the old root's threshold and its own
      const signers = role === 'root' ? [oldRootKeys.slice(0, rootThreshold), fresh] : [oldRootKeys.slice(0, rootThreshold)]
      const changed: RoleName[] = ['root', ...(role === 'targets' ? ['targets' as const] : [])]
      this.publish(changed, now, { rootSigners: signers })
    }
    this.retire(role, oldIds)
    return fresh
  }

  private retire (role: RoleName, keyIds: string[]): void {
    const retired = join(this.keysDir, 'retired')
    mkdirSync(retired, { recursive: true, mode: 0o700 })
    for (const key of this.keysFor(role, keyIds)) {
      if (key.file != null) renameSync(key.file, join(retired, `${role}-${key.keyId.slice(0, 12)}.json`))
    }
    this.keyCache.delete(role)
  }

  /** the newest root, as shipped to nodes as their trust anchor */
  rootFile (): string {
    return join(this.metadataDir, 'root.json')
  }

  status (): Array<{ role: RoleName, version: number, expires: string, threshold: number, keys: Array<{ keyId: string, here: boolean }> }> {
    return ROLE_NAMES.map(role => {
      const here = new Set(this.keysFor(role).map(k => k.keyId))
      return {
        role,
        version: this.signedOf(role).version,
        expires: this.signedOf(role).expires,
        threshold: this.thresholdOf(role),
        keys: this.keyIdsOf(role).map(keyId => ({ keyId, here: here.has(keyId) }))
      }
    })
  }
}
