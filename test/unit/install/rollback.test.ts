import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { BACKUP_KEY_FILE, loadOrCreateBackupKey } from '../../../src/install/backup-key.js'
import { createRollbackPoint } from '../../../src/install/rollback-create.js'
import { listRollbackPoints, removeRollbackPoint } from '../../../src/install/rollback-point.js'
import { restoreRollbackPoint } from '../../../src/install/rollback-restore.js'

const root = mkdtempSync(join(tmpdir(), 'umesh-install-rollback-'))
after(() => { rmSync(root, { recursive: true, force: true }) })
let n = 0
function fresh (): string {
  const dir = join(root, `r${++n}`)
  mkdirSync(dir)
  return dir
}

/** every file and folder under `dir`, with content and mode, to compare trees */
function snapshot (dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (rel: string): void => {
    const full = join(dir, rel)
    const st = statSync(full)
    if (st.isDirectory()) {
      out[rel + '/'] = (st.mode & 0o777).toString(8)
      for (const name of readdirSync(full).sort()) walk(rel === '' ? name : `${rel}/${name}`)
    } else {
      out[rel] = `${(st.mode & 0o777).toString(8)} ${readFileSync(full, 'hex')}`
    }
  }
  if (existsSync(dir)) walk('')
  return out
}

/** a state folder, a state file and a state path that does not exist yet */
function makeState (base: string): { data: string, config: string, absent: string, paths: string[] } {
  const data = join(base, 'var', 'data')
  mkdirSync(join(data, 'sub', 'deeper'), { recursive: true })
  writeFileSync(join(data, 'db.sqlite'), randomBytes(3000))
  writeFileSync(join(data, 'sub', 'a.txt'), 'alpha')
  writeFileSync(join(data, 'sub', 'deeper', 'empty'), '')
  chmodSync(join(data, 'sub', 'a.txt'), 0o600)
  chmodSync(join(data, 'sub'), 0o750)
  const config = join(base, 'etc', 'app.toml')
  mkdirSync(join(base, 'etc'))
  writeFileSync(join(config), 'port = 8080\n')
  chmodSync(config, 0o640)
  const absent = join(base, 'var', 'new-thing')
  return { data, config, absent, paths: [data, config, absent] }
}

/** what an upgrade might do to the state */
function mutate (s: { data: string, config: string, absent: string }): void {
  writeFileSync(join(s.data, 'db.sqlite'), 'migrated')
  writeFileSync(join(s.data, 'added-later'), 'x')
  mkdirSync(join(s.data, 'new-dir', 'inner'), { recursive: true })
  writeFileSync(join(s.data, 'new-dir', 'inner', 'f'), 'y')
  rmSync(join(s.data, 'sub', 'a.txt'))
  chmodSync(join(s.data, 'sub'), 0o755)
  rmSync(s.config)
  mkdirSync(s.config) // replaced by a folder, even
  mkdirSync(s.absent)
  writeFileSync(join(s.absent, 'f'), 'created by the new version')
}

