/**
 * A node's trusted TUF state in its data dir:
 *
 *   <data>/tuf/metadata/   what tuf-js trusts (root.json, timestamp.json, ...): survives restarts,
 *                          so a replayed older timestamp, snapshot or targets is refused after one too
 *   <data>/tuf/mirror/     every verified metadata and target file, in the repository's layout,
 *                          served to peers over the sync protocol
 *
 * The configured root.json is the trust anchor: copied in on first start,
 * then replaced only through signed root rotations.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Metadata, MetadataKind } from '@tufjs/models'
import { writeFileAtomic } from '../util/fs.js'
import { TrustError } from '../trust/errors.js'
import { checkEntryPath } from '../release/tree-rules.js'
import type { Root } from '@tufjs/models'
import type { DataPaths } from '../data-dir/index.js'

export class NodeTrust {
  readonly metadataDir: string
  readonly mirrorDir: string
  readonly targetsDir: string

  constructor (paths: DataPaths) {
    this.metadataDir = paths.tufMetadata
    this.mirrorDir = paths.tufMirror
    this.targetsDir = paths.tufTargets
  }

  /** installs the trust anchor on first start; later starts keep what rotations made of it */
  init (trustedRootFile: string): void {
    for (const dir of [this.metadataDir, join(this.mirrorDir, 'metadata'), join(this.mirrorDir, 'targets'), this.targetsDir]) mkdirSync(dir, { recursive: true })
    if (existsSync(join(this.metadataDir, 'root.json'))) return
    let root: Metadata<Root>
    try {
      root = Metadata.fromJSON(MetadataKind.Root, JSON.parse(readFileSync(trustedRootFile, 'utf8')))
      root.verifyDelegate('root', root)
    } catch (err) {
      throw new TrustError(`trusted root ${trustedRootFile} is not a valid self-signed TUF root (${(err as Error).message}); ship the root.json of your release repository`)
    }
    copyFileSync(trustedRootFile, join(this.metadataDir, 'root.json'))
    copyFileSync(trustedRootFile, join(this.mirrorDir, 'metadata', `${root.signed.version}.root.json`))
  }

  private read (name: string): Metadata<any> | undefined {
    const path = join(this.metadataDir, `${name}.json`)
    if (!existsSync(path)) return undefined
    const kind = name === 'root' ? MetadataKind.Root : name === 'timestamp' ? MetadataKind.Timestamp : name === 'snapshot' ? MetadataKind.Snapshot : MetadataKind.Targets
    return Metadata.fromJSON(kind as any, JSON.parse(readFileSync(path, 'utf8')))
  }

  root (): Metadata<Root> {
    const root = this.read('root')
    if (root == null) throw new TrustError(`no trusted root in ${this.metadataDir}`)
    return root
  }

  timestampVersion (): number {
    return this.read('timestamp')?.signed.version ?? 0
  }

  timestampBytes (): Uint8Array | undefined {
    const path = join(this.metadataDir, 'timestamp.json')
    return existsSync(path) ? readFileSync(path) : undefined
  }

  /** the trusted targets metadata's entries (what releases exist), empty before the first refresh */
  targets (): Record<string, { length: number, hashes: Record<string, string>, custom?: Record<string, any> }> {
    const targets = this.read('targets')
    if (targets == null) return {}
    return Object.fromEntries(Object.entries(targets.signed.targets).map(([path, t]: [string, any]) => [path, { length: t.length, hashes: t.hashes, custom: t.custom }]))
  }

  /**
   * Keeps a verified file for peers, under the repository-relative path it
   * was fetched by. Target paths come from signed metadata, but a signer is
   * not trusted to choose where this node writes: the path must pass the
   * release path rules and stay under metadata/ or targets/.
   */
  mirror (path: string, bytes: Uint8Array): void {
    checkEntryPath(path)
    if (!/^(metadata|targets)\//.test(path)) throw new TrustError(`refusing to mirror ${JSON.stringify(path)}: not under metadata/ or targets/`)
    const target = join(this.mirrorDir, path)
    mkdirSync(dirname(target), { recursive: true })
    // whole or absent (a rename), but not synced: the mirror is a cache of verified files, and a
    // synchronous fsync here held the event loop for hundreds of ms on a busy disk, on the path
    // from an announcement to the fetch
    writeFileAtomic(target, bytes, 0o644, false)
  }
}
