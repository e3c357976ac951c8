import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, linkSync, mkdirSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { after, describe, it } from 'node:test'
import tar from 'tar-stream'
import { readSourceTree } from '../../../src/release/source-tree.js'
import { ReleaseSourceError, UnsafeTreeError } from '../../../src/release/tree-rules.js'
import { tempDir } from '../../helpers/cli.js'
import type { SourceTree, SourceTreeOptions } from '../../../src/release/source-tree.js'

interface TarItem {
  name: string
  type?: 'file' | 'link' | 'symlink' | 'directory' | 'block-device' | 'character-device' | 'fifo' | 'contiguous-file'
  mode?: number
  body?: string | Buffer
  linkname?: string
  devmajor?: number
  devminor?: number
}

async function tarBytes (items: TarItem[]): Promise<Buffer> {
  const pack = tar.pack()
  const output = (async () => {
    const chunks: Buffer[] = []
    for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk)
    return Buffer.concat(chunks)
  })()
  for (const { body, ...header } of items) {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => { err != null ? reject(err) : resolve() }
      if (body !== undefined || header.type === undefined || header.type === 'file') pack.entry(header, body ?? '', done)
      else pack.entry(header, done)
    })
  }
  pack.finalize()
  return await output
}

async function contents (tree: SourceTree): Promise<Array<{ path: string, mode: number, size: number, bytes: Buffer }>> {
  const out = []
  for (const entry of tree.entries) {
    const chunks: Uint8Array[] = []
    for await (const chunk of entry.open()) chunks.push(chunk)
    out.push({ path: entry.path, mode: entry.mode, size: entry.size, bytes: Buffer.concat(chunks) })
  }
  return out
}