describe('rollback points', () => {
  it('save files, folders and absent paths, and restore them exactly', () => {
    const base = fresh()
    const s = makeState(base)
    const before = snapshot(base)
    const backupsDir = join(base, 'backups')
    const point = createRollbackPoint({ backupsDir, id: 'u1', package: 'app', version: '1.0.0', statePaths: s.paths })
    assert.equal(point.dir, join(backupsDir, 'u1'))
    assert.equal(point.entries, 8) // data, db.sqlite, sub, a.txt, deeper, empty, config, absent
    assert.equal(point.bytes, 3000 + 5 + 12)
    const manifest = JSON.parse(readFileSync(join(point.dir, 'manifest.json'), 'utf8'))
    assert.equal(manifest.encrypted, false)
    assert.deepEqual(manifest.entries.map((e: any) => e.kind), ['dir', 'file', 'dir', 'file', 'dir', 'file', 'file', 'absent'])
    assert.equal(statSync(join(point.dir, 'manifest.json')).mode & 0o777, 0o600)

    mutate(s)
    assert.notDeepEqual(snapshot(base), before)
    assert.deepEqual(restoreRollbackPoint({ backupsDir, id: 'u1' }), { restored: 3 })
    const restored = snapshot(base)
    for (const k of Object.keys(restored)) if (k.startsWith('backups')) delete restored[k]
    assert.deepEqual(restored, before)
    assert.equal(existsSync(s.absent), false)

    // restoring twice is the same as once
    restoreRollbackPoint({ backupsDir, id: 'u1' })
    const again = snapshot(base)
    for (const k of Object.keys(again)) if (k.startsWith('backups')) delete again[k]
    assert.deepEqual(again, before)
  })

  it('encrypt with a key: stored bytes differ from the plaintext, and restore needs the key', () => {
    const base = fresh()
    const s = makeState(base)
    writeFileSync(join(s.data, 'secret'), 'the-plaintext-secret '.repeat(50))
    const before = snapshot(join(base, 'var'))
    const backupsDir = join(base, 'backups')
    const key = new Uint8Array(randomBytes(32))
    const point = createRollbackPoint({ backupsDir, id: 'enc', package: 'app', version: null, statePaths: s.paths, key })
    const manifest = JSON.parse(readFileSync(join(point.dir, 'manifest.json'), 'utf8'))
    assert.equal(manifest.encrypted, true)
    assert.match(manifest.mac, /^[0-9a-f]{64}$/)
    for (const name of readdirSync(join(point.dir, 'files'))) {
      const stored = readFileSync(join(point.dir, 'files', name))
      assert.ok(!stored.includes(Buffer.from('plaintext-secret')), `files/${name} is not plaintext`)
      assert.ok(!stored.includes(Buffer.from('port = 8080')), `files/${name} is not plaintext`)
    }
    const secretEntry = manifest.entries.find((e: any) => e.path.endsWith('secret'))
    assert.equal(readFileSync(join(point.dir, secretEntry.stored)).length, secretEntry.size + 12 + 16, 'IV + ciphertext + tag')

    mutate(s)
    assert.throws(() => restoreRollbackPoint({ backupsDir, id: 'enc' }), (err: any) => err.name === 'RollbackPointError' && /encrypted/.test(err.message))
    assert.throws(() => restoreRollbackPoint({ backupsDir, id: 'enc', key: new Uint8Array(randomBytes(32)) }), { name: 'RollbackPointCorruptError' })
    assert.equal(readFileSync(join(s.data, 'db.sqlite'), 'utf8'), 'migrated', 'a refused restore changes nothing')
    restoreRollbackPoint({ backupsDir, id: 'enc', key })
    assert.deepEqual(snapshot(join(base, 'var')), before)
  })

  for (const encrypted of [false, true]) {
    it(`refuse a damaged ${encrypted ? 'encrypted ' : ''}backup and change nothing`, () => {
      const base = fresh()
      const s = makeState(base)
      const backupsDir = join(base, 'backups')
      const key = encrypted ? new Uint8Array(randomBytes(32)) : undefined
      const point = createRollbackPoint({ backupsDir, id: 'c', package: 'app', version: '1.0.0', statePaths: s.paths, key })
      mutate(s)
      const mutated = snapshot(join(base, 'var'))
      const manifest = JSON.parse(readFileSync(join(point.dir, 'manifest.json'), 'utf8'))
      // damage the last stored file: the earlier ones are fine, and still nothing may be restored
      const victim = manifest.entries.filter((e: any) => e.kind === 'file').at(-1)
      const stored = join(point.dir, victim.stored)
      const bytes = readFileSync(stored)
      bytes[bytes.length > 20 ? 20 : 0] ^= 0x40
      writeFileSync(stored, bytes)
      assert.throws(() => restoreRollbackPoint({ backupsDir, id: 'c', key }), (err: any) => err.name === 'RollbackPointCorruptError' && err.message.includes(victim.path) && /nothing was restored/.test(err.message))
      assert.deepEqual(snapshot(join(base, 'var')), mutated)
    })
  }

  it('refuse an edited manifest of an encrypted backup', () => {
    const base = fresh()
    const s = makeState(base)
    const backupsDir = join(base, 'backups')
    const key = new Uint8Array(randomBytes(32))
    const point = createRollbackPoint({ backupsDir, id: 'm', package: 'app', version: '1.0.0', statePaths: s.paths, key })
    const file = join(point.dir, 'manifest.json')
    const manifest = JSON.parse(readFileSync(file, 'utf8'))
    manifest.entries[0].kind = 'absent' // would delete the data folder
    manifest.statePaths[1] = '/etc'
    manifest.entries.find((e: any) => e.kind === 'file' && e.path === s.config).path = '/etc'
    writeFileSync(file, JSON.stringify(manifest))
    mutate(s)
    assert.throws(() => restoreRollbackPoint({ backupsDir, id: 'm', key }), (err: any) => err.name === 'RollbackPointCorruptError' && /HMAC/.test(err.message))
    assert.equal(existsSync(s.absent), true)
  })

  it('refuse a symbolic link in a state folder, leaving no backup behind', () => {
    const base = fresh()
    const s = makeState(base)
    symlinkSync('/etc/passwd', join(s.data, 'sub', 'link'))
    const backupsDir = join(base, 'backups')
    assert.throws(
      () => createRollbackPoint({ backupsDir, id: 'l', package: 'app', version: null, statePaths: s.paths }),
      (err: any) => err.name === 'RollbackPointError' && err.message.includes(join(s.data, 'sub', 'link')) && /symbolic link/.test(err.message)
    )
    assert.deepEqual(readdirSync(backupsDir), [])
    assert.throws(() => createRollbackPoint({ backupsDir, id: 'r', package: 'app', version: null, statePaths: ['relative/path'] }), /not absolute/)
    assert.throws(() => createRollbackPoint({ backupsDir, id: 'r', package: 'app', version: null, statePaths: [s.data, join(s.data, 'sub')] }), /inside/)
    assert.throws(() => createRollbackPoint({ backupsDir, id: '../x', package: 'app', version: null, statePaths: [] }), { name: 'RollbackPointError' })
  })

  it('list complete points only, remove them, and clear incomplete ones when a new one is taken', () => {
    const base = fresh()
    const s = makeState(base)
    const backupsDir = join(base, 'backups')
    assert.deepEqual(listRollbackPoints(backupsDir), [])
    createRollbackPoint({ backupsDir, id: 'one', package: 'app', version: '1.0.0', statePaths: s.paths })
    mkdirSync(join(backupsDir, 'half', 'files'), { recursive: true }) // a crash before its manifest
    const list = listRollbackPoints(backupsDir)
    assert.equal(list.length, 1)
    assert.deepEqual({ ...list[0], created: '' }, { id: 'one', package: 'app', version: '1.0.0', created: '', encrypted: false, entries: 8, bytes: 3017 })
    assert.throws(() => restoreRollbackPoint({ backupsDir, id: 'half' }), /never finished/)
    assert.throws(() => createRollbackPoint({ backupsDir, id: 'one', package: 'app', version: '1.0.0', statePaths: s.paths }), /already exists/)
    createRollbackPoint({ backupsDir, id: 'two', package: 'app', version: '1.1.0', statePaths: [s.config] })
    assert.deepEqual(readdirSync(backupsDir).sort(), ['one', 'two'])
    assert.deepEqual(listRollbackPoints(backupsDir).map(p => p.id), ['one', 'two'])
    removeRollbackPoint(backupsDir, 'one')
    assert.deepEqual(listRollbackPoints(backupsDir).map(p => p.id), ['two'])
  })
})

