/**
 * The rules a release tree must obey, shared by the directory walker and the
 * tar reader so both refuse exactly the same trees. A release is installed on
 * other machines, so anything that could write outside the install root, mean
 * different files on different file systems, or smuggle in privileges is
 * refused before a byte is stored, naming the entry and what to do instead.
 */
import { UmeshError } from '../errors.js'
import { pathProblem, quotePath } from '../../protocols/shared/path-rules.js'

export { quotePath, MAX_PATH_BYTES, MAX_COMPONENT_BYTES } from '../../protocols/shared/path-rules.js'

export const DEFAULT_MAX_ENTRIES = 100_000
export const DEFAULT_MAX_TOTAL_BYTES = 4 * 1024 ** 3
/** slack per entry for tar headers, pax records and padding when capping a decompressed archive */
const ARCHIVE_BYTES_PER_ENTRY = 2048
const ARCHIVE_SLACK_BYTES = 1024 * 1024

export interface SourceTreeLimits {
  /** entries (files and directories) a tree may hold; default 100,000 */
  maxEntries?: number
  /** sum of all file sizes; default 4 GiB */
  maxTotalBytes?: number
  /**
   * bytes a (decompressed) tar stream may hold, headers and padding included;
   * default maxTotalBytes + 2 KiB × maxEntries + 1 MiB. The zip-bomb guard.
   */
  maxArchiveBytes?: number
}

export type ResolvedLimits = Required<SourceTreeLimits>

export function resolveLimits (limits: SourceTreeLimits = {}): ResolvedLimits {
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES
  const maxTotalBytes = limits.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES
  const maxArchiveBytes = limits.maxArchiveBytes ?? maxTotalBytes + ARCHIVE_BYTES_PER_ENTRY * maxEntries + ARCHIVE_SLACK_BYTES
  for (const [name, value] of Object.entries({ maxEntries, maxTotalBytes, maxArchiveBytes })) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`source tree limit ${name}: expected a positive integer, found ${String(value)}`)
    }
  }
  return { maxEntries, maxTotalBytes, maxArchiveBytes }
}

/** An entry that may not be published; `entry` is its path inside the tree. */
export class UnsafeTreeError extends UmeshError {
  override readonly name = 'UnsafeTreeError'
  constructor (readonly entry: string, readonly reason: string) {
    super(`unsafe release tree: ${quotePath(entry)}: ${reason}`)
  }
}

/** The release source itself is unusable: missing, of the wrong kind, corrupt, or changed while read. */
export class ReleaseSourceError extends UmeshError {
  override readonly name = 'ReleaseSourceError'
  constructor (readonly source: string, message: string) {
    super(`release source ${quotePath(source)}: ${message}`)
  }
}

/**
 * Checks one path as written in the source (posix separators, relative) and
 * returns it unchanged. Throws UnsafeTreeError for the first rule it breaks.
 */
export function checkEntryPath (path: string): string {
  const problem = pathProblem(path)
  if (problem != null) throw new UnsafeTreeError(path, problem)
  return path
}

export type RejectedKind = 'symbolic link' | 'hard link' | 'block device' | 'character device' | 'FIFO' | 'socket' | 'contiguous file' | 'unknown entry type'

export function rejectKind (path: string, kind: RejectedKind, detail = ''): never {
  const what = kind === 'unknown entry type' ? `an entry of unknown type${detail}` : `a ${kind}${detail}`
  const todo = kind === 'symbolic link' || kind === 'hard link' || kind === 'contiguous file'
    ? 'replace it with a plain copy of the file'
    : 'remove it from the tree'
  throw new UnsafeTreeError(path, `the entry is ${what}; a release may only contain regular files and directories, so ${todo}`)
}

