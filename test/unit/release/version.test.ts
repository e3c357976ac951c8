import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CHANNELS, DEFAULT_VERSION_SCHEME, MAX_RANGE_LENGTH, VersionError, channelSees, compareVersions, isChannel, isScheme, newestOnChannel, parseRange, parseVersion, satisfies } from '../../../src/release/version.js'

function versionError (fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: any) => {
    assert.equal(err.name, 'VersionError')
    assert.ok(err instanceof VersionError)
    assert.equal(err.exitCode, 2)
    assert.match(err.message, message)
    return true
  })
}

/** sorts with compareVersions and checks the result is the given order */
function assertOrder (scheme: 'semver' | 'abr', ascending: string[]): void {
  const shuffled = [...ascending].reverse()
  shuffled.push(shuffled.shift() as string)
  assert.deepEqual(shuffled.sort((a, b) => compareVersions(scheme, a, b)), ascending)
  for (let i = 1; i < ascending.length; i++) {
    assert.equal(compareVersions(scheme, ascending[i - 1], ascending[i]), -1, `${ascending[i - 1]} < ${ascending[i]}`)
    assert.equal(compareVersions(scheme, ascending[i], ascending[i - 1]), 1, `${ascending[i]} > ${ascending[i - 1]}`)
    assert.equal(compareVersions(scheme, ascending[i], ascending[i]), 0)
  }
}

