/**
 * The per-package install settings: defaults, and each mistake named by its
 * field with what was expected.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { packageInstallConfig, parsePackages } from '../../../src/install/config.js'

describe('install settings (packages)', () => {
  it('fills the defaults and resolves the install root against the data dir', () => {
    const parsed = parsePackages({ app: {} }, 'packages')
    const c = packageInstallConfig(parsed, 'app', '/var/lib/umesh/installs/app')!
    assert.equal(c.installRoot, '/var/lib/umesh/installs/app')
    assert.equal(c.keepVersions, 3)
    assert.equal(c.autoUpdate, true)
    assert.equal(c.dependencies, 'install')
    assert.equal(c.health, undefined)
    assert.equal(packageInstallConfig(parsed, 'other', '/x/installs/other'), undefined)
  })

  it('reads each kind of health check, and JSON text from a flag or the environment', () => {
    const parsed = parsePackages(JSON.stringify({
      a: { health: { http: 'http://127.0.0.1:8080/health', retries: 5 } },
      b: { health: { tcp: '127.0.0.1:9000' } },
      c: { health: { command: ['/bin/true'] }, hooks: { activate: ['systemctl', 'restart', 'c'] } }
    }), '--packages')
    assert.deepEqual(parsed.a.health?.check, { type: 'http', url: 'http://127.0.0.1:8080/health' })
    assert.equal(parsed.a.health?.retries, 5)
    assert.deepEqual(parsed.b.health?.check, { type: 'tcp', host: '127.0.0.1', port: 9000 })
    assert.deepEqual(parsed.c.hooks.activate, ['systemctl', 'restart', 'c'])
  })

  const refused: Array<[string, unknown, RegExp]> = [
    ['an unknown key', { app: { keepVersion: 3 } }, /packages\.app\.keepVersion: unknown key/],
    ['a relative state path', { app: { statePaths: ['data/db'] } }, /packages\.app\.statePaths\[0\]: expected an absolute path/],
    ['the root as install root', { app: { installRoot: '/' } }, /packages\.app\.installRoot: the file system root/],
    ['two health checks at once', { app: { health: { http: 'http://x/', tcp: 'x:1' } } }, /exactly one of "command", "http" or "tcp", found http and tcp/],
    ['a hook given as one string', { app: { hooks: { activate: 'systemctl restart app' } } }, /packages\.app\.hooks\.activate: expected a command as a non-empty list/],
    ['a non-http URL', { app: { health: { http: 'file:///etc/passwd' } } }, /expected an http:\/\/ or https:\/\/ URL/],
    ['keepVersions 0', { app: { keepVersions: 0 } }, /packages\.app\.keepVersions: expected an integer from 1 to 100/],
    ['an unknown dependency policy', { app: { dependencies: 'maybe' } }, /expected one of install, require, ignore/],
    ['a bad package name', { 'My App': {} }, /packages\.My App: not a package name/],
    ['one install root for two packages', { a: { installRoot: '/opt/x' }, b: { installRoot: '/opt/x/' } }, /\/opt\/x is also the install root of a/],
    ['text that is not JSON', '{app:', /expected a JSON object, found text that is not JSON/]
  ]
  for (const [what, value, error] of refused) {
    it(`refuses ${what}, naming the field`, () => {
      assert.throws(() => parsePackages(value, 'packages'), error)
    })
  }
})