/** The published mode: only the executable bit survives; setuid, setgid and sticky files are refused. */
export function fileMode (path: string, mode: number): 0o644 | 0o755 {
  const special = [[0o4000, 'setuid'], [0o2000, 'setgid'], [0o1000, 'sticky']] as const
  const found = special.filter(([bit]) => (mode & bit) !== 0).map(([, name]) => name)
  if (found.length > 0) {
    throw new UnsafeTreeError(path, `the file has the ${found.join(' and ')} bit${found.length > 1 ? 's' : ''} set (mode ${(mode & 0o7777).toString(8)}); a release never grants privileges, so clear them with chmod ug-s,o-t`)
  }
  return (mode & 0o111) !== 0 ? 0o755 : 0o644
}

/** case folding stricter than any one file system: ß/SS/ss, K/k/Kelvin sign all collide */
function caseFold (path: string): string {
  return path.toUpperCase().toLowerCase().normalize('NFC')
}

/**
 * The tree-wide rules: entry count, total size, duplicates, a name used both
 * as a file and as a directory, and names that collide once case-folded.
 * Entries are the distinct paths of the tree, files and directories, listed
 * or implied by a deeper path; counting implied ones too bounds the work a
 * hostile archive of deep, distinct paths can cause.
 */
export class TreeIndex {
  private readonly kinds = new Map<string, 'file' | 'dir' | 'implied-dir'>()
  private readonly folded = new Map<string, string>()
  private nodes = 0
  totalBytes = 0

  constructor (private readonly limits: ResolvedLimits) {}

  add (path: string, kind: 'file' | 'dir', size = 0): void {
    const existing = this.kinds.get(path)
    if (existing === 'file' || existing === 'dir') throw new UnsafeTreeError(path, 'the tree holds this name twice; remove the duplicate entry')
    if (existing === 'implied-dir') {
      if (kind === 'file') throw new UnsafeTreeError(path, 'the name is a file but other entries use it as a directory; rename one of them')
      this.kinds.set(path, 'dir') // counted and case-checked when first implied
      return
    }
    // the ancestors not in the tree yet, deepest first: an ancestor already there had its own checked
    const fresh: string[] = []
    for (let end = path.lastIndexOf('/'); end > 0; end = path.lastIndexOf('/', end - 1)) {
      const prefix = path.slice(0, end)
      const known = this.kinds.get(prefix)
      if (known === 'file') throw new UnsafeTreeError(path, `${quotePath(prefix)} is a file but this path uses it as a directory; rename one of them`)
      if (known !== undefined) break
      fresh.push(prefix)
    }
    for (const prefix of fresh.reverse()) this.addNode(path, prefix, 'implied-dir')
    this.addNode(path, path, kind)
    if (kind === 'file') {
      this.totalBytes += size
      if (this.totalBytes > this.limits.maxTotalBytes) {
        throw new UnsafeTreeError(path, `the files add up to more than ${this.limits.maxTotalBytes} bytes (the maxTotalBytes limit) at this ${size}-byte file; make the release smaller or raise the limit`)
      }
    }
  }

  private addNode (entry: string, node: string, kind: 'file' | 'dir' | 'implied-dir'): void {
    if (++this.nodes > this.limits.maxEntries) {
      throw new UnsafeTreeError(entry, `the tree has more than ${this.limits.maxEntries} entries (files and directories, the maxEntries limit); split the release or raise the limit`)
    }
    const fold = caseFold(node)
    const other = this.folded.get(fold)
    if (other !== undefined) {
      throw new UnsafeTreeError(entry, `${quotePath(node)} and ${quotePath(other)} differ only in letter case and would be the same file on a case-insensitive file system; rename one of them`)
    }
    this.folded.set(fold, node)
    this.kinds.set(node, kind)
  }
}

/** the order entries are listed in: by the UTF-8 bytes of the path, like `LC_ALL=C sort` */
export function sortByPath<T extends { path: string }> (entries: T[]): T[] {
  return entries.map(entry => ({ key: Buffer.from(entry.path), entry }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map(({ entry }) => entry)
}
