/**
 * Release version schemes. A version names its own channel, so a machine on
 * a channel can pick the newest release it may install without asking anyone.
 *
 * - `semver` (default): MAJOR.MINOR.PATCH; `-alpha…` is alpha, `-beta…` is
 *   beta, no prerelease is stable. Any other prerelease tag (rc, dev, Alpha…)
 *   is refused rather than guessed: a typo must not decide which machines get
 *   a build. Build metadata (`+…`) and a `v` prefix are refused too, since
 *   they do not take part in ordering and would give one release two names.
 * - `abr`: {major}{a|b|r}{minor}, a = alpha, b = beta, r = release (stable).
 *   Ordered by major, then minor, then stage a < b < r:
 *   0a1 < 0b1 < 0r1 < 0a2 < 1a1.
 *
 * Channels nest: stable sees only stable releases, beta sees beta and stable,
 * alpha sees everything.
 */
import semver from 'semver'
import { UmeshError } from '../errors.js'
import type { SemVer } from 'semver'

export const VERSION_SCHEMES = ['semver', 'abr'] as const
export type VersionScheme = typeof VERSION_SCHEMES[number]
export const DEFAULT_VERSION_SCHEME: VersionScheme = 'semver'

/** from least to most stable */
export const CHANNELS = ['alpha', 'beta', 'stable'] as const
export type Channel = typeof CHANNELS[number]

const EXPECTED: Record<VersionScheme, string> = {
  semver: 'MAJOR.MINOR.PATCH, optionally with -alpha.N or -beta.N, e.g. 1.4.0 or 1.4.0-beta.2',
  abr: '{major}{a|b|r}{minor} (a = alpha, b = beta, r = release), e.g. 0a1, 2b3 or 1r0'
}

export class VersionError extends UmeshError {
  override readonly name = 'VersionError'
  override readonly exitCode = 2
  constructor (readonly scheme: string, readonly text: string, message: string) {
    super(message)
  }
}

interface VersionBase {
  text: string
  channel: Channel
}
export interface SemverVersion extends VersionBase {
  scheme: 'semver'
  semver: SemVer
}
export interface AbrVersion extends VersionBase {
  scheme: 'abr'
  major: number
  minor: number
  stage: 'a' | 'b' | 'r'
}
export type ParsedVersion = SemverVersion | AbrVersion

export function isScheme (name: string): name is VersionScheme {
  return (VERSION_SCHEMES as readonly string[]).includes(name)
}

export function isChannel (name: string): name is Channel {
  return (CHANNELS as readonly string[]).includes(name)
}

export function parseVersion (scheme: string, text: string): ParsedVersion {
  if (!isScheme(scheme)) {
    throw new VersionError(scheme, text, `version scheme ${JSON.stringify(scheme)} is unknown; expected one of ${VERSION_SCHEMES.join(', ')}`)
  }
  return scheme === 'semver' ? parseSemver(text) : parseAbr(text)
}

function invalid (scheme: VersionScheme, text: string, problem = `is not a valid ${scheme} version`): VersionError {
  return new VersionError(scheme, text, `version ${JSON.stringify(text)} ${problem}; expected ${EXPECTED[scheme]}`)
}

function parseSemver (text: string): SemverVersion {
  const parsed = semver.parse(text)
  if (parsed == null) throw invalid('semver', text)
  if (parsed.build.length > 0) throw invalid('semver', text, `has build metadata (+${parsed.build.join('.')}), which does not take part in ordering`)
  if (parsed.version !== text) throw invalid('semver', text, `is not written canonically (write ${parsed.version})`)
  const tag = parsed.prerelease[0]
  let channel: Channel
  if (tag === undefined) channel = 'stable'
  else if (tag === 'alpha' || tag === 'beta') channel = tag
  else throw invalid('semver', text, `has the prerelease tag ${JSON.stringify(String(tag))}, which names no channel (use -alpha.N, -beta.N, or no tag for stable)`)
  return { scheme: 'semver', text, channel, semver: parsed }
}

const ABR = /^(0|[1-9][0-9]*)([abr])(0|[1-9][0-9]*)$/
const STAGE_CHANNEL = { a: 'alpha', b: 'beta', r: 'stable' } as const
const STAGE_RANK = { a: 0, b: 1, r: 2 } as const

function parseAbr (text: string): AbrVersion {
  const match = ABR.exec(text)
  if (match == null) throw invalid('abr', text)
  const major = Number(match[1])
  const minor = Number(match[3])
  if (!Number.isSafeInteger(major) || !Number.isSafeInteger(minor)) throw invalid('abr', text, `has a number above ${Number.MAX_SAFE_INTEGER}`)
  const stage = match[2] as 'a' | 'b' | 'r'
  return { scheme: 'abr', text, channel: STAGE_CHANNEL[stage], major, minor, stage }
}

function parsed (scheme: VersionScheme, version: string | ParsedVersion): ParsedVersion {
  if (typeof version === 'string') return parseVersion(scheme, version)
  if (version.scheme !== scheme) {
    throw new VersionError(scheme, version.text, `version ${JSON.stringify(version.text)} is in the ${version.scheme} scheme but was compared as ${scheme}; compare versions of one scheme only`)
  }
  return version
}

/** -1, 0 or 1 as `a` is older than, as new as, or newer than `b` */
export function compareVersions (scheme: VersionScheme, a: string | ParsedVersion, b: string | ParsedVersion): -1 | 0 | 1 {
  const x = parsed(scheme, a)
  const y = parsed(scheme, b)
  if (x.scheme === 'semver' && y.scheme === 'semver') return semver.compare(x.semver, y.semver)
  if (x.scheme === 'abr' && y.scheme === 'abr') {
    const d = x.major - y.major || x.minor - y.minor || STAGE_RANK[x.stage] - STAGE_RANK[y.stage]
    return d < 0 ? -1 : d > 0 ? 1 : 0
  }
  throw new Error('unreachable: versions of two schemes')
}

/** whether a machine on `channel` may install a release on `releaseChannel` */
export function channelSees (channel: Channel, releaseChannel: Channel): boolean {
  return CHANNELS.indexOf(releaseChannel) >= CHANNELS.indexOf(channel)
}

/** the newest of `versions` a machine on `channel` may install, or undefined if none */
export function newestOnChannel (scheme: VersionScheme, versions: Iterable<string | ParsedVersion>, channel: Channel): ParsedVersion | undefined {
  let newest: ParsedVersion | undefined
  for (const version of versions) {
    const v = parsed(scheme, version)
    if (!channelSees(channel, v.channel)) continue
    if (newest === undefined || compareVersions(scheme, v, newest) > 0) newest = v
  }
  return newest
}
