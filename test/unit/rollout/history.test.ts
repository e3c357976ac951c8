/**
 * Rollout history in a real repository: every rollout keeps its newest
 * document signed beside the current one (tuf-js's own Updater reads both
 * through the delegation), the starter and the last changer are kept, a
 * repository from before the history still lists its current documents,
 * listRollouts still gives one document per package, and the downgrade
 * baseline is the last completed rollout (a halted one never counts).
 */
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Updater } from 'tuf-js'
import { encodeRolloutDocument, rolloutTargetPath } from '../../../src/rollout/document.js'
import { auditExpectations, historyTargetPath, lastCompletedRollout, rolloutHistory } from '../../../src/rollout/history.js'
import { changeRollout, listRollouts, startRollout } from '../../../src/rollout/repo-rollouts.js'
import { ROLLOUT_FORMAT } from '../../../src/rollout/types.js'
import { Repository, ROLLOUTS_ROLE } from '../../../src/trust/repository.js'
import { tempDir } from '../../helpers/cli.js'
import { DirectoryFetcher } from '../../helpers/dir-fetcher.js'
import { addTreeRelease } from '../../helpers/release-repo.js'
import type { StartOptions } from '../../../src/rollout/repo-rollouts.js'
import type { RolloutDocument } from '../../../src/rollout/types.js'

const opts = (pkg: string, version: string, extra: Partial<StartOptions> = {}): StartOptions => ({
  package: pkg, version, waves: [{ name: 'all', fraction: 1, peers: [] }], gate: { success: 1, soakMs: 0 }, abort: 0.5, maxParallel: 1, manual: false, allowDowngrade: false, critical: false, ...extra
})

