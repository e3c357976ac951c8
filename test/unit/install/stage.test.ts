import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { chunkCid } from '../../../protocols/shared/index.js'
import { openChunkStore } from '../../../src/content/index.js'
import { promoteStaged, removeVersion, stageVersion, verifyTree, versionDir, versionsDir } from '../../../src/install/stage.js'
import { cleanSwitchLeftovers, readCurrent, switchCurrent } from '../../../src/install/switch.js'
import type { IndexFile, ReleaseIndex } from '../../../src/release/release-index.js'

const root = mkdtempSync(join(tmpdir(), 'umesh-install-stage-'))
after(() => { rmSync(root, { recursive: true, force: true }) })
let n = 0
function freshRoot (): string {
  const dir = join(root, `r${++n}`)
  mkdirSync(dir)
  return dir
}

type Spec = Record<string, { data: string | Uint8Array, mode?: 0o644 | 0o755 }>

/** an index of `files` cut into chunks of at most `chunkSize` bytes, and a map of the chunks */
function build (version: string, files: Spec, chunkSize = 7): { index: ReleaseIndex, chunks: Map<string, Uint8Array> } {
  const chunks = new Map<string, Uint8Array>()
  const list: IndexFile[] = Object.entries(files).map(([path, { data, mode }]) => {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    const refs = []
    for (let off = 0; off < bytes.length; off += chunkSize) {
      const piece = bytes.subarray(off, off + chunkSize)
      const cid = chunkCid(piece).toString()
      chunks.set(cid, piece)
      refs.push({ cid, size: piece.length })
    }
    return { path, mode: mode ?? 0o644, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), chunks: refs }
  })
  const index: ReleaseIndex = { format: 'umesh-release/1', package: 'app', version, scheme: 'semver', channel: 'stable', changelog: '', created: new Date().toISOString(), totalSize: list.reduce((s, f) => s + f.size, 0), files: list, requires: [], conflicts: [], requiredStep: false, critical: false }
  return { index, chunks }
}

function storeOf (chunks: Map<string, Uint8Array>, gets?: string[]): { get: (cid: CID) => Promise<Uint8Array> } {
  return {
    get: async (cid) => {
      gets?.push(cid.toString())
      const bytes = chunks.get(cid.toString())
      if (bytes == null) throw new Error(`no chunk ${cid.toString()}`)
      return bytes
    }
  }
}

const V1: Spec = {
  'bin/app': { data: '#!/bin/sh\necho app 1\n', mode: 0o755 },
  'lib/deep/dir/data.txt': { data: 'some data that spans several chunks' },
  'README': { data: 'readme v1' },
  'empty': { data: '' }
}

async function stageAndPromote (installRoot: string, built: { index: ReleaseIndex, chunks: Map<string, Uint8Array> }, previous?: { dir: string, index: ReleaseIndex }): Promise<Awaited<ReturnType<typeof stageVersion>>> {
  const name = `.staging-${built.index.version}`
  const r = await stageVersion({ index: built.index, store: storeOf(built.chunks), installRoot, stagingName: name, ...(previous != null ? { previous } : {}) })
  promoteStaged(installRoot, name, built.index.version)
  return r
}

