/**
 * The install planner (dependencies first, conflicts both ways, cycles,
 * policies, bounds) and the upgrade rules.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { UmeshError } from '../../../src/errors.js'
import { DependencyCycleError, DependencyError, MAX_DEPENDENCY_DEPTH, MAX_PLANNED, UpgradeRefusedError, checkUpgradeRules, planInstall } from '../../../src/install/deps.js'
import { parseVersion } from '../../../src/release/version.js'
import type { PackageWorld, ReleaseFacts, UpgradeRulesOptions } from '../../../src/install/deps.js'
import type { DependencyPolicy } from '../../../src/install/types.js'
import type { Channel } from '../../../src/release/version.js'

/** a release; dependencies as "pkg RANGE" */
function rel (pkg: string, version: string, deps: { requires?: string[], conflicts?: string[] } = {}): ReleaseFacts {
  const scheme = version.includes('.') ? 'semver' : 'abr'
  const split = (s: string): { package: string, range: string } => {
    const i = s.indexOf(' ')
    return { package: s.slice(0, i), range: s.slice(i + 1) }
  }
  return { package: pkg, version, scheme, channel: parseVersion(scheme, version).channel, requires: (deps.requires ?? []).map(split), conflicts: (deps.conflicts ?? []).map(split) }
}

function world (releases: ReleaseFacts[], installed: Record<string, string> = {}, followed?: Record<string, Channel>): PackageWorld {
  const available = new Map<string, Map<string, ReleaseFacts>>()
  for (const r of releases) {
    if (!available.has(r.package)) available.set(r.package, new Map())
    available.get(r.package)!.set(r.version, r)
  }
  // by default every package with releases is followed on stable
  const follow = followed ?? Object.fromEntries([...available.keys()].map(p => [p, 'stable' as Channel]))
  return { installed: new Map(Object.entries(installed)), available, followed: new Map(Object.entries(follow)) }
}

const plan = (target: string, w: PackageWorld, policy: DependencyPolicy = 'install'): string[] => {
  const [pkg, version] = target.split(' ')
  return planInstall({ package: pkg, version }, w, policy).map(p => `${p.package} ${p.version}`)
}

function refused (fn: () => unknown, name: string, message: RegExp): void {
  assert.throws(fn, (err: any) => {
    assert.equal(err.name, name)
    assert.ok(err instanceof DependencyError)
    assert.ok(err instanceof UmeshError)
    assert.equal(err.exitCode, 1)
    assert.match(err.message, message)
    return true
  })
}

