/**
 * umesh repo init | rotate | status through the real CLI.
 */
import assert from 'node:assert/strict'
import { statSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { runCli, tempDir } from '../helpers/cli.js'

describe('umesh repo', () => {
  const tmp = tempDir('umesh-repo-cli-')
  after(() => { tmp.remove() })
  const repo = join(tmp.path, 'repo')

  it('creates a repository with 3 root keys, threshold 2, keys 0600', async () => {
    const r = await runCli(['repo', 'init', '--repo', repo, '--root-keys', '3', '--root-threshold', '2', '--timestamp-expiry', '2'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /root to ship to nodes: .*metadata\/root\.json/)
    const keys = readdirSync(join(repo, 'keys')).filter(f => f.endsWith('.json'))
    assert.equal(keys.filter(k => k.startsWith('root-')).length, 3)
    assert.ok(keys.every(k => (statSync(join(repo, 'keys', k)).mode & 0o777) === 0o600))
    const status = JSON.parse((await runCli(['repo', 'status', '--repo', repo, '--json'])).stdout)
    const root = status.find((s: any) => s.role === 'root')
    assert.equal(root.threshold, 2)
    assert.equal(root.keys.length, 3)
    const ts = status.find((s: any) => s.role === 'timestamp')
    const days = (Date.parse(ts.expires) - Date.now()) / 86_400_000
    assert.ok(days > 1.9 && days <= 2, `timestamp expires in ${days} days`)
  })

  it('rotates a key and bumps the root version', async () => {
    const r = await runCli(['repo', 'rotate', '--repo', repo, '--role', 'targets'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /root is now version 2/)
  })

  it('refuses a second init (1), a bad role and a bad count (2), a missing repo (1)', async () => {
    const again = await runCli(['repo', 'init', '--repo', repo])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /already holds a repository/)
    const role = await runCli(['repo', 'rotate', '--repo', repo, '--role', 'admin'])
    assert.equal(role.code, 2)
    assert.match(role.stderr, /--role: expected one of root, targets, snapshot, timestamp, rollouts/)
    const n = await runCli(['repo', 'init', '--repo', join(tmp.path, 'x'), '--root-keys', 'two'])
    assert.equal(n.code, 2)
    const missing = await runCli(['repo', 'status', '--repo', join(tmp.path, 'nothing')])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /not an update-mesh repository .* umesh repo init/)
  })
})