describe('release versions', () => {
  it('knows its schemes and channels', () => {
    assert.equal(DEFAULT_VERSION_SCHEME, 'semver')
    assert.ok(isScheme('semver'))
    assert.ok(isScheme('abr'))
    assert.ok(!isScheme('calver'))
    assert.ok(!isScheme('toString'))
    assert.deepEqual([...CHANNELS], ['alpha', 'beta', 'stable'])
    assert.ok(isChannel('beta'))
    assert.ok(!isChannel('rc'))
  })

  describe('semver', () => {
    it('maps the prerelease tag to a channel', () => {
      assert.equal(parseVersion('semver', '1.2.0').channel, 'stable')
      assert.equal(parseVersion('semver', '1.2.0-alpha.1').channel, 'alpha')
      assert.equal(parseVersion('semver', '1.2.0-alpha').channel, 'alpha')
      assert.equal(parseVersion('semver', '1.2.0-beta.3').channel, 'beta')
      const v = parseVersion('semver', '10.20.30-beta.4')
      assert.equal(v.scheme, 'semver')
      assert.equal(v.text, '10.20.30-beta.4')
    })

    it('orders by semver precedence', () => {
      assertOrder('semver', ['0.9.9', '1.0.0-alpha.1', '1.0.0-alpha.2', '1.0.0-alpha.10', '1.0.0-beta.1', '1.0.0', '1.0.1', '1.10.0', '2.0.0-alpha.1'])
    })

    it('rejects text that does not parse, naming the scheme and showing an example', () => {
      versionError(() => parseVersion('semver', '1.2'), /^version "1\.2" is not a valid semver version; expected MAJOR\.MINOR\.PATCH, optionally with -alpha\.N or -beta\.N, e\.g\. 1\.4\.0 or 1\.4\.0-beta\.2$/)
      versionError(() => parseVersion('semver', ''), /version "" is not a valid semver version/)
      versionError(() => parseVersion('semver', '01.2.3'), /not a valid semver version/)
      versionError(() => parseVersion('semver', '0a1'), /not a valid semver version/)
    })

    it('rejects prerelease tags that name no channel, build metadata and non-canonical spellings', () => {
      versionError(() => parseVersion('semver', '1.0.0-rc.1'), /the prerelease tag "rc", which names no channel \(use -alpha\.N, -beta\.N, or no tag for stable\)/)
      versionError(() => parseVersion('semver', '1.0.0-Alpha.1'), /prerelease tag "Alpha"/)
      versionError(() => parseVersion('semver', '1.0.0-1'), /prerelease tag "1"/)
      versionError(() => parseVersion('semver', '1.0.0+build.5'), /has build metadata \(\+build\.5\), which does not take part in ordering/)
      versionError(() => parseVersion('semver', 'v1.0.0'), /is not written canonically \(write 1\.0\.0\)/)
      versionError(() => parseVersion('semver', ' 1.0.0'), /is not written canonically/)
    })
  })

  describe('abr ({major}{a|b|r}{minor})', () => {
    it('parses major, stage and minor, and maps the stage to a channel', () => {
      assert.deepEqual(parseVersion('abr', '0a1'), { scheme: 'abr', text: '0a1', channel: 'alpha', major: 0, minor: 1, stage: 'a' })
      assert.equal(parseVersion('abr', '2b3').channel, 'beta')
      assert.equal(parseVersion('abr', '12r40').channel, 'stable')
      assert.equal(parseVersion('abr', '1r0').channel, 'stable')
    })

    it('orders by major, then minor, then stage: 0a1 < 0b1 < 0r1 < 0a2 < 1a1', () => {
      assertOrder('abr', ['0a1', '0b1', '0r1', '0a2', '1a1'])
      assertOrder('abr', ['0r9', '0a10', '0r10', '1a0', '1b0', '2a1', '10a1'])
    })

    it('rejects text that does not parse, naming the scheme and showing an example', () => {
      for (const bad of ['1.2.0', '0c1', '0a', 'a1', '01a1', '0a01', '0A1', '-1a1', '0a1 ', '99999999999999999999a1']) {
        versionError(() => parseVersion('abr', bad), new RegExp(`^version ${JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (is not a valid abr version|has a number above)`))
      }
      versionError(() => parseVersion('abr', '1.2'), /^version "1\.2" is not a valid abr version; expected \{major\}\{a\|b\|r\}\{minor\} \(a = alpha, b = beta, r = release\), e\.g\. 0a1, 2b3 or 1r0$/)
    })
  })

  it('rejects an unknown scheme and mixing schemes', () => {
    versionError(() => parseVersion('calver', '2024.1'), /version scheme "calver" is unknown; expected one of semver, abr/)
    versionError(() => compareVersions('semver', parseVersion('abr', '0a1'), '1.0.0'), /"0a1" is in the abr scheme but was compared as semver/)
  })

  describe('newest per channel', () => {
    it('stable sees only stable; beta sees beta and stable; alpha sees all', () => {
      assert.ok(channelSees('stable', 'stable'))
      assert.ok(!channelSees('stable', 'beta'))
      assert.ok(!channelSees('stable', 'alpha'))
      assert.ok(channelSees('beta', 'stable'))
      assert.ok(channelSees('beta', 'beta'))
      assert.ok(!channelSees('beta', 'alpha'))
      assert.ok(channelSees('alpha', 'alpha') && channelSees('alpha', 'beta') && channelSees('alpha', 'stable'))
    })

    it('picks the newest visible semver version', () => {
      const published = ['1.0.0', '1.1.0-alpha.1', '1.1.0-beta.1', '1.0.1', '1.2.0-alpha.1', '0.9.0']
      assert.equal(newestOnChannel('semver', published, 'stable')?.text, '1.0.1')
      assert.equal(newestOnChannel('semver', published, 'beta')?.text, '1.1.0-beta.1')
      assert.equal(newestOnChannel('semver', published, 'alpha')?.text, '1.2.0-alpha.1')
      assert.equal(newestOnChannel('semver', [...published, '1.2.0'], 'alpha')?.text, '1.2.0', 'a stable release outranks its own prereleases on every channel')
      assert.equal(newestOnChannel('semver', ['1.0.0-beta.1'], 'stable'), undefined)
      assert.equal(newestOnChannel('semver', [], 'alpha'), undefined)
    })

    it('picks the newest visible abr version, and accepts parsed versions', () => {
      const published = ['0a1', '0b1', '0r1', '0a2', '0b2', '1a1'].map(v => parseVersion('abr', v))
      assert.equal(newestOnChannel('abr', published, 'stable')?.text, '0r1')
      assert.equal(newestOnChannel('abr', published, 'beta')?.text, '0b2')
      assert.equal(newestOnChannel('abr', published, 'alpha')?.text, '1a1')
    })

    it('refuses a published list holding a version that does not parse', () => {
      versionError(() => newestOnChannel('abr', ['0a1', '1.0.0'], 'alpha'), /version "1\.0\.0" is not a valid abr version/)
    })
  })
})

/** checks which of `versions` the range holds for: exactly those in `inside` */
function assertMatches (scheme: 'semver' | 'abr', range: string, versions: string[], inside: string[]): void {
  const parsedRange = parseRange(scheme, range)
  for (const v of versions) {
    assert.equal(satisfies(scheme, v, range), inside.includes(v), `${v} ${inside.includes(v) ? 'is' : 'is not'} in ${range}`)
    assert.equal(satisfies(scheme, parseVersion(scheme, v), parsedRange), inside.includes(v), `${v} with a parsed range`)
  }
}

