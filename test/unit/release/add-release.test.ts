/**
 * release add end to end on disk: tree checked, chunks stored, index signed
 * and readable by tuf-js; a small change stores little; a signed index is
 * still parsed strictly.
 */
import assert from 'node:assert/strict'
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { Updater } from 'tuf-js'
import { openChunkStore } from '../../../src/content/index.js'
import { addRelease, encodeReleaseIndex, parseReleaseIndex, releasesIn } from '../../../src/release/index.js'
import { Repository, targetFilePath } from '../../../src/trust/repository.js'
import { MAX_DEPENDENCIES } from '../../../src/release/release-index.js'
import { parsePackageRangeFlag } from '../../../src/release/add-release.js'
import { pseudoRandomBytes as bytesOf } from '../../../src/util/pseudo-random.js'
import { DirectoryFetcher } from '../../helpers/dir-fetcher.js'
import { tempDir } from '../../helpers/cli.js'
import type { ReleaseIndex } from '../../../src/release/index.js'


describe('release add', () => {
  const tmp = tempDir('umesh-release-')
  after(() => { tmp.remove() })
  const repo = Repository.init(join(tmp.path, 'repo'))
  const src = join(tmp.path, 'src')
  mkdirSync(join(src, 'bin'), { recursive: true })
  const big = bytesOf(8 * 1024 * 1024, 7)
  writeFileSync(join(src, 'data.bin'), big)
  writeFileSync(join(src, 'bin', 'run'), '#!/bin/sh\necho ok\n')
  chmodSync(join(src, 'bin', 'run'), 0o755)

  it('signs an index whose files reassemble from the chunk store, and tuf-js verifies it', async () => {
    const added = await addRelease(repo, src, { package: 'app', version: '1.0.0' })
    assert.equal(added.index.channel, 'stable')
    assert.deepEqual(added.index.files.map(f => [f.path, f.mode]), [['bin/run', 0o755], ['data.bin', 0o644]])
    const store = await openChunkStore(join(repo.dir, 'chunks'))
    const data = added.index.files.find(f => f.path === 'data.bin')!
    const parts = await Promise.all(data.chunks.map(async c => await store.get(CID.parse(c.cid))))
    assert.deepEqual(Buffer.concat(parts), big)

    const client = join(tmp.path, 'client')
    mkdirSync(join(client, 'metadata'), { recursive: true })
    copyFileSync(join(repo.metadataDir, '1.root.json'), join(client, 'metadata', 'root.json'))
    const updater = new Updater({ metadataDir: join(client, 'metadata'), metadataBaseUrl: 'file://r/metadata', targetDir: client, targetBaseUrl: 'file://r/targets', fetcher: new DirectoryFetcher(repo.dir) })
    await updater.refresh()
    const info = await updater.getTargetInfo(added.targetPath)
    assert.ok(info != null)
    assert.equal(info.custom.version, '1.0.0')
    const file = await updater.downloadTarget(info, join(client, 'index.json'))
    assert.equal(parseReleaseIndex(readFileSync(file)).totalSize, big.length + 18)
  })

  it('stores only a small fraction for a version with a 256 KiB insertion', async () => {
    const changed = Buffer.concat([big.subarray(0, 3_000_000), bytesOf(256 * 1024, 99), big.subarray(3_000_000)])
    writeFileSync(join(src, 'data.bin'), changed)
    const added = await addRelease(repo, src, { package: 'app', version: '1.1.0' })
    const fraction = added.newBytes / added.index.totalSize
    assert.ok(fraction < 0.2, `new bytes are ${(fraction * 100).toFixed(1)}% of the release`)
    assert.ok(added.newBytes >= 256 * 1024, 'the inserted bytes are new')
  })

  it('refuses a republished version, a channel that contradicts the version, a hostile tree; nothing is signed', async () => {
    const before = repo.signedOf('targets').version
    await assert.rejects(addRelease(repo, src, { package: 'app', version: '1.0.0' }), /already published/)
    await assert.rejects(addRelease(repo, src, { package: 'app', version: '2.0.0-beta.1', channel: 'stable' }), /on the beta channel .* --channel says stable/)
    await assert.rejects(addRelease(repo, src, { package: 'app', version: 'one' }), (err: any) => err.name === 'VersionError')
    await assert.rejects(addRelease(repo, src, { package: 'App!', version: '2.0.0' }), /--package: expected a lowercase name/)
    await assert.rejects(addRelease(repo, src, { package: 'app', version: '2.0.0', scheme: 'abr' }), /keeps its scheme/)
    symlinkSync('/etc/passwd', join(src, 'passwd'))
    await assert.rejects(addRelease(repo, src, { package: 'app', version: '2.0.0' }), (err: any) => err.name === 'UnsafeTreeError' && err.entry === 'passwd')
    assert.equal(repo.signedOf('targets').version, before, 'no new targets metadata')
    assert.deepEqual(releasesIn(repo).map(r => r.version), ['1.0.0', '1.1.0'])
  })

  it('uses the abr scheme for a package that chooses it', async () => {
    const clean = join(tmp.path, 'small')
    mkdirSync(clean)
    writeFileSync(join(clean, 'f'), 'x')
    const added = await addRelease(repo, clean, { package: 'tool', version: '0b1', scheme: 'abr' })
    assert.equal(added.index.channel, 'beta')
    await addRelease(repo, clean, { package: 'tool', version: '0r1' })
    assert.equal(releasesIn(repo).find(r => r.version === '0r1')?.channel, 'stable')
  })

  it('signs requires, conflicts, requiredStep and critical into the index, and the summary flags the step', async () => {
    const clean = join(tmp.path, 'deps')
    mkdirSync(clean)
    writeFileSync(join(clean, 'f'), 'y')
    const plain = await addRelease(repo, clean, { package: 'svc', version: '1.0.0' })
    assert.deepEqual([plain.index.requires, plain.index.conflicts, plain.index.requiredStep, plain.index.critical], [[], [], false, false])
    assert.equal(releasesIn(repo).find(r => r.package === 'svc')?.requiredStep, undefined, 'nothing added to the summary of an ordinary release')

    const added = await addRelease(repo, clean, {
      package: 'svc',
      version: '2.0.0',
      requires: [parsePackageRangeFlag('requires', 'libfoo >=1.2.0 <2.0.0'), parsePackageRangeFlag('requires', 'tool *')],
      conflicts: [parsePackageRangeFlag('conflicts', '  oldsvc ^0.3.0 || 1.0.0 ')],
      requiredStep: true,
      critical: true
    })
    const expected = {
      requires: [{ package: 'libfoo', range: '>=1.2.0 <2.0.0' }, { package: 'tool', range: '*' }],
      conflicts: [{ package: 'oldsvc', range: '^0.3.0 || 1.0.0' }],
      requiredStep: true,
      critical: true
    }
    const pick = (i: ReleaseIndex): unknown => ({ requires: i.requires, conflicts: i.conflicts, requiredStep: i.requiredStep, critical: i.critical })
    assert.deepEqual(pick(added.index), expected)
    const target = repo.targets()[added.targetPath] as any
    const stored = parseReleaseIndex(readFileSync(join(repo.targetsDir, targetFilePath(added.targetPath, target.hashes.sha256))))
    assert.deepEqual(pick(stored), expected, 'the signed index carries them')
    assert.deepEqual([target.custom.requiredStep, target.custom.critical], [true, true])
  })

  it('refuses bad --requires / --conflicts before anything is stored', async () => {
    const clean = join(tmp.path, 'deps')
    const before = repo.signedOf('targets').version
    const refused = async (options: Parameters<typeof addRelease>[2], message: RegExp): Promise<void> => {
      await assert.rejects(addRelease(repo, clean, options), (err: any) => err.name === 'ReleaseError' && message.test(err.message))
    }
    await refused({ package: 'svc', version: '3.0.0', requires: [{ package: 'libfoo', range: '>=1.2' }] }, /^--requires "libfoo >=1\.2": range ">=1\.2" is not a valid semver range: .*e\.g\. ">=1\.2\.0 <2\.0\.0/)
    await refused({ package: 'svc', version: '3.0.0', requires: [{ package: 'svc', range: '*' }] }, /svc cannot require its own package/)
    await refused({ package: 'svc', version: '3.0.0', conflicts: [{ package: 'svc', range: '<1.0.0' }] }, /svc cannot conflict with its own package/)
    await refused({ package: 'svc', version: '3.0.0', conflicts: [{ package: 'Lib!', range: '*' }] }, /--conflicts "Lib! \*": package name "Lib!" is not a lowercase name/)
    await refused({ package: 'svc', version: '3.0.0', requires: [{ package: 'a', range: '1.0.0' }, { package: 'a', range: '2.0.0' }] }, /--requires names a twice/)
    await refused({ package: 'svc', version: '3.0.0', requires: Array.from({ length: MAX_DEPENDENCIES + 1 }, (_, i) => ({ package: `p${i}`, range: '*' })) }, /at most 64 packages/)
    await refused({ package: 'tool', version: '1r0', requires: [{ package: 'x', range: '^1r0' }] }, /\^ and ~ are semver operators; abr ranges take only/)
    assert.equal(repo.signedOf('targets').version, before, 'no new targets metadata')
  })

  it('reads "PACKAGE RANGE" flag values', () => {
    assert.deepEqual(parsePackageRangeFlag('requires', 'libfoo >=1.2.0 <2.0.0'), { package: 'libfoo', range: '>=1.2.0 <2.0.0' })
    assert.deepEqual(parsePackageRangeFlag('conflicts', 'x   1r0 || 2r0  '), { package: 'x', range: '1r0 || 2r0' })
    for (const bad of ['libfoo', 'libfoo ', '', '   ']) {
      assert.throws(() => parsePackageRangeFlag('requires', bad), (err: any) => err.name === 'UsageError' && err.exitCode === 2 && /--requires: expected "PACKAGE RANGE" .* e\.g\. --requires "libfoo >=1\.2\.0 <2\.0\.0"/.test(err.message))
    }
  })
})

describe('release index parsing', () => {
  const good = (): ReleaseIndex => ({
    format: 'umesh-release/1',
    package: 'app',
    version: '1.0.0',
    scheme: 'semver',
    channel: 'stable',
    changelog: '',
    created: new Date().toISOString(),
    totalSize: 3,
    files: [{ path: 'a/b.txt', mode: 0o644, size: 3, sha256: 'a'.repeat(64), chunks: [{ cid: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku', size: 3 }] }],
    requires: [],
    conflicts: [],
    requiredStep: false,
    critical: false
  })
  const bad = (change: (i: any) => void, message: RegExp): void => {
    const index: any = good()
    change(index)
    assert.throws(() => parseReleaseIndex(encodeReleaseIndex(index)), (err: any) => err.name === 'ReleaseIndexError' && message.test(err.message))
  }

  it('accepts a well-formed index', () => {
    assert.equal(parseReleaseIndex(encodeReleaseIndex(good())).files[0].path, 'a/b.txt')
  })

  it('refuses paths that escape, bad modes, sizes that do not add up, foreign CIDs, duplicates', () => {
    bad(i => { i.files[0].path = '../../etc/cron.d/x' }, /files\[0\]\.path: .*"\.\."/)
    bad(i => { i.files[0].path = '/etc/passwd' }, /absolute/)
    bad(i => { i.files[0].mode = 0o4755 }, /mode must be 0644 or 0755/)
    bad(i => { i.files[0].size = 4; i.totalSize = 4 }, /chunk sizes add up to 3, the file size is 4/)
    bad(i => { i.totalSize = 1e9 }, /file sizes add up to 3, totalSize is 1000000000/)
    bad(i => { i.files[0].chunks[0].cid = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi' }, /must be CIDv1, raw, sha2-256/)
    bad(i => { i.files[0].chunks[0].size = 2 * 1024 * 1024 }, /size must be an integer from 0 to 1048576/)
    bad(i => { i.files.push({ ...i.files[0], path: 'A/B.txt' }); i.totalSize = 6 }, /listed twice/)
    bad(i => { i.format = 'other' }, /format must be/)
  })

  it('reads an index written before requires, conflicts, requiredStep and critical as having none', () => {
    const old: any = good()
    for (const field of ['requires', 'conflicts', 'requiredStep', 'critical']) delete old[field]
    const parsed = parseReleaseIndex(encodeReleaseIndex(old))
    assert.deepEqual([parsed.requires, parsed.conflicts, parsed.requiredStep, parsed.critical], [[], [], false, false])
  })

  it('keeps dependencies through encode and parse', () => {
    const index = { ...good(), requires: [{ package: 'libfoo', range: '^1.2.0' }], conflicts: [{ package: 'oldapp', range: '*' }], requiredStep: true, critical: true }
    assert.deepEqual(parseReleaseIndex(encodeReleaseIndex(index)), index)
    const abr = { ...good(), version: '1r2', scheme: 'abr', requires: [{ package: 'tool', range: '>=0r1 <1a0 || 2r0' }] }
    assert.deepEqual(parseReleaseIndex(encodeReleaseIndex(abr)).requires, abr.requires)
  })

  it('refuses bad dependencies, naming the field', () => {
    bad(i => { i.requires = [{ package: 'libfoo', range: '>=1.2' }] }, /^invalid release index: requires\[0\]: range ">=1\.2" is not a valid semver range/)
    bad(i => { i.conflicts = [{ package: 'x', range: '*' }, { package: 'y', range: '1.0.0 ||' }] }, /conflicts\[1\]: range "1\.0\.0 \|\|" is not a valid semver range: alternative 2 is empty/)
    bad(i => { i.requires = [{ package: 'app', range: '*' }] }, /requires\[0\]: app cannot require its own package/)
    bad(i => { i.conflicts = [{ package: 'app', range: '*' }] }, /conflicts\[0\]: app cannot conflict with its own package/)
    bad(i => { i.requires = [{ package: '../x', range: '*' }] }, /requires\[0\]: package name "\.\.\/x" is not a lowercase name/)
    bad(i => { i.requires = [{ package: 'x', range: 1 }] }, /requires\[0\]: range must be a string/)
    bad(i => { i.requires = [{ package: 'x', range: '*', optional: true }] }, /requires\[0\] has unknown field "optional"/)
    bad(i => { i.requires = ['x *'] }, /requires\[0\] must be an object/)
    bad(i => { i.requires = [{ package: 'x', range: '1.0.0' }, { package: 'x', range: '2.0.0' }] }, /requires\[1\]: x is listed twice in requires/)
    bad(i => { i.requires = Array.from({ length: 65 }, (_, n) => ({ package: `p${n}`, range: '*' })) }, /requires must be a list of at most 64 entries/)
    bad(i => { i.conflicts = {} }, /conflicts must be a list/)
    bad(i => { i.requires = null }, /requires must be a list/)
    bad(i => { i.requiredStep = 'yes' }, /requiredStep must be true or false, found "yes"/)
    bad(i => { i.critical = 1 }, /critical must be true or false, found 1/)
    bad(i => { i.scheme = 'abr'; i.version = '1r0'; i.requires = [{ package: 'x', range: '>=1.0.0' }] }, /requires\[0\]: range ">=1\.0\.0" is not a valid abr range/)
    bad(i => { i.scheme = 'calver'; i.requires = [{ package: 'x', range: '*' }] }, /requires\[0\]: version scheme "calver" is unknown/)
  })
})
