/**
 * The token check and the limit on failed attempts per address.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { authorize, FailureLimiter } from '../../../src/http/auth.js'
import { HttpError } from '../../../src/http/errors.js'
import { TokenStore } from '../../../src/http/tokens.js'
import { tempDir } from '../../helpers/cli.js'

function status (fn: () => unknown): number {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof HttpError, String(err))
    return err.status
  }
  return 200
}

describe('authorize', () => {
  it('gives 401 without a bearer token or with an unknown one, 403 for a read token on a write', () => {
    const tmp = tempDir()
    const tokens = new TokenStore(join(tmp.path, 't.json'))
    const read = tokens.create('r', 'read').token
    const operate = tokens.create('o', 'operate').token
    const limiter = new FailureLimiter()
    assert.equal(status(() => authorize(tokens, limiter, 'a', undefined, 'read')), 401)
    assert.equal(status(() => authorize(tokens, limiter, 'a', `Basic ${read}`, 'read')), 401)
    assert.equal(status(() => authorize(tokens, limiter, 'a', 'Bearer umesh_000000000000_x', 'read')), 401)
    assert.equal(status(() => authorize(tokens, limiter, 'a', `Bearer ${read}`, 'operate')), 403)
    assert.equal(authorize(tokens, limiter, 'a', `Bearer ${read}`, 'read').name, 'r')
    assert.equal(authorize(tokens, limiter, 'a', `bearer ${operate}`, 'operate').name, 'o')
    tmp.remove()
  })

  it('blocks an address after 10 failures in a window, not another one, and forgets after the window', () => {
    const tmp = tempDir()
    const tokens = new TokenStore(join(tmp.path, 't.json'))
    const read = tokens.create('r', 'read').token
    let now = 0
    const limiter = new FailureLimiter({ now: () => now })
    for (let i = 0; i < 10; i++) assert.equal(status(() => authorize(tokens, limiter, 'bad', 'Bearer nope', 'read')), 401)
    assert.equal(status(() => authorize(tokens, limiter, 'bad', `Bearer ${read}`, 'read')), 429)
    assert.equal(status(() => authorize(tokens, limiter, 'good', `Bearer ${read}`, 'read')), 200)
    now += 60_000
    assert.equal(status(() => authorize(tokens, limiter, 'bad', `Bearer ${read}`, 'read')), 200)
    tmp.remove()
  })

  it('lets nobody in when the token file is damaged (503), and says so', () => {
    const tmp = tempDir()
    const tokens = new TokenStore(join(tmp.path, 't.json'))
    const read = tokens.create('r', 'read').token
    writeFileSync(tokens.file, '{"format": "umesh-api-tokens/1", "tokens": 7}')
    assert.throws(() => authorize(tokens, new FailureLimiter(), 'a', `Bearer ${read}`, 'read'), (err: any) => err.status === 503 && /API tokens cannot be checked: .*t\.json: expected/.test(err.message))
    tmp.remove()
  })

  it('remembers a bounded number of addresses', () => {
    const limiter = new FailureLimiter({ maxAddresses: 100 })
    for (let i = 0; i < 1000; i++) limiter.fail(`10.0.${i >> 8}.${i & 255}`)
    assert.equal(limiter.size, 100)
  })
})