describe('stageVersion', () => {
  it('writes every file from its chunks with its mode, and the tree verifies', async () => {
    const installRoot = freshRoot()
    const v1 = build('1.0.0', V1)
    const progress: Array<[number, number]> = []
    const staged = await stageVersion({ index: v1.index, store: storeOf(v1.chunks), installRoot, stagingName: '.staging-a', onProgress: (d, t) => progress.push([d, t]) })
    assert.equal(staged.dir, join(versionsDir(installRoot), '.staging-a'))
    assert.equal(staged.written, 4)
    assert.equal(staged.linked, 0)
    assert.equal(staged.bytesWritten, v1.index.totalSize)
    assert.deepEqual(progress[progress.length - 1], [v1.index.totalSize, v1.index.totalSize])
    assert.equal(readFileSync(join(staged.dir, 'lib/deep/dir/data.txt'), 'utf8'), 'some data that spans several chunks')
    assert.equal(statSync(join(staged.dir, 'bin/app')).mode & 0o777, 0o755)
    assert.equal(statSync(join(staged.dir, 'README')).mode & 0o777, 0o644)
    assert.equal(statSync(join(staged.dir, 'empty')).size, 0)
    assert.equal(statSync(join(staged.dir, 'lib/deep')).mode & 0o777, 0o755)
    assert.deepEqual(await verifyTree(staged.dir, v1.index), { ok: true, problems: [] })

    const dir = promoteStaged(installRoot, '.staging-a', '1.0.0')
    assert.equal(dir, versionDir(installRoot, '1.0.0'))
    assert.equal(existsSync(staged.dir), false)
    assert.equal((await verifyTree(dir, v1.index)).ok, true)
  })

  it('replaces a leftover staging folder and a leftover version folder', async () => {
    const installRoot = freshRoot()
    mkdirSync(join(versionsDir(installRoot), '.staging-x', 'junk'), { recursive: true })
    writeFileSync(join(versionsDir(installRoot), '.staging-x', 'junk', 'f'), 'old')
    mkdirSync(join(versionsDir(installRoot), '1.0.0'))
    writeFileSync(join(versionsDir(installRoot), '1.0.0', 'stale'), 'x')
    const v1 = build('1.0.0', V1)
    await stageVersion({ index: v1.index, store: storeOf(v1.chunks), installRoot, stagingName: '.staging-x' })
    const dir = promoteStaged(installRoot, '.staging-x', '1.0.0')
    assert.deepEqual(await verifyTree(dir, v1.index), { ok: true, problems: [] })
    assert.deepEqual(readdir(versionsDir(installRoot)), ['1.0.0'], 'no staging or replaced folder left')
  })

  it('hard-links files the previous version holds unchanged, and writes the rest', async () => {
    const installRoot = freshRoot()
    const v1 = build('1.0.0', V1)
    await stageAndPromote(installRoot, v1)
    const v1dir = versionDir(installRoot, '1.0.0')
    const v2 = build('2.0.0', {
      ...V1,
      'README': { data: 'readme v2' }, // changed content
      'empty': { data: '', mode: 0o755 }, // same content, other mode
      'new.txt': { data: 'new file' }
    })
    const gets: string[] = []
    const staged = await stageVersion({ index: v2.index, store: storeOf(v2.chunks, gets), installRoot, stagingName: '.staging-2', previous: { dir: v1dir, index: v1.index } })
    assert.equal(staged.linked, 2, 'bin/app and lib/deep/dir/data.txt')
    assert.equal(staged.written, 3)
    const ino = (p: string): number => statSync(p).ino
    assert.equal(ino(join(staged.dir, 'bin/app')), ino(join(v1dir, 'bin/app')))
    assert.equal(ino(join(staged.dir, 'lib/deep/dir/data.txt')), ino(join(v1dir, 'lib/deep/dir/data.txt')))
    assert.notEqual(ino(join(staged.dir, 'README')), ino(join(v1dir, 'README')))
    assert.notEqual(ino(join(staged.dir, 'empty')), ino(join(v1dir, 'empty')))
    assert.equal(statSync(join(staged.dir, 'empty')).mode & 0o777, 0o755)
    assert.equal(statSync(join(v1dir, 'empty')).mode & 0o777, 0o644, 'the previous version is untouched')
    assert.ok(!gets.includes(v1.index.files[0]!.chunks[0]!.cid), 'linked files read no chunks')
    assert.equal((await verifyTree(staged.dir, v2.index)).ok, true)
    assert.equal((await verifyTree(v1dir, v1.index)).ok, true)
  })

  it('does not link a previous file that was changed on disk (same size)', async () => {
    const installRoot = freshRoot()
    const v1 = build('1.0.0', V1)
    await stageAndPromote(installRoot, v1)
    const v1dir = versionDir(installRoot, '1.0.0')
    writeFileSync(join(v1dir, 'README'), 'README V1') // same length, other bytes
    const v2 = build('2.0.0', V1)
    const staged = await stageVersion({ index: v2.index, store: storeOf(v2.chunks), installRoot, stagingName: '.staging-2', previous: { dir: v1dir, index: v1.index } })
    assert.equal(staged.linked, 3)
    assert.notEqual(statSync(join(staged.dir, 'README')).ino, statSync(join(v1dir, 'README')).ino)
    assert.equal(readFileSync(join(staged.dir, 'README'), 'utf8'), 'readme v1')
  })

  for (const [what, path] of [['a ".." path', '../x'], ['a deeper ".." path', 'lib/../../x'], ['an absolute path', '/tmp/umesh-escape'], ['an empty component', 'a//b']] as const) {
    it(`refuses ${what} before writing anything`, async () => {
      const installRoot = freshRoot()
      const v1 = build('1.0.0', V1)
      // the index object is built directly: parseReleaseIndex would refuse it first
      const evil: ReleaseIndex = { ...v1.index, files: [...v1.index.files, { ...v1.index.files[2]!, path }] }
      await assert.rejects(
        stageVersion({ index: evil, store: storeOf(v1.chunks), installRoot, stagingName: '.staging-e' }),
        (err: any) => err.name === 'UnsafeInstallPathError' && err.message.includes(JSON.stringify(path)) && /nothing was written/.test(err.message)
      )
      assert.equal(existsSync(versionsDir(installRoot)), false, 'not even versions/ was created')
      assert.equal(existsSync(join(installRoot, 'x')), false)
      assert.equal(existsSync('/tmp/umesh-escape'), false)
    })
  }

  it('refuses a path used both as a file and as a folder, and a mode other than 644/755', async () => {
    const installRoot = freshRoot()
    const v1 = build('1.0.0', { 'a': { data: 'file' }, 'a/b': { data: 'under a file' } })
    await assert.rejects(stageVersion({ index: v1.index, store: storeOf(v1.chunks), installRoot, stagingName: '.staging-c' }), { name: 'UnsafeInstallPathError' })
    const v2 = build('1.0.0', { x: { data: 'suid' } })
    v2.index.files[0]!.mode = 0o4755 as any
    await assert.rejects(stageVersion({ index: v2.index, store: storeOf(v2.chunks), installRoot, stagingName: '.staging-c' }), (err: any) => err.name === 'UnsafeInstallPathError' && /4755/.test(err.message))
    assert.equal(existsSync(versionsDir(installRoot)), false)
  })

  it('detects a chunk store that returns wrong bytes, and removes the staging', async () => {
    const installRoot = freshRoot()
    const v1 = build('1.0.0', V1)
    const target = v1.index.files[1]! // lib/deep/dir/data.txt
    const bad = new Map(v1.chunks)
    const cid = target.chunks[1]!.cid
    const wrong = Uint8Array.from(bad.get(cid)!)
    wrong[0] ^= 1
    bad.set(cid, wrong)
    await assert.rejects(
      stageVersion({ index: v1.index, store: storeOf(bad), installRoot, stagingName: '.staging-w' }),
      (err: any) => err.name === 'StagedFileMismatchError' && err.message.includes('"lib/deep/dir/data.txt"') && /sha256/.test(err.message)
    )
    assert.equal(existsSync(join(versionsDir(installRoot), '.staging-w')), false)

    const short = new Map(v1.chunks)
    short.set(cid, v1.chunks.get(cid)!.subarray(1))
    await assert.rejects(
      stageVersion({ index: v1.index, store: storeOf(short), installRoot, stagingName: '.staging-w' }),
      (err: any) => err.name === 'StagedFileMismatchError' && err.message.includes('"lib/deep/dir/data.txt"')
    )
  })

  it('from a chunk store: hashes each byte once, and a damaged chunk fails its file and leaves the store', async () => {
    const installRoot = freshRoot()
    const v1 = build('1.0.0', V1)
    const store = await openChunkStore(join(installRoot, 'chunks'))
    for (const [cid, bytes] of v1.chunks) await store.put(CID.parse(cid), bytes)
    const gets: string[] = []
    const counted = { get: async (cid: CID) => { gets.push(cid.toString()); return await store.get(cid) }, readInto: store.readInto.bind(store) }
    const staged = await stageVersion({ index: v1.index, store: counted, installRoot, stagingName: '.staging-r' })
    assert.equal(staged.written, 4)
    assert.deepEqual(gets, [], 'read unverified: the file hashes are the check')
    promoteStaged(installRoot, '.staging-r', '1.0.0')
    assert.equal((await verifyTree(versionDir(installRoot, '1.0.0'), v1.index)).ok, true)

    // a bit flipped on disk: the file fails its sha256, its chunks are verified, the damaged one is removed
    const target = v1.index.files[1]! // lib/deep/dir/data.txt
    const damaged = CID.parse(target.chunks[2]!.cid)
    const onDisk = readFileSync(store.pathOf(damaged))
    onDisk[0] ^= 1
    writeFileSync(store.pathOf(damaged), onDisk)
    await assert.rejects(
      stageVersion({ index: v1.index, store: counted, installRoot, stagingName: '.staging-d' }),
      (err: any) => err.name === 'StagedFileMismatchError' && err.message.includes('"lib/deep/dir/data.txt"') && err.message.includes(`chunk 2 (${damaged.toString()})`) && /damaged/.test(err.message)
    )
    assert.equal(await store.has(damaged), false, 'removed, so it is fetched again')
    assert.equal(existsSync(join(versionsDir(installRoot), '.staging-d')), false)

    // a chunk file of the wrong size is caught before its bytes are used
    await store.put(damaged, v1.chunks.get(damaged.toString())!)
    writeFileSync(store.pathOf(damaged), Buffer.concat([v1.chunks.get(damaged.toString())!, Buffer.from('x')]))
    await assert.rejects(
      stageVersion({ index: v1.index, store: counted, installRoot, stagingName: '.staging-l' }),
      (err: any) => err.name === 'StagedFileMismatchError' && /is more than \d+ bytes on disk/.test(err.message)
    )
    assert.equal(await store.has(damaged), false)
  })

  it('stops when its signal is aborted', async () => {
    const installRoot = freshRoot()
    const v1 = build('1.0.0', V1)
    const ac = new AbortController()
    ac.abort(new Error('stop now'))
    await assert.rejects(stageVersion({ index: v1.index, store: storeOf(v1.chunks), installRoot, stagingName: '.staging-s', signal: ac.signal }), /stop now/)
    assert.equal(existsSync(join(versionsDir(installRoot), '.staging-s')), false)
  })
})