async function assertUnsafe (promise: Promise<unknown>, entry: string, reason: RegExp): Promise<void> {
  await assert.rejects(promise, (err: any) => {
    assert.equal(err.name, 'UnsafeTreeError', err.message)
    assert.ok(err instanceof UnsafeTreeError)
    assert.equal(err.entry, entry)
    assert.match(err.reason, reason)
    assert.ok(err.message.startsWith('unsafe release tree: "'), err.message)
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`)
    return true
  })
}

describe('release source tree', () => {
  const tmp = tempDir()
  after(() => { tmp.remove() })
  let n = 0
  const fresh = (): string => {
    const d = join(tmp.path, `case-${n++}`)
    mkdirSync(d, { recursive: true })
    return d
  }
  /** an archive in its own dir, read with a private scratch dir that must stay empty */
  const archive = async (items: TarItem[], options: { gzip?: boolean, trailer?: Buffer } = {}): Promise<{ path: string, scratch: string }> => {
    const d = fresh()
    const scratch = join(d, 'scratch')
    mkdirSync(scratch)
    let bytes = await tarBytes(items)
    if (options.trailer != null) bytes = Buffer.concat([bytes, options.trailer])
    const path = join(d, options.gzip === true ? 'release.tar.gz' : 'release.tar')
    writeFileSync(path, options.gzip === true ? gzipSync(bytes) : bytes)
    return { path, scratch }
  }
  const rejectsArchive = async (items: TarItem[], entry: string, reason: RegExp, limits: SourceTreeOptions = {}, options: { gzip?: boolean, trailer?: Buffer } = {}): Promise<void> => {
    for (const gzip of options.gzip === undefined ? [false, true] : [options.gzip]) {
      const { path, scratch } = await archive(items, { ...options, gzip })
      await assertUnsafe(readSourceTree(path, { ...limits, tmpDir: scratch }), entry, reason)
      assert.deepEqual(readdirSync(scratch), [], 'a rejected archive leaves nothing in the temp dir')
    }
  }

  describe('hostile archives', () => {
    it('rejects an absolute path', async () => {
      await rejectsArchive([{ name: '/etc/passwd', body: 'x' }], '/etc/passwd', /the path is absolute/)
    })

    it('rejects a ".." component and writes nothing outside its temp dir', async () => {
      await rejectsArchive([{ name: 'ok.txt', body: 'x' }, { name: '../escape.txt', body: 'x' }], '../escape.txt', /a path component is "\.\."; a release may only contain files below its root/)
      await rejectsArchive([{ name: 'a/../../escape.txt', body: 'x' }], 'a/../../escape.txt', /"\.\."/)
      assert.equal(existsSync(join(tmp.path, 'escape.txt')), false)
      await assert.rejects(readSourceTree((await archive([{ name: '../etc/passwd', body: 'x' }])).path), {
        message: 'unsafe release tree: "../etc/passwd": a path component is ".."; a release may only contain files below its root'
      })
    })

    it('rejects symlinks, hard links, devices, FIFOs and other entry types', async () => {
      await rejectsArchive([{ name: 'link', type: 'symlink', linkname: '/etc/passwd' }], 'link', /a symbolic link to "\/etc\/passwd"; a release may only contain regular files and directories/)
      await rejectsArchive([{ name: 'a.txt', body: 'x' }, { name: 'b.txt', type: 'link', linkname: 'a.txt' }], 'b.txt', /a hard link to "a\.txt"/)
      await rejectsArchive([{ name: 'null', type: 'character-device', devmajor: 1, devminor: 3 }], 'null', /a character device; .*remove it/)
      await rejectsArchive([{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }], 'sda', /a block device/)
      await rejectsArchive([{ name: 'pipe', type: 'fifo' }], 'pipe', /a FIFO/)
      await rejectsArchive([{ name: 'c.bin', type: 'contiguous-file', body: 'x' }], 'c.bin', /a contiguous file/)
    })

    it('rejects duplicate names, case collisions and a file used as a directory', async () => {
      await rejectsArchive([{ name: 'a.txt', body: 'x' }, { name: 'a.txt', body: 'y' }], 'a.txt', /holds this name twice/)
      await rejectsArchive([{ name: 'a.txt', body: 'x' }, { name: './a.txt', body: 'y' }], 'a.txt', /holds this name twice/)
      await rejectsArchive([{ name: 'a.txt', body: 'x' }, { name: 'A.TXT', body: 'y' }], 'A.TXT', /"A\.TXT" and "a\.txt" differ only in letter case/)
      await rejectsArchive([{ name: 'Lib/x', body: 'x' }, { name: 'lib/y', body: 'y' }], 'lib/y', /"lib" and "Lib" differ only in letter case/)
      await rejectsArchive([{ name: 'strasse', body: 'x' }, { name: 'straße', body: 'y' }], 'straße', /differ only in letter case/)
      await rejectsArchive([{ name: 'a', body: 'x' }, { name: 'a/b', body: 'y' }], 'a/b', /"a" is a file but this path uses it as a directory/)
      await rejectsArchive([{ name: 'a/b', body: 'x' }, { name: 'a', body: 'y' }], 'a', /the name is a file but other entries use it as a directory/)
    })

    it('rejects names that are not NFC, not UTF-8, or hold control characters or backslashes', async () => {
      await rejectsArchive([{ name: 'e\u0301.txt', body: 'x' }], 'e\u0301.txt', /not NFC-normalized Unicode \(it spells U\+0065 U\+0301 where NFC has U\+00E9\)/)
      await rejectsArchive([{ name: 'a\nb', body: 'x' }], 'a\nb', /control character U\+000A/)
      await rejectsArchive([{ name: 'evil\u202Etxt.exe', body: 'x' }], 'evil\u202Etxt.exe', /control character U\+202E/)
      await rejectsArchive([{ name: 'a\\b', body: 'x' }], 'a\\b', /backslash/)
      await rejectsArchive([{ name: 'bad\ufffd', body: 'x' }], 'bad\ufffd', /not valid UTF-8/)
    })

    it('rejects empty and "." components, and over-long names and paths', async () => {
      await rejectsArchive([{ name: 'a//b', body: 'x' }], 'a//b', /empty component/)
      await rejectsArchive([{ name: 'a/./b', body: 'x' }], 'a/./b', /a path component is "\."/)
      const long = 'n'.repeat(256)
      await rejectsArchive([{ name: long, body: 'x' }], long, /is 256 bytes long, more than the 255/)
      const deep = Array.from({ length: 20 }, () => 'd'.repeat(250)).join('/')
      await rejectsArchive([{ name: deep, body: 'x' }], deep, /bytes long, more than the 4096 allowed/)
    })

    it('rejects setuid, setgid and sticky files and keeps only the executable bit', async () => {
      await rejectsArchive([{ name: 'su', mode: 0o4755, body: 'x' }], 'su', /setuid bit set \(mode 4755\).*chmod/)
      await rejectsArchive([{ name: 'sg', mode: 0o2755, body: 'x' }], 'sg', /setgid bit set/)
      await rejectsArchive([{ name: 'st', mode: 0o1644, body: 'x' }], 'st', /sticky bit set/)
      const { path } = await archive([{ name: 'x', mode: 0o700, body: '' }, { name: 'r', mode: 0o600, body: '' }, { name: 'g', mode: 0o654, body: '' }, { name: 'd', type: 'directory', mode: 0o2775 }])
      const tree = await readSourceTree(path)
      assert.deepEqual(tree.entries.map(e => [e.path, e.mode]), [['g', 0o755], ['r', 0o644], ['x', 0o755]])
      await tree.close()
    })

    it('rejects more entries or bytes than the limits allow', async () => {
      const files = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, body: 'x' }))
      await rejectsArchive(files, 'f3', /more than 3 entries \(files and directories, the maxEntries limit\)/, { maxEntries: 3 })
      await rejectsArchive([{ name: 'a/b/c/d.txt', body: 'x' }], 'a/b/c/d.txt', /more than 3 entries/, { maxEntries: 3 })
      await rejectsArchive([{ name: 'a', body: Buffer.alloc(600) }, { name: 'b', body: Buffer.alloc(600) }], 'b', /more than 1000 bytes \(the maxTotalBytes limit\)/, { maxTotalBytes: 1000 })
    })

    it('stops a gzip bomb at the decompression cap', async () => {
      const bomb = [{ name: 'zeros.bin', body: Buffer.alloc(8 * 1024 * 1024) }]
      await rejectsArchive(bomb, 'zeros.bin', /decompresses to more than 1048576 bytes \(the maxArchiveBytes limit\) while reading this entry; it may be a zip bomb/, { maxArchiveBytes: 1024 * 1024 }, { gzip: true })
      // zero blocks after the end of the archive are read as empty headers: no entry, but still counted
      await rejectsArchive([{ name: 'small.txt', body: 'x' }], 'release.tar.gz', /decompresses to more than 1048576 bytes .* outside any file entry/, { maxArchiveBytes: 1024 * 1024 }, { gzip: true, trailer: Buffer.alloc(8 * 1024 * 1024) })
      // the default cap follows maxTotalBytes and maxEntries
      await rejectsArchive([{ name: 'small.txt', body: 'x' }], 'release.tar.gz', /decompresses to more than/, { maxTotalBytes: 1024, maxEntries: 10 }, { gzip: true, trailer: Buffer.alloc(4 * 1024 * 1024) })
    })

    it('refuses a damaged archive or a gzip that is not one with ReleaseSourceError', async () => {
      const good = await tarBytes([{ name: 'a.txt', body: Buffer.alloc(5000, 1) }])
      const d = fresh()
      writeFileSync(join(d, 'cut.tar'), good.subarray(0, 2048))
      writeFileSync(join(d, 'plain.tgz'), good)
      writeFileSync(join(d, 'junk.tar'), Buffer.alloc(2048, 7))
      for (const [file, message] of [['cut.tar', /is not a readable tar archive/], ['plain.tgz', /is not a readable gzip file/], ['junk.tar', /is not a readable tar archive/]] as const) {
        await assert.rejects(readSourceTree(join(d, file), { tmpDir: d }), (err: any) => {
          assert.equal(err.name, 'ReleaseSourceError')
          assert.ok(err instanceof ReleaseSourceError)
          assert.match(err.message, message)
          return true
        })
      }
      assert.deepEqual(readdirSync(d).sort(), ['cut.tar', 'junk.tar', 'plain.tgz'])
      await assert.rejects(readSourceTree(join(d, 'missing')), { name: 'ReleaseSourceError', message: /cannot be read/ })
      writeFileSync(join(d, 'notes.zip'), 'x')
      await assert.rejects(readSourceTree(join(d, 'notes.zip')), { name: 'ReleaseSourceError', message: /expected a directory or a \.tar, \.tar\.gz or \.tgz archive/ })
    })
  })

  describe('hostile directories', () => {
    const tree = (files: Record<string, string>): string => {
      const d = fresh()
      for (const [name, content] of Object.entries(files)) {
        mkdirSync(join(d, name, '..'), { recursive: true })
        writeFileSync(join(d, name), content)
      }
      return d
    }

    it('rejects a symlink, without following it', async () => {
      const d = tree({ 'a.txt': 'x' })
      symlinkSync('/etc/passwd', join(d, 'passwd'))
      await assertUnsafe(readSourceTree(d), 'passwd', /a symbolic link; a release may only contain regular files and directories, so replace it with a plain copy/)
      const e = tree({ 'a.txt': 'x' })
      symlinkSync(tmp.path, join(e, 'loop'))
      await assertUnsafe(readSourceTree(e), 'loop', /a symbolic link/)
    })

    it('rejects a hard link', async () => {
      const d = tree({ 'sub/a.txt': 'x' })
      linkSync(join(d, 'sub/a.txt'), join(d, 'b.txt'))
      await assertUnsafe(readSourceTree(d), 'b.txt', /a hard link \(one of 2 names for the same file\)/)
    })

    it('rejects a FIFO and a socket', async (t) => {
      const d = tree({ 'a.txt': 'x' })
      const made = spawnSync('mkfifo', [join(d, 'pipe')])
      if (made.status !== 0) {
        t.skip(`mkfifo failed: ${made.stderr?.toString() ?? made.error?.message ?? ''}`)
        return
      }
      await assertUnsafe(readSourceTree(d), 'pipe', /a FIFO; .*remove it from the tree/)
      const e = tree({})
      const server = createServer()
      await new Promise<void>(resolve => server.listen(join(e, 'sock'), resolve))
      try {
        await assertUnsafe(readSourceTree(e), 'sock', /a socket/)
      } finally {
        server.close()
      }
    })

    it('rejects a character device (root only)', async (t) => {
      const d = tree({ 'a.txt': 'x' })
      const made = process.getuid?.() === 0 ? spawnSync('mknod', [join(d, 'null'), 'c', '1', '3']) : undefined
      if (made?.status !== 0) {
        const reason = made == null ? 'not running as root' : `mknod failed: ${made.stderr.toString().trim()}`
        console.log(`skipping the character device case: ${reason}`)
        t.skip(reason)
        return
      }
      await assertUnsafe(readSourceTree(d), 'null', /a character device/)
    })

    it('rejects case collisions, non-NFC, non-UTF-8 and control-character names', async () => {
      await assertUnsafe(readSourceTree(tree({ 'a.txt': 'x', 'A.TXT': 'y' })), 'a.txt', /"a\.txt" and "A\.TXT" differ only in letter case/)
      await assertUnsafe(readSourceTree(tree({ 'e\u0301.txt': 'x' })), 'e\u0301.txt', /not NFC-normalized/)
      await assertUnsafe(readSourceTree(tree({ 'a\tb': 'x' })), 'a\tb', /control character U\+0009/)
      await assertUnsafe(readSourceTree(tree({ 'dir/a\\b': 'x' })), 'dir/a\\b', /backslash/)
      const d = tree({})
      mkdirSync(join(d, 'sub'))
      writeFileSync(Buffer.concat([Buffer.from(join(d, 'sub') + '/'), Buffer.from([0x66, 0xff])]), 'x')
      await assertUnsafe(readSourceTree(d), 'sub/f\ufffd', /not valid UTF-8/)
    })

    it('rejects a setuid or setgid file, but not a setgid directory', async () => {
      const d = tree({ 'bin/tool': 'x' })
      chmodSync(join(d, 'bin/tool'), 0o4755)
      await assertUnsafe(readSourceTree(d), 'bin/tool', /setuid bit set \(mode 4755\)/)
      chmodSync(join(d, 'bin/tool'), 0o2755)
      await assertUnsafe(readSourceTree(d), 'bin/tool', /setgid bit set/)
      chmodSync(join(d, 'bin/tool'), 0o755)
      chmodSync(join(d, 'bin'), 0o2775)
      const ok = await readSourceTree(d)
      assert.deepEqual(ok.entries.map(e => [e.path, e.mode]), [['bin/tool', 0o755]])
    })

    it('rejects more entries or bytes than the limits allow', async () => {
      await assertUnsafe(readSourceTree(tree({ a: '1', b: '2', c: '3', d: '4' }), { maxEntries: 3 }), 'd', /more than 3 entries/)
      await assertUnsafe(readSourceTree(tree({ 'x/y/z': '1' }), { maxEntries: 2 }), 'x/y/z', /more than 2 entries/)
      await assertUnsafe(readSourceTree(tree({ a: 'x'.repeat(600), b: 'x'.repeat(600) }), { maxTotalBytes: 1000 }), 'b', /more than 1000 bytes/)
    })

    it('refuses to read a file that changed after the check', async () => {
      const d = tree({ 'a.txt': 'hello', 'b.txt': 'world', 'c.txt': 'again' })
      const checked = await readSourceTree(d)
      renameSync(join(d, 'a.txt'), join(d, 'old.txt'))
      symlinkSync(join(d, 'old.txt'), join(d, 'a.txt'))
      writeFileSync(join(d, 'b.txt'), 'world, longer')
      const read = async (i: number): Promise<void> => { for await (const _ of checked.entries[i].open()) { /* drain */ } }
      await assert.rejects(read(0), { name: 'ReleaseSourceError', message: /"a\.txt" changed after the tree was checked/ })
      await assert.rejects(read(1), { name: 'ReleaseSourceError', message: /"b\.txt" changed after the tree was checked \(was a 5-byte file, now 13 bytes\)/ })
      await checked.close()
      await assert.rejects(read(2), { name: 'ReleaseSourceError', message: /after the tree was closed/ })
    })
  })

  describe('a good tree', () => {
    const random = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919 + (i >> 8)) & 0xff))
    const files: Record<string, { body: Buffer, mode: number }> = {
      'bin/tool': { body: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
      'share/doc/README': { body: Buffer.from('read me\n'), mode: 0o644 },
      'empty.txt': { body: Buffer.alloc(0), mode: 0o644 },
      'donn\u00e9es/\u00e9t\u00e9 \u65e5\u672c.txt': { body: Buffer.from('NFC name\n'), mode: 0o600 },
      'lib/blob.bin': { body: random, mode: 0o664 }
    }
    const expected = Object.entries(files)
      .map(([path, f]) => ({ path, mode: (f.mode & 0o111) !== 0 ? 0o755 : 0o644, size: f.body.length, bytes: f.body }))
      .sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))

    const onDisk = (): string => {
      const d = fresh()
      const root = join(d, 'tree')
      for (const [path, f] of Object.entries(files)) {
        mkdirSync(join(root, path, '..'), { recursive: true })
        writeFileSync(join(root, path), f.body, { mode: f.mode })
        chmodSync(join(root, path), f.mode)
      }
      mkdirSync(join(root, 'var/cache'), { recursive: true })
      return root
    }
    const packed = (): TarItem[] => [
      { name: './', type: 'directory' },
      { name: './var/cache/', type: 'directory' },
      ...Object.entries(files).map(([name, f]) => ({ name: `./${name}`, mode: f.mode, body: f.body }))
    ]

    it('reads the same entries and bytes from a directory, a .tar, a .tar.gz and a system tar .tgz', async () => {
      const sources: string[] = [onDisk()]
      const scratch = fresh()
      for (const gzip of [false, true]) sources.push((await archive(packed(), { gzip })).path)
      const root = onDisk()
      const tgz = join(fresh(), 'system.tgz')
      const made = spawnSync('tar', ['-C', root, '-czf', tgz, '.'])
      if (made.status === 0) sources.push(tgz)
      else console.log(`skipping the system tar case: ${made.stderr?.toString() ?? made.error?.message ?? ''}`)
      for (const source of sources) {
        const tree = await readSourceTree(source, { tmpDir: scratch })
        assert.deepEqual(readdirSync(scratch), [], `${source}: the temp copy is already unlinked`)
        assert.deepEqual(await contents(tree), expected, source)
        assert.equal(tree.totalBytes, expected.reduce((sum, e) => sum + e.size, 0))
        assert.equal(tree.format, source.endsWith('gz') ? 'tar.gz' : source.endsWith('.tar') ? 'tar' : 'dir')
        await tree.close()
        await tree.close()
        await assert.rejects((async () => { for await (const _ of tree.entries[0].open()) { /* drain */ } })(), { name: 'ReleaseSourceError' })
      }
    })

    it('gives the exact bytes when files are opened out of order and concurrently', async () => {
      const { path } = await archive(packed(), { gzip: true })
      const tree = await readSourceTree(path)
      const read = async (i: number): Promise<Buffer> => {
        const chunks: Uint8Array[] = []
        for await (const chunk of tree.entries[i].open()) chunks.push(chunk)
        return Buffer.concat(chunks)
      }
      const order = tree.entries.map((_, i) => i).reverse()
      const bytes = await Promise.all(order.map(read))
      order.forEach((i, k) => { assert.deepEqual(bytes[k], expected[i].bytes) })
      await tree.close()
    })
  })
})