describe('the backup key', () => {
  it('is created once, 32 bytes, mode 0600, and read back the same', () => {
    const dataDir = join(fresh(), 'data')
    const file = join(dataDir, BACKUP_KEY_FILE)
    const key = loadOrCreateBackupKey(file)
    assert.equal(key.length, 32)
    assert.equal(statSync(join(dataDir, 'backup.key')).mode & 0o777, 0o600)
    assert.deepEqual(loadOrCreateBackupKey(file), key)
    assert.deepEqual(readdirSync(dataDir), ['backup.key'])
    // the caller names the file: its folder is made when missing
    const elsewhere = join(fresh(), 'keys', 'other.key')
    assert.notDeepEqual(loadOrCreateBackupKey(elsewhere), key)
    assert.deepEqual(readdirSync(join(elsewhere, '..')), ['other.key'])
  })

  it('refuses a key readable by others or of the wrong size', () => {
    const dataDir = fresh()
    const file = join(dataDir, 'backup.key')
    writeFileSync(file, randomBytes(32), { mode: 0o644 })
    chmodSync(file, 0o644)
    assert.throws(() => loadOrCreateBackupKey(file), (err: any) => err.name === 'BackupKeyError' && /chmod 600/.test(err.message))
    chmodSync(file, 0o600)
    assert.equal(loadOrCreateBackupKey(file).length, 32)
    writeFileSync(file, randomBytes(31))
    assert.throws(() => loadOrCreateBackupKey(file), (err: any) => err.name === 'BackupKeyError' && /31 bytes/.test(err.message))
  })
})