describe('verifyTree', () => {
  it('names a changed file, a changed mode, a missing file, an extra file, folder and a symbolic link', async () => {
    const installRoot = freshRoot()
    const v1 = build('1.0.0', V1)
    await stageAndPromote(installRoot, v1)
    const dir = versionDir(installRoot, '1.0.0')
    const check = async (): Promise<string[]> => (await verifyTree(dir, v1.index)).problems

    chmodSync(join(dir, 'README'), 0o644)
    writeFileSync(join(dir, 'README'), 'README V1')
    assert.deepEqual(await check(), [`"README" has sha256 ${createHash('sha256').update('README V1').digest('hex')}, the release says ${v1.index.files[2]!.sha256}`])
    writeFileSync(join(dir, 'README'), 'readme v1')
    assert.deepEqual(await check(), [])

    writeFileSync(join(dir, 'README'), 'readme v1 longer')
    assert.match((await check())[0]!, /"README" is 16 bytes, the release says 9/)
    writeFileSync(join(dir, 'README'), 'readme v1')

    chmodSync(join(dir, 'bin/app'), 0o644)
    assert.match((await check())[0]!, /"bin\/app" is not executable/)
    chmodSync(join(dir, 'bin/app'), 0o755)

    writeFileSync(join(dir, 'lib/extra'), 'x')
    mkdirSync(join(dir, 'cache'))
    symlinkSync('README', join(dir, 'lib/link'))
    rmSync(join(dir, 'empty'))
    const problems = await check()
    assert.deepEqual(problems.sort(), [
      '"cache" is an extra folder, not in the release',
      '"empty" is missing',
      '"lib/extra" is an extra file, not in the release',
      '"lib/link" is a symbolic link, not in the release'
    ])
    assert.equal((await verifyTree(join(installRoot, 'nope'), v1.index)).ok, false)
  })

  it('reports a file replaced by a symbolic link to identical content', async () => {
    const installRoot = freshRoot()
    const v1 = build('1.0.0', V1)
    await stageAndPromote(installRoot, v1)
    const dir = versionDir(installRoot, '1.0.0')
    writeFileSync(join(installRoot, 'outside'), 'readme v1')
    rmSync(join(dir, 'README'))
    symlinkSync(join(installRoot, 'outside'), join(dir, 'README'))
    const r = await verifyTree(dir, v1.index)
    assert.deepEqual(r.problems.sort(), ['"README" is a symbolic link, not in the release', '"README" is missing'])
  })
})

