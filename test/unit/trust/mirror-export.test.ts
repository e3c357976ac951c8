/**
 * `umesh release mirror` (exportMirror): the copy holds the repository's
 * metadata/, targets/ and chunks/ byte for byte and nothing else (no keys,
 * no repo.json, no chunk store temporaries); a second run copies only what
 * changed (the new release's files and the timestamp); a copy inside the
 * repository, or a folder that is no repository, is refused.
 */
import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { after, describe, it } from 'node:test'
import { exportMirror } from '../../../src/trust/mirror-export.js'
import { Repository } from '../../../src/trust/repository.js'
import { tempDir } from '../../helpers/cli.js'
import { addTreeRelease } from '../../helpers/release-repo.js'

function filesOf (root: string, dir = root): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesOf(root, path) : [relative(root, path)]
  }).sort()
}

describe('exportMirror', () => {
  const tmp = tempDir('umesh-mirror-export-')
  after(() => { tmp.remove() })

  it('copies metadata/, targets/ and chunks/ only, then only what changed, the timestamp always', async () => {
    const repoDir = join(tmp.path, 'repo')
    const out = join(tmp.path, 'www')
    const repo = Repository.init(repoDir)
    await addTreeRelease(repo, tmp.path, 'app', '1.0.0')
    mkdirSync(join(repoDir, 'chunks', '.tmp'), { recursive: true })
    writeFileSync(join(repoDir, 'chunks', '.tmp', '123.partial'), 'half a chunk')

    const first = await exportMirror(repoDir, out)
    const served = filesOf(out)
    const expected = filesOf(repoDir).filter(p => /^(metadata|targets|chunks)\//.test(p) && !p.includes('/.tmp/'))
    assert.deepEqual(served, expected)
    for (const p of served) assert.deepEqual(readFileSync(join(out, p)), readFileSync(join(repoDir, p)), p)
    assert.ok(!served.some(p => p.startsWith('keys/') || p === 'repo.json'), served.join('\n'))
    assert.ok(filesOf(repoDir).some(p => p.startsWith('keys/')), 'the repository has keys to leave out')
    assert.equal(first.copied, served.length)
    assert.equal(first.kept, 0)

    await addTreeRelease(repo, tmp.path, 'app', '1.1.0')
    const second = await exportMirror(repoDir, out)
    const after = filesOf(out)
    const added = after.filter(p => !served.includes(p))
    // the new index, its new chunks, the new snapshot and targets, and the timestamp (rewritten in place)
    assert.ok(added.some(p => p.startsWith('targets/')) && added.some(p => p.startsWith('chunks/')), added.join('\n'))
    assert.equal(second.copied, added.length + 2, 'new files, plus the timestamp and root.json rewritten')
    assert.equal(second.kept, served.length - 2)
    assert.deepEqual(readFileSync(join(out, 'metadata', 'timestamp.json')), readFileSync(join(repoDir, 'metadata', 'timestamp.json')))
  })

  it('refuses a copy inside the repository, and a folder that is no repository', async () => {
    const repoDir = join(tmp.path, 'repo2')
    Repository.init(repoDir)
    await assert.rejects(exportMirror(repoDir, join(repoDir, 'www')), /may not contain each other/)
    await assert.rejects(exportMirror(join(tmp.path, 'nothing'), join(tmp.path, 'www2')), /is not a release repository/)
  })
})
