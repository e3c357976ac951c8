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

/**
 * Version ranges, as a release's `requires` and `conflicts` name them.
 *
 *   range       := set ( "||" set )*          any one set holds
 *   set         := comparator ( " " comparator )*   every comparator holds
 *   comparator  := "*" | V | "=" V | ">" V | ">=" V | "<" V | "<=" V
 *                  | "^" V | "~" V               (semver only)
 *
 * V is a whole version of the scheme (no partial versions such as 1.2 or 1.x,
 * no hyphen ranges), and an operator is written against its version
 * (`>=1.2.0`, not `>= 1.2.0`). Examples: `>=1.2.0 <2.0.0`, `^1.4.0 || ^2.0.0`,
 * `*`; for abr `>=0r1 <1a0`, `2r3 || 2r4`.
 *
 * semver `^` and `~` mean what they mean to npm for a whole version:
 *   ^1.2.3 = >=1.2.3 <2.0.0   ^0.2.3 = >=0.2.3 <0.3.0   ^0.0.3 = >=0.0.3 <0.0.4
 *   ~1.2.3 = >=1.2.3 <1.3.0   (a prerelease V keeps its prerelease in the lower bound)
 *
 * Prereleases (a simpler rule than npm's, chosen because channels already
 * decide which machines see prereleases): versions compare by the scheme's
 * order, except that a semver `<V` whose V has no prerelease is also below
 * every prerelease of V. So `<2.0.0` and `^1.2.0` exclude 2.0.0-alpha.1, while
 * `>=1.2.0` includes 1.3.0-beta.1 (npm would exclude it; here a beta machine
 * running 1.3.0-beta.1 satisfies a dependent that needs 1.2.0 or newer).
 * abr ranges use plain abr order: 0a2 is above 0r1 and below 0r2, so write
 * `<1a0` for "below major 1". `*` matches every version, prereleases too.
 */
export const MAX_RANGE_LENGTH = 256

export type RangeOperator = '=' | '>' | '>=' | '<' | '<='

export interface RangeComparator {
  operator: RangeOperator
  version: ParsedVersion
}

export interface VersionRange {
  scheme: VersionScheme
  /** the text as given */
  text: string
  /** alternatives (`||`); each a list of comparators that must all hold; an empty list (`*`) holds for every version */
  sets: RangeComparator[][]
}

const RANGE_EXPECTED: Record<VersionScheme, string> = {
  semver: 'space-separated comparators that must all hold (V, =V, >V, >=V, <V, <=V, ^V, ~V, or * for any version), alternatives joined by ||, with whole versions, e.g. ">=1.2.0 <2.0.0 || ^3.1.0"',
  abr: 'space-separated comparators that must all hold (V, =V, >V, >=V, <V, <=V, or * for any version), alternatives joined by ||, with whole abr versions, e.g. ">=0r1 <1a0 || 2r0"'
}

function badRange (scheme: VersionScheme, text: string, problem: string): VersionError {
  return new VersionError(scheme, text, `range ${JSON.stringify(text)} is not a valid ${scheme} range: ${problem}; expected ${RANGE_EXPECTED[scheme]}`)
}

const COMPARATOR = /^(>=|<=|>|<|=|\^|~)?(.*)$/

/** parses a range of `scheme` (syntax above); throws VersionError naming what is wrong, with an example */
export function parseRange (scheme: string, text: string): VersionRange {
  if (!isScheme(scheme)) {
    throw new VersionError(scheme, text, `version scheme ${JSON.stringify(scheme)} is unknown; expected one of ${VERSION_SCHEMES.join(', ')}`)
  }
  if (typeof text !== 'string') throw badRange(scheme, String(text), 'it is not text')
  if (text.length > MAX_RANGE_LENGTH) throw badRange(scheme, text.slice(0, 40) + '…', `it is ${text.length} characters long, more than ${MAX_RANGE_LENGTH}`)
  if (text.trim() === '') throw badRange(scheme, text, 'it is empty (write * for any version)')
  const sets = text.split('||').map((alternative, i): RangeComparator[] => {
    const tokens = alternative.trim().split(/\s+/).filter(t => t !== '')
    if (tokens.length === 0) throw badRange(scheme, text, `alternative ${i + 1} is empty (nothing on one side of ||)`)
    const set: RangeComparator[] = []
    for (const token of tokens) {
      if (token === '*') continue
      const [, op = '', rest] = COMPARATOR.exec(token) as RegExpExecArray
      if (rest === '') throw badRange(scheme, text, `"${token}" has no version (write the operator against its version, e.g. ${op}${scheme === 'semver' ? '1.2.0' : '0r1'})`)
      if (/^[<>=^~]/.test(rest)) throw badRange(scheme, text, `"${token}" is not an operator this scheme knows`)
      if ((op === '^' || op === '~') && scheme !== 'semver') throw badRange(scheme, text, `"${token}": ^ and ~ are semver operators; abr ranges take only =, >, >=, <, <= and *`)
      let version: ParsedVersion
      try {
        version = parseVersion(scheme, rest)
      } catch (err) {
        throw badRange(scheme, text, `in "${token}", ${(err as Error).message.replace(/; expected .*$/s, '')}`)
      }
      if (op === '^' || op === '~') set.push(...caretTilde(op, version as SemverVersion))
      else set.push({ operator: op === '' ? '=' : op as RangeOperator, version })
    }
    return set
  })
  return { scheme, text, sets }
}

function caretTilde (op: '^' | '~', v: SemverVersion): RangeComparator[] {
  const { major, minor, patch } = v.semver
  const upper = op === '~' || major === 0
    ? (op === '^' && minor === 0 ? `0.0.${patch + 1}` : `${major}.${minor + 1}.0`)
    : `${major + 1}.0.0`
  return [{ operator: '>=', version: v }, { operator: '<', version: parseSemver(upper) }]
}

function holds (scheme: VersionScheme, version: ParsedVersion, c: RangeComparator): boolean {
  const d = compareVersions(scheme, version, c.version)
  switch (c.operator) {
    case '=': return d === 0
    case '>': return d > 0
    case '>=': return d >= 0
    case '<':
      if (d >= 0) return false
      // `<2.0.0` is below 2.0.0's prereleases too
      if (version.scheme === 'semver' && c.version.scheme === 'semver' && c.version.semver.prerelease.length === 0 && version.semver.prerelease.length > 0) {
        return !(version.semver.major === c.version.semver.major && version.semver.minor === c.version.semver.minor && version.semver.patch === c.version.semver.patch)
      }
      return true
    case '<=': return d <= 0
  }
}

/** whether `version` is in `range` (both of `scheme`); a range given as text is parsed first */
export function satisfies (scheme: string, version: string | ParsedVersion, range: string | VersionRange): boolean {
  const r = typeof range === 'string' ? parseRange(scheme, range) : range
  if (r.scheme !== scheme) {
    throw new VersionError(scheme, r.text, `range ${JSON.stringify(r.text)} is in the ${r.scheme} scheme but was matched as ${scheme}; match versions and ranges of one scheme only`)
  }
  const v = parsed(r.scheme, version)
  return r.sets.some(set => set.every(c => holds(r.scheme, v, c)))
}
