/**
 * The release index: one TUF target per release (`releases/<package>/<version>.json`)
 * listing every file's path, mode, size, SHA-256 and chunk CIDs. A node
 * trusts it only after TUF has verified its length and hash, and still parses
 * it strictly: every count and size is capped, sizes must add up, and every
 * path passes the same rules as `release add`, so a signed index can never
 * make a node write outside its install folder or allocate without bound.
 */
import { CID } from 'multiformats/cid'
import { UmeshError } from '../errors.js'
import { MAX_CHUNK_BYTES } from '../../protocols/shared/chunk-cid.js'
import { checkEntryPath } from './tree-rules.js'
import { CHANNELS, parseRange } from './version.js'
import type { Channel } from './version.js'

export const INDEX_FORMAT = 'umesh-release/1'
export const MAX_INDEX_BYTES = 64 * 1024 * 1024
export const MAX_FILES = 100_000
export { MAX_CHUNK_BYTES }
export const MAX_CHANGELOG_BYTES = 64 * 1024
export const PACKAGE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/
/** at most this many `requires`, and as many `conflicts`, per release */
export const MAX_DEPENDENCIES = 64


export interface IndexChunk {
  cid: string
  size: number
}

export interface IndexFile {
  path: string
  mode: number
  size: number
  sha256: string
  chunks: IndexChunk[]
}

/** a package and a range of its versions (range syntax: parseRange in version.ts) */
export interface PackageRange {
  package: string
  range: string
}

export interface ReleaseIndex {
  format: typeof INDEX_FORMAT
  package: string
  version: string
  scheme: string
  channel: Channel
  changelog: string
  created: string
  totalSize: number
  files: IndexFile[]
  /**
   * packages this release needs installed, each at a version in its range.
   * Ranges are written in this release's scheme, so a package can depend only
   * on packages of the same version scheme. Absent in older indexes: [].
   */
  requires: PackageRange[]
  /** packages that may not be installed at a version in the range while this release is. Absent: [] */
  conflicts: PackageRange[]
  /** an upgrade from below this release to above it must install it first (unless forced). Absent: false */
  requiredStep: boolean
  /** may bypass maintenance windows. Absent: false */
  critical: boolean
}

export class ReleaseIndexError extends UmeshError {
  override readonly name = 'ReleaseIndexError'
}

export function releaseTargetPath (pkg: string, version: string): string {
  return `releases/${pkg}/${version}.json`
}

export function encodeReleaseIndex (index: ReleaseIndex): Uint8Array {
  return Buffer.from(JSON.stringify(index, null, 1) + '\n')
}

/**
 * What is wrong with one `requires` (or `conflicts`) entry of a release of
 * `pkg` in `scheme`, or undefined when it is good: the package must be a
 * valid name other than `pkg`, the range must parse in `scheme`.
 */
export function dependencyProblem (field: 'requires' | 'conflicts', entry: { package: unknown, range: unknown }, pkg: string, scheme: string): string | undefined {
  if (typeof entry.package !== 'string' || !PACKAGE_NAME.test(entry.package)) return `package name ${JSON.stringify(entry.package)} is not a lowercase name of 1-64 letters, digits, . _ -`
  if (entry.package === pkg) return `${pkg} cannot ${field === 'requires' ? 'require' : 'conflict with'} its own package`
  if (typeof entry.range !== 'string') return `range must be a string, found ${JSON.stringify(entry.range)}`
  try {
    parseRange(scheme, entry.range)
  } catch (err) {
    return (err as Error).message
  }
  return undefined
}

function fail (what: string): never {
  throw new ReleaseIndexError(`invalid release index: ${what}`)
}

function int (value: unknown, what: string, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) fail(`${what} must be an integer from 0 to ${max}, found ${JSON.stringify(value)}`)
  return value
}

