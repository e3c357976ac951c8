import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { listMigrations, readLedger, runDown, runUp } from '../../../src/install/migrations.js'

const root = mkdtempSync(join(tmpdir(), 'umesh-install-migrations-'))
after(() => { rmSync(root, { recursive: true, force: true }) })
let n = 0
function fresh (): string {
  const dir = join(root, `r${++n}`)
  mkdirSync(dir)
  return dir
}

/** a script that appends "<id> <direction> <old> <new> <cwd>" to $LOG, then runs `extra` */
function script (dir: string, file: string, extra = '', mode = 0o755): string {
  mkdirSync(join(dir, 'migrations'), { recursive: true })
  const path = join(dir, 'migrations', file)
  const direction = file.endsWith('.up') ? 'up' : 'down'
  writeFileSync(path, `#!/bin/sh\necho "$UMESH_MIGRATION ${direction} $UMESH_OLD_VERSION $UMESH_NEW_VERSION $UMESH_OLD_DIR $UMESH_NEW_DIR $(pwd)" >> "$LOG"\n${extra}\n`, { mode })
  return path
}

function logOf (base: string): string[] {
  const file = join(base, 'log')
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : []
}

/** an install root, an old and a new version folder */
function setup (): { base: string, installRoot: string, oldDir: string, newDir: string, env: Record<string, string> } {
  const base = fresh()
  const installRoot = join(base, 'root')
  const oldDir = join(installRoot, 'versions', '1.0.0')
  const newDir = join(installRoot, 'versions', '2.0.0')
  mkdirSync(oldDir, { recursive: true })
  mkdirSync(newDir, { recursive: true })
  return { base, installRoot, oldDir, newDir, env: { LOG: join(base, 'log') } }
}

describe('listMigrations', () => {
  it('lists executable up scripts by number, then name, with their down scripts', () => {
    const dir = fresh()
    assert.deepEqual(listMigrations(dir), [], 'no migrations folder')
    script(dir, '10-last.up')
    script(dir, '2-b.up')
    script(dir, '2-a.up')
    script(dir, '2-a.down')
    script(dir, '1-first.up')
    script(dir, '3-not-executable.up', '', 0o644)
    script(dir, '4-only-down.down')
    script(dir, 'README.up')
    script(dir, '5-Upper.up')
    writeFileSync(join(dir, 'migrations', 'notes.txt'), '')
    mkdirSync(join(dir, 'migrations', '6-dir.up'))
    const list = listMigrations(dir)
    assert.deepEqual(list.map(m => m.id), ['1-first', '2-a', '2-b', '10-last'])
    assert.equal(list[1]!.up, join(dir, 'migrations', '2-a.up'))
    assert.equal(list[1]!.down, join(dir, 'migrations', '2-a.down'))
    assert.equal(list[0]!.down, undefined)
    assert.equal(list[3]!.n, 10)
  })
})