describe('rollout history', () => {
  const tmp = tempDir('umesh-rollout-history-unit-')
  after(() => { tmp.remove() })
  let repo: Repository
  const dir = join(tmp.path, 'repo')

  before(async () => {
    repo = Repository.init(dir)
    for (const v of ['1.0.0', '1.5.0', '2.0.0', '3.0.0']) await addTreeRelease(repo, tmp.path, 'app', v, 1024)
    await addTreeRelease(repo, tmp.path, 'tool', '1.0.0', 1024)
  })

  it('keeps each rollout\'s newest document, signed, with who started it and who changed it last', () => {
    const a = startRollout(repo, opts('app', '1.0.0'), 'alice')
    changeRollout(repo, 'app', { kind: 'open', wave: 0, reason: 'wave all opened' })
    changeRollout(repo, 'app', { kind: 'state', state: 'completed', reason: 'every wave passed its gate' })
    const b = startRollout(repo, opts('app', '2.0.0'), 'bob')
    changeRollout(repo, 'app', { kind: 'state', state: 'halted', rollback: true, reason: 'halted by carol' }, 'carol')
    const c = startRollout(repo, opts('app', '3.0.0'), 'dave')
    startRollout(repo, opts('tool', '1.0.0'))
    const h = rolloutHistory(Repository.open(dir), 'app')
    assert.deepEqual(h.map(x => [x.doc.id, x.doc.version, x.outcome, x.startedBy, x.changedBy, x.current]), [
      [a.id, '1.0.0', 'completed', 'alice', 'coordinator', false],
      [b.id, '2.0.0', 'rolled back', 'bob', 'carol', false],
      [c.id, '3.0.0', 'open', 'dave', 'dave', true]
    ])
    const targets = Repository.open(dir).targets(ROLLOUTS_ROLE)
    // the current document and the newest rollout's history entry are the same signed bytes
    assert.equal(targets[rolloutTargetPath('app')].hashes.sha256, targets[historyTargetPath('app', c.id)].hashes.sha256)
    // a rollout started without a name (the demo) has no starter
    assert.equal(rolloutHistory(Repository.open(dir), 'tool')[0].startedBy, undefined)
    assert.equal(rolloutHistory(Repository.open(dir)).length, 4)
  })

  it('listRollouts still gives one current document per package', () => {
    assert.deepEqual(listRollouts(Repository.open(dir)).map(d => `${d.package} ${d.version}`).sort(), ['app 3.0.0', 'tool 1.0.0'])
  })

  it('tuf-js\'s Updater reads the current document and a history entry through the rollouts delegation', async () => {
    const client = join(tmp.path, 'client')
    mkdirSync(join(client, 'metadata'), { recursive: true })
    mkdirSync(join(client, 'targets'), { recursive: true })
    copyFileSync(join(dir, 'metadata', '1.root.json'), join(client, 'metadata', 'root.json'))
    const u = new Updater({ metadataDir: join(client, 'metadata'), metadataBaseUrl: 'file://repo/metadata', targetDir: join(client, 'targets'), targetBaseUrl: 'file://repo/targets', fetcher: new DirectoryFetcher(dir) })
    await u.refresh()
    const first = rolloutHistory(Repository.open(dir), 'app')[0].doc
    const info = await u.getTargetInfo(historyTargetPath('app', first.id))
    assert.ok(info != null)
    const got = JSON.parse(readFileSync(await u.downloadTarget(info, join(client, 'targets', 'h.json')), 'utf8'))
    assert.equal(got.id, first.id)
    assert.equal(got.state, 'completed')
    assert.equal(JSON.parse(readFileSync(await u.downloadTarget((await u.getTargetInfo('rollouts/app.json'))!, join(client, 'targets', 'c.json')), 'utf8')).version, '3.0.0')
  })

  it('the downgrade baseline is the last completed rollout: the halted 2.0.0 does not count', () => {
    assert.equal(lastCompletedRollout(Repository.open(dir), 'app')?.version, '1.0.0')
    changeRollout(repo, 'app', { kind: 'state', state: 'halted', reason: 'test' }, 'erin')
    // 1.5.0 is newer than 1.0.0: allowed, though older than the halted 2.0.0 and 3.0.0
    startRollout(repo, opts('app', '1.5.0'), 'erin')
    changeRollout(repo, 'app', { kind: 'state', state: 'completed', reason: 'every wave passed its gate' })
    assert.equal(lastCompletedRollout(Repository.open(dir), 'app')?.version, '1.5.0')
    assert.throws(() => startRollout(repo, opts('app', '1.0.0'), 'erin'), (err: any) => err.name === 'RolloutError' && /1\.0\.0 is older than 1\.5\.0, the last version rolled out \(rollout [0-9a-f]+, completed .*\); a downgrade needs --allow-downgrade/.test(err.message))
    assert.equal(startRollout(repo, opts('app', '1.0.0', { allowDowngrade: true }), 'erin').downgrade, true)
  })

  it('a second rollout while one runs or is paused is refused with the reason', () => {
    changeRollout(repo, 'app', { kind: 'state', state: 'paused', reason: 'paused by erin' }, 'erin')
    assert.throws(() => startRollout(repo, opts('app', '3.0.0'), 'x'), (err: any) => err.name === 'RolloutError' && /a rollout of app 1\.0\.0 \([0-9a-f]+\) is paused; halt it/.test(err.message))
  })

  it('a repository from before the history: its current documents are its history', async () => {
    const old = Repository.init(join(tmp.path, 'old'))
    await addTreeRelease(old, tmp.path, 'svc', '1.0.0', 1024)
    const now = new Date().toISOString()
    const o = opts('svc', '1.0.0')
    const doc: RolloutDocument = { format: ROLLOUT_FORMAT, id: 'legacy0001', package: 'svc', version: '1.0.0', waves: o.waves, open: 0, state: 'completed', rollback: false, gate: o.gate, abort: o.abort, maxParallel: 1, manual: false, downgrade: false, critical: false, created: now, updated: now, reason: 'every wave passed its gate' }
    // as the code before the history wrote it: the current document only
    old.addTargets([{ path: rolloutTargetPath('svc'), bytes: encodeRolloutDocument(doc), custom: { package: 'svc', version: '1.0.0', rollout: 'legacy0001' } }], ROLLOUTS_ROLE)
    const h = rolloutHistory(Repository.open(old.dir))
    assert.deepEqual(h.map(x => [x.doc.id, x.outcome, x.current, x.startedBy]), [['legacy0001', 'completed', true, undefined]])
    assert.equal(lastCompletedRollout(Repository.open(old.dir), 'svc')?.id, 'legacy0001')
    // the next rollout starts the history; the old one stays listed
    const next = startRollout(old, opts('svc', '1.0.0'), 'alice')
    assert.deepEqual(rolloutHistory(Repository.open(old.dir)).map(x => x.doc.id).sort(), ['legacy0001', next.id].sort())
  })

  it('what the audit log must hold: each operator\'s start and last change, each release added since the log began', () => {
    const x = auditExpectations(Repository.open(dir))
    assert.ok(x.some(e => /started by alice/.test(e.what)))
    assert.ok(x.some(e => /by carol/.test(e.what)))
    assert.ok(!x.some(e => /by coordinator/.test(e.what)), 'the coordinator\'s own changes are not operator actions')
    assert.equal(x.filter(e => e.what.startsWith('the release ')).length, 5)
  })
})
