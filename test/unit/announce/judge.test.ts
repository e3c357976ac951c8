/**
 * Judging gossip announcements against a trusted root: what is forwarded,
 * what is dropped quietly, and what gets the sender penalised.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Metadata, MetadataKind } from '@tufjs/models'
import { Repository } from '../../../src/trust/repository.js'
import { judgeAnnouncement } from '../../../src/announce/index.js'
import { tempDir } from '../../helpers/cli.js'
import type { Root } from '@tufjs/models'

describe('announcement judge', () => {
  const tmp = tempDir('umesh-announce-')
  after(() => { tmp.remove() })
  const repo = Repository.init(join(tmp.path, 'repo'))
  const root = (): Metadata<Root> => Metadata.fromJSON(MetadataKind.Root, JSON.parse(readFileSync(join(repo.metadataDir, '1.root.json'), 'utf8')))
  const timestamp = (): Uint8Array => readFileSync(join(repo.metadataDir, 'timestamp.json'))

  it('accepts a validly signed newer timestamp', () => {
    const v = judgeAnnouncement(timestamp(), { root: root(), timestampVersion: 0 })
    assert.equal(v.action, 'accept')
  })

  it('ignores a replayed or duplicate timestamp (not newer than trusted)', () => {
    const old = timestamp()
    repo.refreshTimestamp()
    const v = judgeAnnouncement(old, { root: root(), timestampVersion: 2 })
    assert.equal(v.action, 'ignore')
    assert.match((v as any).reason, /not newer than the trusted 2/)
  })

  it('ignores an expired timestamp (freeze)', () => {
    const v = judgeAnnouncement(timestamp(), { root: root(), timestampVersion: 0 }, new Date(Date.now() + 3 * 86_400_000))
    assert.equal(v.action, 'ignore')
    assert.match((v as any).reason, /expired/)
  })

  it('rejects a timestamp whose signature by a trusted key does not verify (forgery)', () => {
    const md = JSON.parse(Buffer.from(timestamp()).toString())
    md.signed.version += 100
    const v = judgeAnnouncement(Buffer.from(JSON.stringify(md)), { root: root(), timestampVersion: 0 })
    assert.equal(v.action, 'reject')
  })

  it('rejects garbage and oversized messages', () => {
    assert.equal(judgeAnnouncement(Buffer.from('not json'), { root: root(), timestampVersion: 0 }).action, 'reject')
    assert.equal(judgeAnnouncement(Buffer.alloc(20_000, 0x20), { root: root(), timestampVersion: 0 }).action, 'reject')
  })

  it('ignores (and flags) a timestamp signed by a key the trusted root does not know: maybe a rotation', () => {
    repo.rotate('timestamp')
    const v = judgeAnnouncement(timestamp(), { root: root(), timestampVersion: 0 })
    assert.equal(v.action, 'ignore')
    assert.equal((v as any).unknownKeys, true)
    // with the rotated root trusted, the same message is accepted
    const newRoot = Metadata.fromJSON(MetadataKind.Root, JSON.parse(readFileSync(join(repo.metadataDir, 'root.json'), 'utf8')))
    assert.equal(judgeAnnouncement(timestamp(), { root: newRoot, timestampVersion: 0 }).action, 'accept')
  })
})