describe('runUp and runDown', () => {
  it('run up in order with the versions and folders in the environment, and record each in the ledger', async () => {
    const { base, installRoot, oldDir, newDir, env } = setup()
    script(newDir, '2-second.up')
    script(newDir, '1-first.up')
    const seen: string[] = []
    const ran = await runUp({ installRoot, versionDir: newDir, oldVersion: '1.0.0', newVersion: '2.0.0', oldDir, newDir, timeoutMs: 5000, env, onRun: id => seen.push(id) })
    assert.deepEqual(ran, ['1-first', '2-second'])
    assert.deepEqual(seen, ran)
    assert.deepEqual(logOf(base), [
      `1-first up 1.0.0 2.0.0 ${oldDir} ${newDir} ${newDir}`,
      `2-second up 1.0.0 2.0.0 ${oldDir} ${newDir} ${newDir}`
    ])
    const ledger = readLedger(installRoot)
    assert.deepEqual(ledger.applied.map(a => [a.id, a.version]), [['1-first', '2.0.0'], ['2-second', '2.0.0']])
    assert.ok(!Number.isNaN(Date.parse(ledger.applied[0]!.at)))

    // the ledger makes a second run a no-op
    assert.deepEqual(await runUp({ installRoot, versionDir: newDir, oldVersion: '1.0.0', newVersion: '2.0.0', oldDir, newDir, timeoutMs: 5000, env }), [])
    assert.equal(logOf(base).length, 2)

    // a later version runs only its new one
    script(newDir, '3-third.up')
    assert.deepEqual(await runUp({ installRoot, versionDir: newDir, oldVersion: null, newVersion: '3.0.0', oldDir: null, newDir, timeoutMs: 5000, env }), ['3-third'])
    assert.equal(logOf(base)[2], `3-third up  3.0.0  ${newDir} ${newDir}`)
  })

  it('stop at a failing migration, naming it, its exit and its stderr; the ones before stay recorded', async () => {
    const { base, installRoot, oldDir, newDir, env } = setup()
    script(newDir, '1-ok.up')
    script(newDir, '2-bad.up', 'echo "column users.name already exists" >&2\nexit 3')
    script(newDir, '3-never.up')
    await assert.rejects(
      runUp({ installRoot, versionDir: newDir, oldVersion: '1.0.0', newVersion: '2.0.0', oldDir, newDir, timeoutMs: 5000, env }),
      (err: any) => err.name === 'MigrationFailedError' && err.id === '2-bad' && /exited 3/.test(err.message) && /column users.name already exists/.test(err.message)
    )
    assert.deepEqual(readLedger(installRoot).applied.map(a => a.id), ['1-ok'])
    assert.deepEqual(logOf(base).map(l => l.split(' ')[0]), ['1-ok', '2-bad'])
  })

  it('stop a migration that runs past its time limit', async () => {
    const { installRoot, oldDir, newDir, env } = setup()
    script(newDir, '1-slow.up', 'sleep 10')
    const started = Date.now()
    await assert.rejects(
      runUp({ installRoot, versionDir: newDir, oldVersion: '1.0.0', newVersion: '2.0.0', oldDir, newDir, timeoutMs: 300, env }),
      (err: any) => err.name === 'MigrationFailedError' && /timed out after 300 ms/.test(err.message)
    )
    assert.ok(Date.now() - started < 3000)
    assert.deepEqual(readLedger(installRoot).applied, [])
  })

  it('run down in reverse order, removing each from the ledger, skipping ids not applied', async () => {
    const { base, installRoot, oldDir, newDir, env } = setup()
    for (const id of ['1-a', '2-b', '3-c']) {
      script(newDir, `${id}.up`)
      script(newDir, `${id}.down`)
    }
    await runUp({ installRoot, versionDir: newDir, oldVersion: '1.0.0', newVersion: '2.0.0', oldDir, newDir, timeoutMs: 5000, env })
    const ran = await runDown({ installRoot, ids: ['1-a', '2-b', '3-c', '9-never-applied'], scriptsDir: newDir, oldVersion: '1.0.0', newVersion: '2.0.0', oldDir, newDir, timeoutMs: 5000, env })
    assert.deepEqual(ran, ['3-c', '2-b', '1-a'])
    assert.deepEqual(logOf(base).slice(3).map(l => l.split(' ').slice(0, 2).join(' ')), ['3-c down', '2-b down', '1-a down'])
    assert.deepEqual(readLedger(installRoot).applied, [])
    assert.deepEqual(await runDown({ installRoot, ids: ['1-a'], scriptsDir: newDir, oldVersion: '1.0.0', newVersion: '2.0.0', oldDir, newDir, timeoutMs: 5000, env }), [], 'a second run is a no-op')
  })

  it('refuse to undo a migration without a .down script, after undoing the later ones', async () => {
    const { installRoot, oldDir, newDir, env } = setup()
    script(newDir, '1-a.up')
    script(newDir, '2-b.up')
    script(newDir, '2-b.down')
    await runUp({ installRoot, versionDir: newDir, oldVersion: '1.0.0', newVersion: '2.0.0', oldDir, newDir, timeoutMs: 5000, env })
    await assert.rejects(
      runDown({ installRoot, ids: ['1-a', '2-b'], scriptsDir: newDir, oldVersion: '1.0.0', newVersion: '2.0.0', oldDir, newDir, timeoutMs: 5000, env }),
      (err: any) => err.name === 'MigrationFailedError' && err.id === '1-a' && /has no \.down script/.test(err.message) && /restore from the rollback point/.test(err.message)
    )
    assert.deepEqual(readLedger(installRoot).applied.map(a => a.id), ['1-a'])
    await assert.rejects(runDown({ installRoot, ids: ['../../x'], scriptsDir: newDir, oldVersion: '1.0.0', newVersion: '2.0.0', oldDir, newDir, timeoutMs: 5000, env }), { name: 'MigrationFailedError' })
  })

  it('refuse a damaged ledger', () => {
    const installRoot = fresh()
    writeFileSync(join(installRoot, 'migrations.json'), '{"applied": [{"id": "../x"}]}')
    assert.throws(() => readLedger(installRoot), { name: 'MigrationLedgerError' })
    writeFileSync(join(installRoot, 'migrations.json'), '{')
    assert.throws(() => readLedger(installRoot), { name: 'MigrationLedgerError' })
  })
})
