/**
 * API tokens: created once, kept as a hash, checked by id and hash,
 * revoked at once (the file is re-read when it changes); a damaged file is
 * an error, never "no tokens".
 */
import assert from 'node:assert/strict'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { TokenStore } from '../../../src/http/tokens.js'
import { tempDir } from '../../helpers/cli.js'

describe('API tokens', () => {
  it('creates a token shown once and kept as a sha256 in a 0600 file', () => {
    const tmp = tempDir()
    const store = new TokenStore(join(tmp.path, 'api-tokens.json'))
    const { token, info } = store.create('ci', 'operate')
    assert.match(token, /^umesh_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/)
    assert.equal(info.role, 'operate')
    const text = readFileSync(store.file, 'utf8')
    assert.ok(!text.includes(token.split('_')[2]), 'the secret is not stored')
    assert.equal(statSync(store.file).mode & 0o777, 0o600)
    assert.deepEqual(store.verify(token), info)
    tmp.remove()
  })

  it('refuses a wrong secret, a wrong id, garbage, and a revoked token', () => {
    const tmp = tempDir()
    const store = new TokenStore(join(tmp.path, 'api-tokens.json'))
    const { token } = store.create('ci', 'read')
    const [, id, secret] = token.split('_')
    const flipped = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A')
    assert.equal(store.verify(`umesh_${id}_${flipped}`), undefined)
    assert.equal(store.verify(`umesh_000000000000_${secret}`), undefined)
    assert.equal(store.verify('hunter2'), undefined)
    assert.equal(store.verify(''), undefined)
    // another process revokes it: the next check sees the new file
    new TokenStore(store.file).revoke('ci')
    assert.equal(store.verify(token), undefined)
    tmp.remove()
  })

  it('sees a token created by another process without being re-made', () => {
    const tmp = tempDir()
    const store = new TokenStore(join(tmp.path, 'api-tokens.json'))
    assert.equal(store.size, 0)
    const { token } = new TokenStore(store.file).create('later', 'read')
    assert.equal(store.verify(token)?.name, 'later')
    tmp.remove()
  })

  it('refuses bad names and roles, and a second token of the same name', () => {
    const tmp = tempDir()
    const store = new TokenStore(join(tmp.path, 'api-tokens.json'))
    assert.throws(() => store.create('', 'read'), /--name: expected/)
    assert.throws(() => store.create('a/b', 'read'), /--name: expected/)
    assert.throws(() => store.create('x', 'admin' as any), /--role: expected read or operate, found "admin"/)
    store.create('x', 'read')
    assert.throws(() => store.create('x', 'operate'), /a token named "x" exists/)
    assert.equal(store.revoke('nope'), undefined)
    assert.equal(store.revoke('x')?.name, 'x')
    assert.deepEqual(store.list(), [])
    tmp.remove()
  })

  it('reports a damaged file instead of treating it as empty', () => {
    const tmp = tempDir()
    const file = join(tmp.path, 'api-tokens.json')
    writeFileSync(file, '{"format": "umesh-api-tokens/1", "tokens": [{"id": "zz"}]}')
    assert.throws(() => new TokenStore(file).size, /tokens\[0\] is malformed/)
    writeFileSync(file, 'not json')
    assert.throws(() => new TokenStore(file).verify('x'), /is not JSON/)
    tmp.remove()
  })
})
