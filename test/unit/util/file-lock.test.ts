/**
 * The lock file the repository's signing, its rollouts and the audit log
 * share: held while the function runs and removed after (also when it
 * throws), a held lock times out with the caller's error class, and a lock
 * left for over a minute by a dead process is taken over.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { withFileLock } from '../../../src/util/index.js'

class OwnError extends Error { override name = 'OwnError' }

describe('withFileLock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'umesh-file-lock-'))
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  it('holds the lock while the function runs and removes it after, also when it throws', () => {
    const lock = join(dir, 'a.lock')
    assert.equal(withFileLock(lock, () => existsSync(lock)), true)
    assert.equal(existsSync(lock), false)
    assert.throws(() => withFileLock(lock, () => { throw new Error('boom') }), /boom/)
    assert.equal(existsSync(lock), false)
  })

  it('a lock another writer holds times out with the caller\'s error, naming the lock and the holder', () => {
    const lock = join(dir, 'b.lock')
    writeFileSync(lock, '')
    const started = Date.now()
    assert.throws(() => withFileLock(lock, () => 1, { timeoutMs: 100, holder: 'another writer of this repository', error: m => new OwnError(m) }),
      (err: any) => err instanceof OwnError && err.message === `${lock} is held by another writer of this repository; try again, or remove it if no umesh process is running`)
    assert.ok(Date.now() - started >= 100)
    assert.equal(existsSync(lock), true, 'a lock it never took is not removed')
  })

  it('takes over a lock older than a minute', () => {
    const lock = join(dir, 'c.lock')
    writeFileSync(lock, '')
    const old = (Date.now() - 61_000) / 1000
    utimesSync(lock, old, old)
    assert.equal(withFileLock(lock, () => 'ran', { timeoutMs: 1_000 }), 'ran')
    assert.equal(existsSync(lock), false)
  })
})
