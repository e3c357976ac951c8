/**
 * `umesh demo` (what `npm start` runs): it starts a bootstrap node and N
 * nodes, shows them in its table, and stops every process it started.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { lockOwner } from '../../src/identity/index.js'
import { runCli, tempDir } from '../helpers/cli.js'

describe('umesh demo', () => {
  const tmp = tempDir('umesh-demo-test-')
  after(() => { tmp.remove() })

  it('rolls a release out to 3 nodes in waves, halts a broken one at the canary, then stops them all', async () => {
    const result = await runCli(['demo', '--nodes', '3', '--step', '2', '--duration', '60', '--dir', tmp.path], { timeoutMs: 120_000 })
    assert.equal(result.code, 0, result.stderr)
    // the last table printed before stopping
    const tables = result.stdout.split(/\n(?=name +peer id)/)
    const last = tables[tables.length - 1]
    const rows = last.split('\n').filter(l => /^(bootstrap|publisher|node-\d)\s/.test(l))
    assert.equal(rows.length, 5, last)
    for (const row of rows) {
      const cols = row.trim().split(/\s{2,}/)
      assert.equal(cols[3], 'ready', row)
      assert.ok(Number(cols[4]) >= 3, `${row}: every process is connected to the others`)
      if (row.startsWith('node-')) assert.match(cols[8], /demo-app 1\.2\.0(,|$)/, `${row}: the node holds the newest release`)
      // node-1 is the canary: it tried 1.2.0 and rolled back; the others never installed it
      if (row.startsWith('node-1')) assert.equal(cols[9], 'demo-app 1.1.0 rolled-back', row)
      else if (row.startsWith('node-')) assert.equal(cols[9], 'demo-app 1.1.0 healthy', row)
    }
    assert.match(result.stdout, /rollout of 1\.1\.0 completed/)
    assert.match(result.stdout, /rollout of 1\.2\.0 halted/)
    assert.match(result.stdout, /rollout of demo-app 1\.2\.0: halted \(rollback requested\)/)
    assert.match(result.stdout, /umesh demo: stopped/)
    // the coordinator's dashboard and a read token, printed once at start and above every table
    assert.match(result.stdout, /umesh demo: dashboard: http:\/\/127\.0\.0\.1:\d+\/ {3}read token: umesh_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n/)
    const url = /dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(result.stdout)![1]
    assert.match(readFileSync(join(tmp.path, 'publisher.log'), 'utf8'), new RegExp(`phase http done \\(\\d+ ms\\) ${url.replace(/\./g, '\\.')} `), 'the publisher listened there')
    const dataDirs = readdirSync(tmp.path, { withFileTypes: true }).filter(e => e.isDirectory()).map(e => join(tmp.path, e.name))
    const daemons = dataDirs.filter(d => /\/(bootstrap|publisher|node-\d)$/.test(d))
    assert.equal(daemons.length, 5)
    for (const dir of daemons) assert.equal(lockOwner(dir), null, `a process still holds ${dir}`)
  })
})