describe('install planner', () => {
  const libs = [
    rel('app', '2.0.0', { requires: ['libfoo >=1.2.0 <2.0.0'] }),
    rel('libfoo', '1.0.0'),
    rel('libfoo', '1.2.0', { requires: ['libbase ^1.0.0'] }),
    rel('libfoo', '1.3.0', { requires: ['libbase ^1.1.0'] }),
    rel('libfoo', '1.4.0-beta.1', { requires: ['libbase ^1.1.0'] }),
    rel('libfoo', '2.1.0'),
    rel('libbase', '1.0.0'),
    rel('libbase', '1.1.0'),
    rel('libbase', '1.2.0-beta.1'),
    rel('libbase', '2.0.0')
  ]

  describe('order', () => {
    it('plans dependencies first, each the newest in range on its channel, the target last, with reasons', () => {
      const steps = planInstall({ package: 'app', version: '2.0.0' }, world(libs), 'install')
      assert.deepEqual(steps, [
        { package: 'libbase', version: '1.1.0', reason: 'required by libfoo 1.3.0 (libbase ^1.1.0)' },
        { package: 'libfoo', version: '1.3.0', reason: 'required by app 2.0.0 (libfoo >=1.2.0 <2.0.0)' },
        { package: 'app', version: '2.0.0', reason: 'requested' }
      ])
    })

    it('follows the channel each dependency is followed on', () => {
      assert.deepEqual(plan('app 2.0.0', world(libs, {}, { libfoo: 'beta', libbase: 'stable' })), ['libbase 1.1.0', 'libfoo 1.4.0-beta.1', 'app 2.0.0'])
      assert.deepEqual(plan('app 2.0.0', world(libs, {}, { libfoo: 'beta', libbase: 'alpha' })), ['libbase 1.2.0-beta.1', 'libfoo 1.4.0-beta.1', 'app 2.0.0'])
    })

    it('plans nothing for a requirement the installed version already meets', () => {
      assert.deepEqual(plan('app 2.0.0', world(libs, { libfoo: '1.2.0', libbase: '1.0.0' })), ['app 2.0.0'])
      assert.deepEqual(plan('app 2.0.0', world(libs, { libfoo: '1.0.0', libbase: '1.1.0' })), ['libfoo 1.3.0', 'app 2.0.0'])
      // an installed beta satisfies a plain lower bound
      assert.deepEqual(plan('app 2.0.0', world(libs, { libfoo: '1.4.0-beta.1', libbase: '1.1.0' })), ['app 2.0.0'])
    })

    it('plans a target that has no dependencies, or is already installed, alone', () => {
      assert.deepEqual(plan('libbase 2.0.0', world(libs)), ['libbase 2.0.0'])
      assert.deepEqual(plan('libbase 1.1.0', world(libs, { libbase: '1.1.0' })), ['libbase 1.1.0'])
    })

    it('plans a diamond once, shared dependency first', () => {
      const w = world([
        rel('app', '1.0.0', { requires: ['liba ^1.0.0', 'libb ^1.0.0'] }),
        rel('liba', '1.0.0', { requires: ['libc >=1.1.0'] }),
        rel('libb', '1.0.0', { requires: ['libc <2.0.0'] }),
        rel('libc', '1.0.0'),
        rel('libc', '1.5.0')
      ])
      assert.deepEqual(plan('app 1.0.0', w), ['libc 1.5.0', 'liba 1.0.0', 'libb 1.0.0', 'app 1.0.0'])
    })

    it('refuses a diamond whose sides need different versions, naming both', () => {
      const w = world([
        rel('app', '1.0.0', { requires: ['liba ^1.0.0', 'libb ^1.0.0'] }),
        rel('liba', '1.0.0', { requires: ['libc <2.0.0'] }),
        rel('libb', '1.0.0', { requires: ['libc >=2.0.0'] }),
        rel('libc', '1.5.0'),
        rel('libc', '2.0.0')
      ])
      refused(() => plan('app 1.0.0', w), 'DependencyConflictError', /^app 1\.0\.0 -> libb 1\.0\.0 requires libc >=2\.0\.0, and the plan already installs libc 1\.5\.0 \(required by liba 1\.0\.0 \(libc <2\.0\.0\)\); no one version of libc satisfies both/)
    })

    it('refuses a plan in which a later install breaks an earlier one', () => {
      const w = world([
        rel('app', '1.0.0', { requires: ['libbar *', 'libfoo >=2.0.0'] }),
        rel('libbar', '1.0.0', { requires: ['libfoo <2.0.0'] }),
        rel('libfoo', '1.5.0'),
        rel('libfoo', '2.0.0')
      ], { libfoo: '1.5.0' })
      refused(() => plan('app 1.0.0', w), 'DependencyConflictError', /libbar 1\.0\.0 \(to be installed, required by app 1\.0\.0 \(libbar \*\)\) requires libfoo <2\.0\.0, and the plan installs libfoo 2\.0\.0 \(to be installed, required by app 1\.0\.0 \(libfoo >=2\.0\.0\)\), which would break it/)
    })
  })

  describe('cycles', () => {
    it('refuses a cycle, naming the chain', () => {
      const w = world([
        rel('app', '2.0.0', { requires: ['libfoo >=1.3.0'] }),
        rel('libfoo', '1.3.0', { requires: ['app >=2.0.0'] })
      ], { app: '1.0.0' })
      refused(() => plan('app 2.0.0', w), 'DependencyCycleError', /^dependency cycle: app 2\.0\.0 -> libfoo 1\.3\.0 -> app >=2\.0\.0; each needs the other installed first/)
      assert.throws(() => plan('app 2.0.0', w), (err: any) => err instanceof DependencyCycleError && err.chain.join(' | ') === 'app 2.0.0 | libfoo 1.3.0 | app >=2.0.0')
    })

    it('refuses a longer cycle', () => {
      const w = world([
        rel('a', '1.0.0', { requires: ['b *'] }),
        rel('b', '1.0.0', { requires: ['c *'] }),
        rel('c', '1.0.0', { requires: ['a 1.0.0'] })
      ])
      refused(() => plan('a 1.0.0', w), 'DependencyCycleError', /a 1\.0\.0 -> b 1\.0\.0 -> c 1\.0\.0 -> a 1\.0\.0/)
    })

    it('accepts mutual requirements that the installed version meets now and the plan keeps meeting', () => {
      const w = world([
        rel('app', '2.0.0', { requires: ['libfoo >=1.3.0'] }),
        rel('libfoo', '1.3.0', { requires: ['app >=1.0.0'] })
      ], { app: '1.5.0' })
      assert.deepEqual(plan('app 2.0.0', w), ['libfoo 1.3.0', 'app 2.0.0'])
    })

    it('refuses a dependency that rejects the version of the package being planned', () => {
      const w = world([
        rel('app', '2.0.0', { requires: ['libfoo >=1.3.0'] }),
        rel('libfoo', '1.3.0', { requires: ['app <2.0.0'] })
      ], { app: '1.5.0' })
      refused(() => plan('app 2.0.0', w), 'DependencyConflictError', /app 2\.0\.0 -> libfoo 1\.3\.0 requires app <2\.0\.0, and the plan is installing app 2\.0\.0/)
    })
  })

  describe('conflicts', () => {
    it('refuses a target that conflicts with an installed package', () => {
      const w = world([rel('app', '2.0.0', { conflicts: ['oldtool <2.0.0'] }), rel('oldtool', '1.0.0')], { oldtool: '1.0.0' })
      refused(() => plan('app 2.0.0', w), 'DependencyConflictError', /^app 2\.0\.0 conflicts with oldtool <2\.0\.0, and the result of this plan would hold oldtool 1\.0\.0 \(installed, and the plan does not replace it\); .* upgrade oldtool to a version outside <2\.0\.0 first/)
      assert.deepEqual(plan('app 2.0.0', world([rel('app', '2.0.0', { conflicts: ['oldtool <2.0.0'] })], { oldtool: '2.0.0' })), ['app 2.0.0'])
    })

    it('refuses a target that an installed package conflicts with (its own conflicts count)', () => {
      const w = world([rel('app', '2.0.0'), rel('oldtool', '1.0.0', { conflicts: ['app >=2.0.0'] })], { oldtool: '1.0.0', app: '1.0.0' })
      refused(() => plan('app 2.0.0', w), 'DependencyConflictError', /^oldtool 1\.0\.0 \(installed, and the plan does not replace it\) conflicts with app >=2\.0\.0, and the result of this plan would hold app 2\.0\.0; .* upgrade oldtool to a release that does not conflict first/)
      // without its index the installed package's conflicts are unknown
      const unknown = world([rel('app', '2.0.0')], { oldtool: '1.0.0' })
      assert.deepEqual(plan('app 2.0.0', unknown), ['app 2.0.0'])
    })

    it('refuses a planned dependency conflicting with another planned package', () => {
      const w = world([
        rel('app', '1.0.0', { requires: ['liba *', 'libb *'] }),
        rel('liba', '1.0.0'),
        rel('libb', '1.0.0', { conflicts: ['liba <2.0.0'] })
      ])
      refused(() => plan('app 1.0.0', w), 'DependencyConflictError', /libb 1\.0\.0 \(to be installed, .*\) conflicts with liba <2\.0\.0, and the result of this plan would hold liba 1\.0\.0 \(to be installed, .*\); .* publish releases that do not conflict/)
    })

    it('ignores a conflict with an installed version the plan replaces', () => {
      const w = world([
        rel('app', '2.0.0', { requires: ['libfoo >=1.3.0'], conflicts: ['libfoo <1.2.0'] }),
        rel('libfoo', '1.0.0', { conflicts: ['app >=2.0.0'] }),
        rel('libfoo', '1.3.0')
      ], { libfoo: '1.0.0' })
      assert.deepEqual(plan('app 2.0.0', w), ['libfoo 1.3.0', 'app 2.0.0'])
    })

    it('checks conflicts under every policy', () => {
      const w = world([rel('app', '2.0.0', { conflicts: ['oldtool *'] })], { oldtool: '1.0.0' })
      for (const policy of ['install', 'require', 'ignore'] as const) {
        refused(() => plan('app 2.0.0', w, policy), 'DependencyConflictError', /conflicts with oldtool \*/)
      }
    })
  })

  describe('installed dependents', () => {
    const releases = [rel('app', '2.0.0'), rel('app', '1.5.0'), rel('plugin', '1.0.0', { requires: ['app <2.0.0'] })]

    it('refuses an install that breaks an installed package requiring the target', () => {
      const w = world(releases, { app: '1.5.0', plugin: '1.0.0' })
      refused(() => plan('app 2.0.0', w), 'DependencyConflictError', /^plugin 1\.0\.0 \(installed, and the plan does not replace it\) requires app <2\.0\.0, and the plan installs app 2\.0\.0, which would break it; upgrade plugin to a release that accepts app 2\.0\.0 first/)
      refused(() => plan('app 2.0.0', w, 'require'), 'DependencyConflictError', /plugin 1\.0\.0 .* requires app <2\.0\.0/)
      assert.deepEqual(plan('app 2.0.0', w, 'ignore'), ['app 2.0.0'], 'ignore looks at no requires')
      assert.deepEqual(plan('app 1.5.0', w), ['app 1.5.0'])
    })

    it('refuses an install whose dependency upgrade breaks an installed package', () => {
      const w = world([
        rel('app', '2.0.0', { requires: ['libfoo >=1.3.0'] }),
        rel('libfoo', '1.3.0'),
        rel('libbar', '1.0.0', { requires: ['libfoo <1.3.0'] })
      ], { libfoo: '1.2.0', libbar: '1.0.0' })
      refused(() => plan('app 2.0.0', w), 'DependencyConflictError', /libbar 1\.0\.0 \(installed, .*\) requires libfoo <1\.3\.0, and the plan installs libfoo 1\.3\.0 \(to be installed, required by app 2\.0\.0 \(libfoo >=1\.3\.0\)\)/)
    })
  })

  describe('missing dependencies and policies', () => {
    it('install: names the held releases when none satisfies', () => {
      const w = world([rel('app', '2.0.0', { requires: ['libfoo >=1.2.0 <2.0.0'] }), rel('libfoo', '2.1.0'), rel('libfoo', '1.0.0')])
      refused(() => plan('app 2.0.0', w), 'DependencyError', /^app 2\.0\.0 requires libfoo >=1\.2\.0 <2\.0\.0, and libfoo is not installed, and no held release of libfoo satisfies it \(held: 1\.0\.0, 2\.1\.0\); publish or follow one$/)
      assert.throws(() => plan('app 2.0.0', w), (err: any) => err.chain.join(' | ') === 'app 2.0.0 | libfoo >=1.2.0 <2.0.0')
    })

    it('install: says when a release in range is on a channel the node does not follow', () => {
      const w = world([rel('app', '2.0.0', { requires: ['libfoo >=1.2.0'] }), rel('libfoo', '1.0.0'), rel('libfoo', '1.3.0-beta.1')], { libfoo: '1.0.0' })
      refused(() => plan('app 2.0.0', w), 'DependencyError', /libfoo 1\.0\.0 is installed, and no held release of libfoo satisfies it \(held: 1\.0\.0, 1\.3\.0-beta\.1\); 1\.3\.0-beta\.1 would, but this node follows libfoo on the stable channel; publish or follow one/)
    })

    it('install: names the chain of a deep missing dependency', () => {
      refused(() => plan('app 2.0.0', world(libs.filter(r => r.package !== 'libbase'), {}, { libfoo: 'stable', libbase: 'stable' })), 'DependencyError', /^app 2\.0\.0 -> libfoo 1\.3\.0 requires libbase \^1\.1\.0, and libbase is not installed, and no held release of libbase satisfies it \(held: none\)/)
    })

    it('install: refuses a dependency the node does not follow', () => {
      const w = world([rel('app', '2.0.0', { requires: ['libfoo ^1.0.0'] }), rel('libfoo', '1.0.0')], {}, {})
      refused(() => plan('app 2.0.0', w), 'DependencyError', /app 2\.0\.0 requires libfoo \^1\.0\.0, and libfoo is not installed; this node does not follow libfoo, so it cannot install it for you: follow libfoo/)
    })

    it('install: refuses to downgrade a dependency', () => {
      const w = world([rel('app', '2.0.0', { requires: ['libfoo <2.0.0'] }), rel('libfoo', '1.9.0'), rel('libfoo', '2.1.0')], { libfoo: '2.1.0' })
      refused(() => plan('app 2.0.0', w), 'DependencyError', /libfoo 2\.1\.0 is installed; the newest held release in that range is 1\.9\.0, which would downgrade libfoo/)
    })

    it('require: refuses unless the dependency is installed and satisfies the range', () => {
      refused(() => plan('app 2.0.0', world(libs), 'require'), 'DependencyError', /^app 2\.0\.0 requires libfoo >=1\.2\.0 <2\.0\.0, and libfoo is not installed; the dependency policy of app is "require", so install libfoo at a version in >=1\.2\.0 <2\.0\.0 first/)
      refused(() => plan('app 2.0.0', world(libs, { libfoo: '1.0.0' }), 'require'), 'DependencyError', /and libfoo 1\.0\.0 is installed; the dependency policy of app is "require"/)
      assert.deepEqual(plan('app 2.0.0', world(libs, { libfoo: '1.3.0' }), 'require'), ['app 2.0.0'])
    })

    it('ignore: the target alone, whatever it requires', () => {
      assert.deepEqual(plan('app 2.0.0', world(libs), 'ignore'), ['app 2.0.0'])
      assert.deepEqual(plan('app 2.0.0', world([rel('app', '2.0.0', { requires: ['libfoo ^1.0.0'] })], {}, {}), 'ignore'), ['app 2.0.0'])
    })

    it('refuses a target that is not held', () => {
      refused(() => plan('app 3.0.0', world(libs)), 'DependencyError', /^app 3\.0\.0 is not among the releases this node holds or can get \(held: 2\.0\.0\)/)
      refused(() => plan('nothing 1.0.0', world(libs)), 'DependencyError', /\(held: none\)/)
    })
  })

  describe('abr scheme', () => {
    const tools = [
      rel('app', '1r0', { requires: ['tool >=0r1 <1a0'] }),
      rel('tool', '0r1'),
      rel('tool', '0a2'),
      rel('tool', '0r2'),
      rel('tool', '0a3'),
      rel('tool', '1r0')
    ]

    it('picks the newest release in range on the followed channel', () => {
      assert.deepEqual(plan('app 1r0', world(tools)), ['tool 0r2', 'app 1r0'])
      assert.deepEqual(plan('app 1r0', world(tools, {}, { tool: 'alpha' })), ['tool 0a3', 'app 1r0'])
      assert.deepEqual(plan('app 1r0', world(tools, { tool: '0a2' })), ['app 1r0'])
    })

    it('checks abr conflicts and reports abr versions', () => {
      const w = world([rel('app', '1r0', { conflicts: ['tool <0r2'] }), rel('tool', '0r1')], { tool: '0r1' })
      refused(() => plan('app 1r0', w), 'DependencyConflictError', /app 1r0 conflicts with tool <0r2, and the result of this plan would hold tool 0r1/)
      refused(() => plan('app 1r0', world([rel('app', '1r0', { requires: ['tool >=1r0'] }), rel('tool', '0r1'), rel('tool', '0r2')])), 'DependencyError', /\(held: 0r1, 0r2\)/)
    })

    it('refuses a requirement on a package of the other scheme', () => {
      const w = world([rel('app', '1r0', { requires: ['libfoo >=1r0'] }), rel('libfoo', '1.0.0')])
      refused(() => plan('app 1r0', w), 'DependencyError', /libfoo uses the semver version scheme and app the abr scheme; a range is written in the requiring release's scheme/)
      refused(() => plan('app 1r0', world([rel('app', '1r0', { requires: ['libfoo >=1r0'] })], { libfoo: '1.0.0' })), 'DependencyError', /but libfoo 1\.0\.0 is not a version of the abr scheme; a package can name only packages of its own version scheme/)
    })
  })

  describe('bounds', () => {
    it(`stops a chain deeper than ${MAX_DEPENDENCY_DEPTH}`, () => {
      const chain = Array.from({ length: 40 }, (_, i) => rel(`p${i}`, '1.0.0', i < 39 ? { requires: [`p${i + 1} *`] } : {}))
      refused(() => plan('p0 1.0.0', world(chain)), 'DependencyError', new RegExp(`^the dependency chain p0 1\\.0\\.0 -> p1 1\\.0\\.0 -> .* p${MAX_DEPENDENCY_DEPTH} 1\\.0\\.0 is longer than ${MAX_DEPENDENCY_DEPTH} releases`))
      assert.equal(plan('p8 1.0.0', world(chain)).length, 32, 'a chain of 32 is planned')
    })

    it(`stops a plan of more than ${MAX_PLANNED} installs`, () => {
      const releases = [rel('app', '1.0.0', { requires: Array.from({ length: 64 }, (_, i) => `p${i} *`) })]
      for (let i = 0; i < 64; i++) {
        releases.push(rel(`p${i}`, '1.0.0', { requires: Array.from({ length: 4 }, (_, j) => `q${i}-${j} *`) }))
        for (let j = 0; j < 4; j++) releases.push(rel(`q${i}-${j}`, '1.0.0'))
      }
      refused(() => plan('app 1.0.0', world(releases)), 'DependencyError', new RegExp(`would take more than ${MAX_PLANNED} installs in one plan`))
    })
  })
})

describe('upgrade rules', () => {
  const releases = ['1.0.0', '1.5.0', '2.0.0', '2.1.0', '2.2.0-beta.1'].map(version => ({ version, requiredStep: version === '1.5.0' || version === '2.0.0' }))
  const base: UpgradeRulesOptions = { scheme: 'semver', kind: 'upgrade', from: '1.0.0', to: '1.5.0', toChannel: 'stable', releases, force: false }
  const ok = (change: Partial<UpgradeRulesOptions>): void => { checkUpgradeRules({ ...base, ...change }) }
  const no = (change: Partial<UpgradeRulesOptions>, message: RegExp, reasons = 1): void => {
    assert.throws(() => { checkUpgradeRules({ ...base, ...change }) }, (err: any) => {
      assert.ok(err instanceof UpgradeRefusedError)
      assert.ok(err instanceof UmeshError)
      assert.equal(err.name, 'UpgradeRefusedError')
      assert.equal(err.exitCode, 1)
      assert.match(err.message, message)
      assert.match(err.message, /--force/)
      assert.equal(err.reasons.length, reasons)
      return true
    })
    checkUpgradeRules({ ...base, ...change, force: true })
  }

  it('allows an upgrade to the next release, to a required step, from a required step, and a first install', () => {
    ok({})
    ok({ from: '1.5.0', to: '2.0.0' })
    ok({ from: '2.0.0', to: '2.1.0' })
    ok({ from: null, to: '2.1.0' })
    ok({ from: '2.1.0', to: '2.1.0' })
  })

  it('refuses a skip over required steps, naming the first to install', () => {
    no({ to: '2.0.0' }, /^refused to upgrade from 1\.0\.0 to 2\.0\.0: 1\.5\.0 is a required step: going from 1\.0\.0 to 2\.0\.0 must install 1\.5\.0 first; install the required step in turn, or use --force to skip it$/)
    no({ to: '2.1.0' }, /1\.5\.0, 2\.0\.0 are required steps: going from 1\.0\.0 to 2\.1\.0 must install 1\.5\.0 first; .* use --force to skip them/)
    no({ from: '1.5.0', to: '2.1.0' }, /2\.0\.0 is a required step/)
  })

  it('refuses a downgrade through an upgrade', () => {
    no({ from: '2.1.0', to: '2.0.0' }, /^refused to upgrade from 2\.1\.0 to 2\.0\.0: 2\.0\.0 is older than the installed 2\.1\.0, so this is a downgrade; use `update downgrade` with --force to downgrade$/)
  })

  it('refuses every downgrade without --force, and, even with --force, a downgrade to a version that is not older', () => {
    no({ kind: 'downgrade', from: '2.1.0', to: '2.0.0' }, /^refused to downgrade from 2\.1\.0 to 2\.0\.0: a downgrade from 2\.1\.0 to 2\.0\.0 runs migrations down and may lose data 2\.1\.0 wrote; it is never done without --force: use --force to downgrade$/)
    no({ kind: 'downgrade', from: '2.1.0', to: '1.0.0' }, /may lose data .*; 2\.0\.0, 1\.5\.0 are required steps: going from 2\.1\.0 to 1\.0\.0 must install 2\.0\.0 first/, 2)
    for (const [from, to, why] of [['1.0.0', '1.5.0', '1.5.0 is newer than the installed 1.0.0'], ['1.5.0', '1.5.0', '1.5.0 is the installed version'], [null, '1.0.0', 'nothing is installed']] as const) {
      for (const force of [false, true]) {
        assert.throws(() => { checkUpgradeRules({ ...base, kind: 'downgrade', from, to, force }) }, (err: any) => err instanceof UpgradeRefusedError && err.message.startsWith(`refused to downgrade to ${to}: ${why}`) && /use `update upgrade` \(--force does not change this\)$/.test(err.message))
      }
    }
  })

  it('refuses a move to a less stable channel', () => {
    no({ from: '2.1.0', to: '2.2.0-beta.1', toChannel: 'beta' }, /2\.2\.0-beta\.1 is on the beta channel, less stable than the stable channel 2\.1\.0 was installed from; use --force to move to a less stable channel/)
    no({ from: '2.1.0', to: '2.2.0', fromChannel: 'beta', toChannel: 'alpha' }, /on the alpha channel, less stable than the beta channel/)
    ok({ from: '2.1.0', to: '2.2.0', fromChannel: 'beta', toChannel: 'stable' })
    ok({ from: '2.1.0', to: '2.2.0', fromChannel: 'alpha', toChannel: 'beta' })
    ok({ from: '2.2.0-beta.1', to: '2.3.0-beta.1', toChannel: 'beta' })
  })

  it('lists every reason at once', () => {
    no({ from: '2.1.0', to: '1.0.0', toChannel: 'beta' }, /is a downgrade.*; .*less stable channel; 2\.0\.0, 1\.5\.0 are required steps/, 3)
  })

  it('works in the abr scheme', () => {
    const abr = { scheme: 'abr', releases: ['0r1', '0a2', '0r2', '1r0'].map(version => ({ version, requiredStep: version === '0r2' })) }
    ok({ ...abr, from: '0r1', to: '0r2' })
    no({ ...abr, from: '0r1', to: '1r0' }, /0r2 is a required step: going from 0r1 to 1r0 must install 0r2 first/)
    no({ ...abr, from: '0r2', to: '1a1', toChannel: 'alpha' }, /1a1 is on the alpha channel, less stable than the stable channel 0r2 was installed from/)
  })
})