describe('versions and the current link', () => {
  it('switches `current` atomically between versions and reads it back', async () => {
    const installRoot = freshRoot()
    await stageAndPromote(installRoot, build('1.0.0', V1))
    await stageAndPromote(installRoot, build('2.0.0', V1))
    assert.equal(readCurrent(installRoot), null)
    switchCurrent(installRoot, '1.0.0')
    assert.equal(readlinkSync(join(installRoot, 'current')), 'versions/1.0.0')
    assert.equal(readCurrent(installRoot), '1.0.0')
    assert.equal(readFileSync(join(installRoot, 'current', 'README'), 'utf8'), 'readme v1')
    switchCurrent(installRoot, '2.0.0')
    assert.equal(readCurrent(installRoot), '2.0.0')
    assert.throws(() => { switchCurrent(installRoot, '3.0.0') }, (err: any) => err.name === 'SwitchError' && /not a folder/.test(err.message))
    assert.throws(() => { switchCurrent(installRoot, '../..') }, { name: 'InvalidVersionNameError' })
    assert.equal(readCurrent(installRoot), '2.0.0', 'a refused switch leaves current alone')
    assert.deepEqual(readdir(installRoot).filter(n => n.startsWith('.current-')), [])
  })

  it('refuses a `current` that points outside versions/, and cleans temporary links', () => {
    const installRoot = freshRoot()
    mkdirSync(join(installRoot, 'versions', '1.0.0'), { recursive: true })
    symlinkSync('/etc', join(installRoot, 'current'))
    assert.throws(() => readCurrent(installRoot), (err: any) => err.name === 'SwitchError' && /outside/.test(err.message))
    rmSync(join(installRoot, 'current'))
    symlinkSync('versions/../versions/../x', join(installRoot, 'current'))
    assert.throws(() => readCurrent(installRoot), { name: 'SwitchError' })
    rmSync(join(installRoot, 'current'))
    symlinkSync('versions/1.0.0', join(installRoot, '.current-123-abcd'))
    writeFileSync(join(installRoot, '.current-not-a-link'), '')
    assert.equal(cleanSwitchLeftovers(installRoot), 1)
    assert.equal(existsSync(join(installRoot, '.current-not-a-link')), true, 'only links are removed')
    assert.equal(lstatSync(join(installRoot, '.current-123-abcd'), { throwIfNoEntry: false }), undefined)
    assert.equal(cleanSwitchLeftovers(join(installRoot, 'missing')), 0)
  })

  it('removes one version folder and refuses names that are not one folder', async () => {
    const installRoot = freshRoot()
    await stageAndPromote(installRoot, build('1.0.0', V1))
    writeFileSync(join(installRoot, 'keep'), 'x')
    for (const bad of ['../keep', 'a/b', '..', '.', '', '.staging-x']) {
      assert.throws(() => { removeVersion(installRoot, bad) }, { name: 'InvalidVersionNameError' }, bad)
    }
    removeVersion(installRoot, '1.0.0')
    assert.equal(existsSync(versionDir(installRoot, '1.0.0')), false)
    assert.equal(existsSync(join(installRoot, 'keep')), true)
    removeVersion(installRoot, '1.0.0') // already gone: fine
  })
})

function readdir (dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : []
}