/** Parses and checks an index; paths pass the same rules as `release add` (tree-rules.ts). */
export function parseReleaseIndex (bytes: Uint8Array, maxTotalBytes = Number.MAX_SAFE_INTEGER): ReleaseIndex {
  if (bytes.length > MAX_INDEX_BYTES) fail(`${bytes.length} bytes, more than ${MAX_INDEX_BYTES}`)
  let raw: any
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch (err) {
    fail(`not JSON (${(err as Error).message})`)
  }
  if (raw?.format !== INDEX_FORMAT) fail(`format must be "${INDEX_FORMAT}", found ${JSON.stringify(raw?.format)}`)
  if (typeof raw.package !== 'string' || !PACKAGE_NAME.test(raw.package)) fail(`package name ${JSON.stringify(raw.package)} is not a lowercase name of 1-64 letters, digits, . _ -`)
  if (typeof raw.version !== 'string' || raw.version.length === 0 || raw.version.length > 64) fail('version must be a string of 1-64 characters')
  if (typeof raw.scheme !== 'string') fail('scheme must be a string')
  if (!(CHANNELS as readonly string[]).includes(raw.channel)) fail(`channel must be one of ${CHANNELS.join(', ')}, found ${JSON.stringify(raw.channel)}`)
  if (typeof raw.changelog !== 'string' || Buffer.byteLength(raw.changelog) > MAX_CHANGELOG_BYTES) fail(`changelog must be text of at most ${MAX_CHANGELOG_BYTES} bytes`)
  if (typeof raw.created !== 'string' || Number.isNaN(Date.parse(raw.created))) fail('created must be an ISO date')
  if (!Array.isArray(raw.files) || raw.files.length > MAX_FILES) fail(`files must be a list of at most ${MAX_FILES}`)
  const totalSize = int(raw.totalSize, 'totalSize', maxTotalBytes)
  let sum = 0
  const seen = new Set<string>()
  const files: IndexFile[] = raw.files.map((f: any, i: number): IndexFile => {
    const where = `files[${i}]`
    if (typeof f?.path !== 'string') fail(`${where}.path must be a string`)
    try {
      checkEntryPath(f.path)
    } catch (err) {
      fail(`${where}.path: ${(err as Error).message}`)
    }
    if (seen.has(f.path.toLowerCase())) fail(`${where}.path ${JSON.stringify(f.path)} is listed twice (or collides when case-folded)`)
    seen.add(f.path.toLowerCase())
    if (f.mode !== 0o644 && f.mode !== 0o755) fail(`${where}.mode must be 0644 or 0755, found ${JSON.stringify(f.mode)}`)
    const size = int(f.size, `${where}.size`, maxTotalBytes)
    if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256)) fail(`${where}.sha256 must be 64 hex digits`)
    // every chunk holds at least one byte, so a file has at most `size` chunks
    if (!Array.isArray(f.chunks) || f.chunks.length > size) fail(`${where}.chunks must be a list of at most ${size} chunks (one per byte at most)`)
    let chunkSum = 0
    const chunks = f.chunks.map((c: any, j: number): IndexChunk => {
      const chunkSize = int(c?.size, `${where}.chunks[${j}].size`, MAX_CHUNK_BYTES)
      if (chunkSize === 0) fail(`${where}.chunks[${j}] is empty`)
      let cid: CID
      try {
        cid = CID.parse(c.cid)
      } catch {
        fail(`${where}.chunks[${j}].cid ${JSON.stringify(c?.cid)} is not a CID`)
      }
      if (cid.version !== 1 || cid.code !== 0x55 || cid.multihash.code !== 0x12) fail(`${where}.chunks[${j}].cid must be CIDv1, raw, sha2-256`)
      chunkSum += chunkSize
      return { cid: cid.toString(), size: chunkSize }
    })
    if (chunkSum !== size) fail(`${where}: chunk sizes add up to ${chunkSum}, the file size is ${size}`)
    sum += size
    return { path: f.path, mode: f.mode, size, sha256: f.sha256, chunks }
  })
  if (sum !== totalSize) fail(`file sizes add up to ${sum}, totalSize is ${totalSize}`)
  const requires = dependencies(raw, 'requires')
  const conflicts = dependencies(raw, 'conflicts')
  const requiredStep = flag(raw, 'requiredStep')
  const critical = flag(raw, 'critical')
  return { format: INDEX_FORMAT, package: raw.package, version: raw.version, scheme: raw.scheme, channel: raw.channel, changelog: raw.changelog, created: raw.created, totalSize, files, requires, conflicts, requiredStep, critical }
}

function flag (raw: any, field: 'requiredStep' | 'critical'): boolean {
  const value = raw[field] === undefined ? false : raw[field]
  if (typeof value !== 'boolean') fail(`${field} must be true or false, found ${JSON.stringify(value)}`)
  return value
}

function dependencies (raw: any, field: 'requires' | 'conflicts'): PackageRange[] {
  const list = raw[field] === undefined ? [] : raw[field]
  if (!Array.isArray(list) || list.length > MAX_DEPENDENCIES) fail(`${field} must be a list of at most ${MAX_DEPENDENCIES} entries`)
  const seen = new Set<string>()
  return list.map((entry: any, i: number): PackageRange => {
    const where = `${field}[${i}]`
    if (entry == null || typeof entry !== 'object' || Array.isArray(entry)) fail(`${where} must be an object { "package", "range" }`)
    const extra = Object.keys(entry).filter(k => k !== 'package' && k !== 'range')
    if (extra.length > 0) fail(`${where} has unknown field ${JSON.stringify(extra[0])}; an entry holds only "package" and "range"`)
    const problem = dependencyProblem(field, entry, raw.package, raw.scheme)
    if (problem !== undefined) fail(`${where}: ${problem}`)
    if (seen.has(entry.package)) fail(`${where}: ${entry.package} is listed twice in ${field}; one entry per package (space-separated comparators all hold)`)
    seen.add(entry.package)
    return { package: entry.package, range: entry.range }
  })
}
