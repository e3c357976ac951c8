import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { after, describe, it } from 'node:test'
import { acquireLock, createIdentity, identityPath, loadIdentity, loadOrCreateIdentity, lockOwner, LOCK_FILE } from '../../../src/identity/index.js'
import { tempDir } from '../../helpers/cli.js'

describe('identity', () => {
  const tmp = tempDir()
  after(() => { tmp.remove() })

  it('is created once with mode 0600 and reused', async () => {
    const first = await loadOrCreateIdentity(tmp.path)
    assert.equal(first.created, true)
    assert.equal(statSync(identityPath(tmp.path)).mode & 0o777, 0o600)
    const again = await loadOrCreateIdentity(tmp.path)
    assert.equal(again.created, false)
    assert.equal(again.peerId.toString(), first.peerId.toString())
    assert.equal(again.privateKey.type, 'Ed25519')
  })

  it('refuses a file whose stored peer id does not match its key', async () => {
    const d = tempDir()
    try {
      await createIdentity(d.path)
      const other = tempDir()
      const otherId = (await createIdentity(other.path)).peerId.toString()
      other.remove()
      const file = JSON.parse(readFileSync(identityPath(d.path), 'utf8'))
      writeFileSync(identityPath(d.path), JSON.stringify({ ...file, peerId: otherId }), { mode: 0o600 })
      await assert.rejects(loadIdentity(d.path), (err: any) => err.name === 'IdentityError' && /does not match the key/.test(err.message))
    } finally { d.remove() }
  })

  it('refuses a damaged file and leaves it in place', async () => {
    const d = tempDir()
    try {
      writeFileSync(identityPath(d.path), '{"type":"Ed25519","peerId":"x","privateKey":"!!!"}', { mode: 0o600 })
      await assert.rejects(loadOrCreateIdentity(d.path), (err: any) => err.name === 'IdentityError' && /is damaged/.test(err.message))
      assert.match(readFileSync(identityPath(d.path), 'utf8'), /!!!/, 'the damaged file is not overwritten')
    } finally { d.remove() }
  })

  it('refuses a key file that other users can read', async () => {
    const d = tempDir()
    try {
      await createIdentity(d.path)
      chmodSync(identityPath(d.path), 0o644)
      await assert.rejects(loadIdentity(d.path), (err: any) => err.name === 'IdentityError' && /chmod 600/.test(err.message))
    } finally { d.remove() }
  })
})

describe('data dir lock', () => {
  const tmp = tempDir()
  after(() => { tmp.remove() })

  it('refuses a second holder while the first is alive, and frees on release', () => {
    const lock = acquireLock(tmp.path)
    assert.equal(lockOwner(tmp.path), process.pid)
    // a lock file naming another live process (our parent) is refused
    writeFileSync(join(tmp.path, LOCK_FILE), `${process.ppid}\n`)
    assert.throws(() => acquireLock(tmp.path), (err: any) => err.name === 'DataDirLockedError' && err.message.includes(`pid ${process.ppid}`))
    writeFileSync(join(tmp.path, LOCK_FILE), `${process.pid}\n`)
    lock.release()
    assert.equal(lockOwner(tmp.path), null)
  })

  it('takes over a stale lock whose process is gone', async () => {
    const child = spawn(process.execPath, ['-e', '0'])
    const pid = child.pid as number
    await new Promise(resolve => child.on('exit', resolve))
    writeFileSync(join(tmp.path, LOCK_FILE), `${pid}\n`)
    const lock = acquireLock(tmp.path)
    assert.equal(lockOwner(tmp.path), process.pid)
    lock.release()
  })
})
