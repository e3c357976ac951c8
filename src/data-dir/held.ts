/**
 * `held.json`: the releases this node holds in full (their target paths) and
 * the packages it follows (`pkg@channel`). The follower adds to it as
 * releases complete; the sync summary, status and the CLI read it.
 *
 *   { "releases": ["releases/app/1.0.0.json", ...], "follow": ["app@stable"] }
 */
import { existsSync, readFileSync } from 'node:fs'
import { writeFileAtomic } from '../util/fs.js'
import type { Channel } from '../release/index.js'

export interface HeldFile {
  releases: string[]
  follow: string[]
}

export interface FollowedPackage {
  package: string
  channel: Channel
}

/** `app@beta` -> { package: 'app', channel: 'beta' }; no channel: stable */
export function parseFollow (entries: string[]): FollowedPackage[] {
  return entries.map(e => {
    const [pkg, channel] = e.split('@')
    return { package: pkg, channel: (channel ?? 'stable') as Channel }
  })
}

export function readHeldFile (file: string): HeldFile {
  if (!existsSync(file)) return { releases: [], follow: [] }
  const parsed = JSON.parse(readFileSync(file, 'utf8'))
  const strings = (v: unknown): string[] => Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
  return { releases: strings(parsed?.releases), follow: strings(parsed?.follow) }
}

/**
 * The held set in memory, written through to `held.json` on every change.
 * One instance per daemon: the follower adds, everything else reads.
 */
export class HeldReleases {
  private readonly releases: Set<string>

  constructor (private readonly file: string, private readonly follow: FollowedPackage[]) {
    this.releases = new Set(readHeldFile(file).releases)
  }

  has (targetPath: string): boolean {
    return this.releases.has(targetPath)
  }

  /** release target paths held completely, oldest first */
  list (): string[] {
    return [...this.releases]
  }

  add (targetPath: string): void {
    if (this.releases.has(targetPath)) return
    this.releases.add(targetPath)
    const file: HeldFile = { releases: [...this.releases], follow: this.follow.map(f => `${f.package}@${f.channel}`) }
    writeFileAtomic(this.file, JSON.stringify(file) + '\n')
  }
}