describe('version ranges', () => {
  describe('semver', () => {
    const all = ['0.9.0', '1.0.0-alpha.1', '1.0.0-beta.2', '1.0.0', '1.2.0-beta.1', '1.2.0', '1.2.5', '1.3.0-beta.1', '1.9.9', '2.0.0-alpha.1', '2.0.0-beta.1', '2.0.0', '2.1.0', '3.0.0']

    it('exact versions, = and *', () => {
      assertMatches('semver', '1.2.0', all, ['1.2.0'])
      assertMatches('semver', '=1.2.0', all, ['1.2.0'])
      assertMatches('semver', '=1.2.0-beta.1', all, ['1.2.0-beta.1'])
      assertMatches('semver', '*', all, all)
      assertMatches('semver', '  *  ', all, all)
    })

    it('>, >=, <, <= compare in semver order', () => {
      assertMatches('semver', '>1.2.0', all, ['1.2.5', '1.3.0-beta.1', '1.9.9', '2.0.0-alpha.1', '2.0.0-beta.1', '2.0.0', '2.1.0', '3.0.0'])
      assertMatches('semver', '>=1.2.0', all, ['1.2.0', '1.2.5', '1.3.0-beta.1', '1.9.9', '2.0.0-alpha.1', '2.0.0-beta.1', '2.0.0', '2.1.0', '3.0.0'])
      assertMatches('semver', '<=1.0.0', all, ['0.9.0', '1.0.0-alpha.1', '1.0.0-beta.2', '1.0.0'])
      assertMatches('semver', '<1.2.0-beta.1', all, ['0.9.0', '1.0.0-alpha.1', '1.0.0-beta.2', '1.0.0'])
    })

    it('<V of a stable V is below the prereleases of V too', () => {
      assertMatches('semver', '<2.0.0', all, ['0.9.0', '1.0.0-alpha.1', '1.0.0-beta.2', '1.0.0', '1.2.0-beta.1', '1.2.0', '1.2.5', '1.3.0-beta.1', '1.9.9'])
      assertMatches('semver', '>=1.2.0 <2.0.0', all, ['1.2.0', '1.2.5', '1.3.0-beta.1', '1.9.9'])
      assertMatches('semver', '>=1.2.0 <=2.0.0', all, ['1.2.0', '1.2.5', '1.3.0-beta.1', '1.9.9', '2.0.0-alpha.1', '2.0.0-beta.1', '2.0.0'])
      assertMatches('semver', '>=2.0.0-alpha.1 <2.0.0-beta.1', all, ['2.0.0-alpha.1'])
    })

    it('^ and ~ as npm reads them for whole versions', () => {
      assertMatches('semver', '^1.2.0', all, ['1.2.0', '1.2.5', '1.3.0-beta.1', '1.9.9'])
      assertMatches('semver', '^1.2.0-beta.1', all, ['1.2.0-beta.1', '1.2.0', '1.2.5', '1.3.0-beta.1', '1.9.9'])
      assertMatches('semver', '~1.2.0', all, ['1.2.0', '1.2.5'])
      assertMatches('semver', '^2.0.0-alpha.1', all, ['2.0.0-alpha.1', '2.0.0-beta.1', '2.0.0', '2.1.0'])
      const zeros = ['0.0.3', '0.0.4', '0.1.0', '0.2.3', '0.2.9', '0.3.0', '1.0.0']
      assertMatches('semver', '^0.2.3', zeros, ['0.2.3', '0.2.9'])
      assertMatches('semver', '^0.0.3', zeros, ['0.0.3'])
      assertMatches('semver', '~0.0.3', zeros, ['0.0.3', '0.0.4'])
      assertMatches('semver', '~0.2.3', zeros, ['0.2.3', '0.2.9'])
    })

    it('|| joins alternatives; spaces join comparators that must all hold', () => {
      assertMatches('semver', '1.0.0 || >=2.1.0', all, ['1.0.0', '2.1.0', '3.0.0'])
      assertMatches('semver', '^1.2.0 || ^3.0.0', all, ['1.2.0', '1.2.5', '1.3.0-beta.1', '1.9.9', '3.0.0'])
      assertMatches('semver', '1.0.0||2.0.0', all, ['1.0.0', '2.0.0'])
      assertMatches('semver', '>1.0.0 <1.0.0', all, [])
      assertMatches('semver', '* <1.0.0', all, ['0.9.0'])
    })

    it('parses into alternatives of comparators', () => {
      const r = parseRange('semver', '^1.2.0 || 3.0.0')
      assert.equal(r.scheme, 'semver')
      assert.equal(r.text, '^1.2.0 || 3.0.0')
      assert.deepEqual(r.sets.map(set => set.map(c => c.operator + c.version.text)), [['>=1.2.0', '<2.0.0'], ['=3.0.0']])
      assert.deepEqual(parseRange('semver', '*').sets, [[]])
    })

    it('refuses ranges that do not parse, saying why and showing a valid one', () => {
      const example = /; expected space-separated comparators .* e\.g\. ">=1\.2\.0 <2\.0\.0 \|\| \^3\.1\.0"$/
      versionError(() => parseRange('semver', '>=1.2'), /^range ">=1\.2" is not a valid semver range: in ">=1\.2", version "1\.2" is not a valid semver version; expected/)
      versionError(() => parseRange('semver', '>=1.2'), example)
      versionError(() => parseRange('semver', ''), /it is empty \(write \* for any version\)/)
      versionError(() => parseRange('semver', '   '), /it is empty/)
      versionError(() => parseRange('semver', '1.0.0 ||'), /alternative 2 is empty/)
      versionError(() => parseRange('semver', '|| 1.0.0'), /alternative 1 is empty/)
      versionError(() => parseRange('semver', '>= 1.2.0'), /">=" has no version \(write the operator against its version, e\.g\. >=1\.2\.0\)/)
      versionError(() => parseRange('semver', '=>1.2.0'), /"=>1\.2\.0" is not an operator this scheme knows/)
      versionError(() => parseRange('semver', '1.x'), /version "1\.x" is not a valid semver version/)
      versionError(() => parseRange('semver', '1.0.0 - 2.0.0'), /in "-", version "-" is not a valid semver version/)
      versionError(() => parseRange('semver', '>=1.0.0-rc.1'), /prerelease tag "rc"/)
      versionError(() => parseRange('semver', '>=v1.0.0'), /not written canonically/)
      versionError(() => parseRange('semver', '>=1r0'), /version "1r0" is not a valid semver version/)
      versionError(() => parseRange('semver', '1.0.0 '.repeat(50)), new RegExp(`is ${'1.0.0 '.length * 50} characters long, more than ${MAX_RANGE_LENGTH}`))
      versionError(() => parseRange('calver', '*'), /version scheme "calver" is unknown/)
    })
  })

  describe('abr', () => {
    const all = ['0a1', '0b1', '0r1', '0a2', '0b2', '0r2', '1a0', '1b0', '1r0', '1r5', '2a1', '2r0']

    it('compares in abr order (stage within minor), with no prerelease exception', () => {
      assertMatches('abr', '0r1', all, ['0r1'])
      assertMatches('abr', '=1r0', all, ['1r0'])
      assertMatches('abr', '*', all, all)
      assertMatches('abr', '>=0r1 <1a0', all, ['0r1', '0a2', '0b2', '0r2'])
      assertMatches('abr', '>0r1 <=0r2', all, ['0a2', '0b2', '0r2'])
      assertMatches('abr', '<0r2', all, ['0a1', '0b1', '0r1', '0a2', '0b2'])
      assertMatches('abr', '>=1r0 <2a0 || 2r0', all, ['1r0', '1r5', '2r0'])
      assertMatches('abr', '>1r5', all, ['2a1', '2r0'])
    })

    it('takes only the operator forms and *, with whole abr versions', () => {
      const example = /e\.g\. ">=0r1 <1a0 \|\| 2r0"$/
      versionError(() => parseRange('abr', '^1r0'), /"\^1r0": \^ and ~ are semver operators; abr ranges take only =, >, >=, <, <= and \*/)
      versionError(() => parseRange('abr', '~1r0'), /\^ and ~ are semver operators/)
      versionError(() => parseRange('abr', '~1r0'), example)
      versionError(() => parseRange('abr', '>=1.0.0'), /^range ">=1\.0\.0" is not a valid abr range: in ">=1\.0\.0", version "1\.0\.0" is not a valid abr version/)
      versionError(() => parseRange('abr', '>=1r'), /version "1r" is not a valid abr version/)
      versionError(() => parseRange('abr', '<'), /"<" has no version \(write the operator against its version, e\.g\. <0r1\)/)
    })
  })

  it('refuses matching across schemes', () => {
    versionError(() => satisfies('semver', '0a1', '*'), /version "0a1" is not a valid semver version/)
    versionError(() => satisfies('semver', '1.0.0', parseRange('abr', '*')), /range "\*" is in the abr scheme but was matched as semver/)
    versionError(() => satisfies('abr', '1r0', '>=1.0.0'), /not a valid abr range/)
  })
})
