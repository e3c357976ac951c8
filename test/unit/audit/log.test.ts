/**
 * The audit log on a real repository (its role keys sign the entries):
 * appends chain and verify; an entry edited, removed, moved, cut short,
 * signed by a stranger's key or by the wrong role's key is found and named;
 * entries signed before a key rotation still verify; two writers at once
 * never chain to the same entry; the time never goes back.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync, appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Worker } from 'node:worker_threads'
import { appendEntry, auditLogFile, readAuditLog, sinceTime, verifyAuditLog, resolveActor, entryHash, GENESIS } from '../../../src/audit/index.js'
import { generateRoleKey } from '../../../src/trust/role-keys.js'
import { Repository } from '../../../src/trust/repository.js'
import { tempDir } from '../../helpers/cli.js'
import type { AppendRequest } from '../../../src/audit/log.js'

describe('audit log', () => {
  const tmp = tempDir('umesh-audit-')
  after(() => { tmp.remove() })
  let dir = ''
  let repo: Repository
  let n = 0

  const req = (action: string, role: 'rollouts' | 'targets' = 'rollouts', actor = 'alice'): AppendRequest =>
    ({ action, args: { package: 'app', ratio: 0.95, n: 3, skipped: undefined }, result: { ok: true }, actor, via: 'cli', role, key: repo.keysFor(role)[0] })
  const lines = (): string[] => readFileSync(auditLogFile(dir), 'utf8').split('\n').filter(l => l !== '')
  const write = (ls: string[]): void => { writeFileSync(auditLogFile(dir), ls.join('\n') + '\n') }
  /** runs `fn` on a fresh log of five entries, restoring nothing: each test gets its own repository */
  const freshLog = (): void => {
    dir = join(tmp.path, `repo-${n++}`)
    repo = Repository.init(dir)
    for (const action of ['rollout.start', 'rollout.pause', 'rollout.resume', 'rollout.halt']) appendEntry(dir, req(action))
    appendEntry(dir, req('release.add', 'targets', 'bob'))
  }

  before(() => { freshLog() })

  it('appends one line per entry, chained from the genesis, and verifies', () => {
    const entries = lines().map(l => JSON.parse(l))
    assert.equal(entries.length, 5)
    assert.deepEqual(entries.map(e => e.seq), [0, 1, 2, 3, 4])
    assert.equal(entries[0].prev, GENESIS)
    for (let i = 1; i < 5; i++) assert.equal(entries[i].prev, entryHash(entries[i - 1]))
    // canonical JSON has no fractions: they are kept as text; undefined members are left out
    assert.deepEqual(entries[0].args, { package: 'app', ratio: '0.95', n: 3 })
    assert.equal(entries[4].role, 'targets')
    assert.equal(entries[4].actor, 'bob')
    const result = verifyAuditLog(dir)
    assert.equal(result.problem, undefined, JSON.stringify(result.problem))
    assert.equal(result.entries, 5)
  })

  it('an edited entry: bad signature, at that entry', () => {
    freshLog()
    const ls = lines()
    write(ls.map((l, i) => i === 2 ? l.replace('"actor":"alice"', '"actor":"mallory"') : l))
    const p = verifyAuditLog(dir).problem
    assert.equal(p?.index, 2)
    assert.equal(p?.kind, 'bad signature')
    assert.match(p?.detail ?? '', /changed after it was signed/)
  })

  it('a removed entry: chain broken at the entry after it, naming the one missing', () => {
    freshLog()
    write(lines().filter((_, i) => i !== 1))
    const p = verifyAuditLog(dir).problem
    assert.equal(p?.index, 1)
    assert.equal(p?.kind, 'chain broken')
    assert.match(p?.detail ?? '', /entry 1 was removed/)
    freshLog()
    write(lines().slice(1))
    assert.equal(verifyAuditLog(dir).problem?.kind, 'chain broken')
    assert.equal(verifyAuditLog(dir).problem?.index, 0)
  })

  it('two entries swapped: out of order, at the first of them', () => {
    freshLog()
    const ls = lines();
    [ls[2], ls[3]] = [ls[3], ls[2]]
    write(ls)
    const p = verifyAuditLog(dir).problem
    assert.equal(p?.index, 2)
    assert.equal(p?.kind, 'out of order')
    assert.match(p?.detail ?? '', /seq 3 where seq 2 belongs/)
  })

  it('an entry whose seq was renumbered after a removal still fails: its signature, or else its link', () => {
    freshLog()
    const ls = lines().filter((_, i) => i !== 1).map(l => JSON.parse(l))
    ls.forEach((e, i) => { e.seq = i })
    write(ls.map(e => JSON.stringify(e)))
    const p = verifyAuditLog(dir).problem
    assert.equal(p?.index, 1)
    assert.equal(p?.kind, 'bad signature')
  })

  it('an entry signed by a key the repository never named, or by another role\'s key, is refused', () => {
    freshLog()
    const stranger = generateRoleKey('rollouts')
    appendEntry(dir, { ...req('rollout.halt'), key: stranger })
    let p = verifyAuditLog(dir).problem
    assert.equal(p?.index, 5)
    assert.equal(p?.kind, 'bad signature')
    assert.match(p?.detail ?? '', /no metadata of this repository names/)
    freshLog()
    appendEntry(dir, { ...req('rollout.halt'), role: 'targets' })
    p = verifyAuditLog(dir).problem
    assert.equal(p?.index, 5)
    assert.match(p?.detail ?? '', /a rollouts key, while the entry says targets/)
  })

  it('a line cut short by a crash is named; the next append starts a line of its own and chains to the last whole entry', () => {
    freshLog()
    appendFileSync(auditLogFile(dir), '{"format":"umesh-audit/1","seq":5,"ti')
    let p = verifyAuditLog(dir).problem
    assert.equal(p?.index, 5)
    assert.equal(p?.kind, 'malformed')
    assert.match(p?.detail ?? '', /cut short/)
    const e = appendEntry(dir, req('rollout.promote'))
    assert.equal(e.seq, 5)
    assert.equal(lines().length, 7)
    assert.equal(JSON.parse(lines()[6]).seq, 5)
    p = verifyAuditLog(dir).problem
    assert.equal(p?.index, 5, 'the torn line stays reported')
  })

  it('entries signed before the rollouts key was rotated still verify', () => {
    freshLog()
    repo.rotate('rollouts')
    repo = Repository.open(dir)
    appendEntry(dir, req('rollout.start'))
    const entries = readAuditLog(dir)
    assert.notEqual(entries[0].keyid, entries[5].keyid)
    assert.equal(verifyAuditLog(dir).problem, undefined)
  })

  it('arguments too long for one line are kept as the start of their JSON; the entry still verifies', () => {
    freshLog()
    const e = appendEntry(dir, { ...req('release.add', 'targets'), args: { requires: Array.from({ length: 64 }, (_, i) => `lib${i} ${'>=1.0.0 '.repeat(120)}`) } })
    assert.equal(typeof e.args.truncated, 'string')
    assert.ok(lines()[5].length < 16 * 1024)
    assert.equal(verifyAuditLog(dir).problem, undefined)
  })

  it('never records a time before the entry before it', () => {
    freshLog()
    const last = readAuditLog(dir)[4]
    const e = appendEntry(dir, req('rollout.pause'), new Date(Date.parse(last.time) - 3_600_000))
    assert.equal(e.time, last.time)
    assert.equal(verifyAuditLog(dir).problem, undefined)
  })

  it('two writers at once: 2 x 25 appends, one chain', async () => {
    freshLog()
    const logModule = new URL('../../../src/audit/log.js', import.meta.url).href
    const keyFile = repo.keysFor('rollouts')[0].file as string
    const roleKeys = new URL('../../../src/trust/role-keys.js', import.meta.url).href
    const code = `
      const { workerData, parentPort } = require('node:worker_threads')
      ;(async () => {
        const { appendEntry } = await import(workerData.logModule)
        const { loadRoleKey } = await import(workerData.roleKeys)
        const key = loadRoleKey(workerData.keyFile)
        for (let i = 0; i < 25; i++) appendEntry(workerData.dir, { action: 'rollout.promote', args: { i }, result: {}, actor: 'w' + workerData.w, via: 'cli', role: 'rollouts', key })
        parentPort.postMessage('done')
      })().catch(err => { parentPort.postMessage(String(err && err.stack || err)) })`
    const run = async (w: number): Promise<string> => await new Promise((resolve, reject) => {
      const worker = new Worker(code, { eval: true, workerData: { logModule, roleKeys, keyFile, dir, w } })
      const timer = setTimeout(() => { void worker.terminate(); reject(new Error('worker did not finish in 20 s')) }, 20_000)
      worker.once('message', (m: string) => { clearTimeout(timer); void worker.terminate(); resolve(m) })
      worker.once('error', err => { clearTimeout(timer); reject(err) })
    })
    assert.deepEqual(await Promise.all([run(1), run(2)]), ['done', 'done'])
    const entries = readAuditLog(dir)
    assert.equal(entries.length, 55)
    assert.equal(verifyAuditLog(dir).problem, undefined, JSON.stringify(verifyAuditLog(dir).problem))
  })

  it('--since: an ISO date or a time ago; a filter on the listing', () => {
    const now = Date.parse('2026-12-03T12:00:00Z')
    assert.equal(sinceTime('90m', now).toISOString(), '2026-12-03T10:30:00.000Z')
    assert.equal(sinceTime('7d', now).toISOString(), '2026-11-26T12:00:00.000Z')
    assert.equal(sinceTime('2026-12-01').toISOString(), '2026-12-01T00:00:00.000Z')
    assert.throws(() => sinceTime('yesterday'), (err: any) => err.name === 'UsageError' && /--since/.test(err.message))
    assert.equal(readAuditLog(dir, new Date(Date.now() + 60_000)).length, 0)
    assert.ok(readAuditLog(dir, sinceTime('1h')).length > 0)
  })

  it('the actor: --actor, else UMESH_ACTOR, else the OS user; control characters refused', () => {
    assert.equal(resolveActor('alice', { UMESH_ACTOR: 'bob' }), 'alice')
    assert.equal(resolveActor(undefined, { UMESH_ACTOR: 'bob' }), 'bob')
    assert.ok(resolveActor(undefined, {}).length > 0)
    assert.throws(() => resolveActor('eve\nroot', {}), (err: any) => err.name === 'UsageError' && /--actor/.test(err.message))
    assert.throws(() => resolveActor(undefined, { UMESH_ACTOR: 'x'.repeat(200) }), /UMESH_ACTOR/)
  })
})
