/**
 * The install engine end to end, on releases a real follower fetched and
 * verified: the CLI on a data dir with no daemon, then through a running
 * daemon's control socket. Installs, hard links, migrations, a broken
 * release rolled back with its state restored byte for byte, dry runs that
 * change nothing, refusals (downgrade without --force, too little disk, a
 * second install at once), rollback, history and backups.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { MeshProcess } from '../../src/demo/local-mesh.js'
import { runCli, tempDir, waitFor } from '../helpers/cli.js'
import { installConfig, installEnv, makeFixture, nodeFrom } from '../helpers/install-fixture.js'
import type { Fixture } from '../helpers/install-fixture.js'

/** every path under dir with its size, mode and mtime: what a dry run must not change */
function snapshot (dir: string): string {
  const out: string[] = []
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      const st = lstatSync(p)
      out.push(`${relative(dir, p)} ${st.mode} ${st.size} ${st.mtimeMs}${st.isSymbolicLink() ? ` -> ${readlinkSync(p)}` : ''}`)
      if (st.isDirectory()) walk(p)
    }
  }
  walk(dir)
  return out.join('\n')
}

describe('installing releases', () => {
  const tmp = tempDir('umesh-install-')
  let fixture: Fixture
  let node: string
  const root = (): string => join(node, 'installs', 'app')
  const current = (): string => readlinkSync(join(root(), 'current'))
  const state = (name: string): string => readFileSync(join(node, 'state', name), 'utf8')
  const umesh = async (args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof runCli> =>
    await runCli([...args, '--data-dir', node], { env: installEnv(node, env), timeoutMs: 60_000 })

  before(async () => {
    fixture = await makeFixture(tmp.path, [
      { version: '1.0.0', migrations: ['1-init'] },
      { version: '1.1.0', migrations: ['1-init', '2-add'] },
      { version: '1.2.0', migrations: ['1-init', '2-add', '3-more'], broken: true },
      { version: '1.3.0', migrations: ['1-init', '2-add', '3-more', '4-fails'], failing: ['4-fails'] }
    ])
    node = nodeFrom(fixture, join(tmp.path, 'node'))
  })

  after(() => { tmp.remove() })

  it('installs a held release: staged, verified, migrated, switched, activated, healthy', async () => {
    const r = await umesh(['update', 'upgrade', '--to', '1.0.0'])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /app 1\.0\.0 installed/)
    assert.equal(current(), 'versions/1.0.0')
    assert.equal(readFileSync(join(root(), 'current', 'VERSION'), 'utf8'), '1.0.0\n')
    assert.equal(state('active.txt'), '1.0.0\n')
    assert.equal(state('log.txt'), '1-init up\n')
    const v = await umesh(['update', 'version', '--json'])
    assert.deepEqual(JSON.parse(v.stdout), [{ package: 'app', current: '1.0.0' }])
  })

  it('a dry run prints every step and changes nothing', async () => {
    const before = snapshot(node)
    const r = await umesh(['update', 'upgrade', '--to', '1.1.0', '--dry-run'])
    assert.equal(r.code, 0, r.stderr)
    for (const step of ['preflight', 'stage', 'backup', 'migrate', 'switch', 'activate', 'health', 'bless']) assert.match(r.stdout, new RegExp(`\\[dry run\\] ${step}:`))
    assert.match(r.stdout, /run up 2-add/)
    assert.equal(snapshot(node), before)
  })

  it('upgrades with hard links for unchanged files and runs only the new migration', async () => {
    const r = await umesh(['update', 'upgrade', '--to', '1.1.0'])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.equal(current(), 'versions/1.1.0')
    assert.equal(state('log.txt'), '1-init up\n2-add up\n')
    // part-1..7 are the same in both versions: one inode, two names
    const a = statSync(join(root(), 'versions', '1.0.0', 'data', 'part-3.bin'))
    const b = statSync(join(root(), 'versions', '1.1.0', 'data', 'part-3.bin'))
    assert.equal(a.ino, b.ino)
    assert.notEqual(statSync(join(root(), 'versions', '1.0.0', 'data', 'part-0.bin')).ino, statSync(join(root(), 'versions', '1.1.0', 'data', 'part-0.bin')).ino)
  })

  it('rolls back an unhealthy release by itself: down migrations run, state restored byte for byte', async () => {
    const config = state('config.txt')
    const log = state('log.txt')
    const r = await umesh(['update', 'upgrade', '--to', '1.2.0'])
    assert.equal(r.code, 1, r.stdout)
    assert.match(r.stderr, /unhealthy/)
    assert.equal(current(), 'versions/1.1.0')
    assert.equal(state('config.txt'), config)
    assert.equal(state('log.txt'), log)
    assert.equal(state('active.txt'), '1.1.0\n', 'the old version was activated again')
    assert.equal(existsSync(join(root(), 'versions', '1.2.0')), false)
    const h = JSON.parse((await umesh(['update', 'history', '--json'])).stdout)
    const last = h.at(-1)
    assert.equal(last.outcome, 'rolled-back')
    assert.equal(last.to, '1.2.0')
    assert.equal(last.step, 'health')
    assert.match(last.reason, /unhealthy/)
  })

  it('a failing migration undoes the install: the migrations it ran go down, the state is restored', async () => {
    const config = state('config.txt')
    const log = state('log.txt')
    const r = await umesh(['update', 'upgrade', '--to', '1.3.0'])
    assert.equal(r.code, 1, r.stdout)
    assert.match(r.stderr, /4-fails/)
    assert.equal(current(), 'versions/1.1.0')
    assert.equal(state('config.txt'), config)
    assert.equal(state('log.txt'), log, '3-more ran up, then down')
    const ledger = JSON.parse(readFileSync(join(root(), 'migrations.json'), 'utf8')).applied.map((a: any) => a.id)
    assert.deepEqual(ledger, ['1-init', '2-add'])
    const last = JSON.parse((await umesh(['update', 'history', '--json'])).stdout).at(-1)
    assert.deepEqual([last.to, last.outcome, last.step], ['1.3.0', 'failed', 'migrate'])
    assert.equal(existsSync(join(root(), 'versions', '1.3.0')), false)
  })

  it('refuses a downgrade without --force, and refuses with too little disk before writing anything', async () => {
    const down = await umesh(['update', 'downgrade', '--to', '1.0.0'])
    assert.equal(down.code, 1)
    assert.match(down.stderr, /--force/)
    const disk = await umesh(['update', 'downgrade', '--to', '1.0.0', '--force'], { UMESH_TEST_FREE_BYTES: '1000' })
    assert.equal(disk.code, 1)
    assert.match(disk.stderr, /disk|free/i)
    assert.equal(current(), 'versions/1.1.0')
    // only the journal and history moved; no version tree, no staging left
    assert.deepEqual(readdirSync(join(root(), 'versions')).sort(), ['1.0.0', '1.1.0'])
  })

  it('rolls back the install in effect, and lists history and rollback points', async () => {
    const backups = JSON.parse((await umesh(['backups', 'list', '--json'])).stdout)
    assert.ok(backups.length >= 1, 'a rollback point per kept install')
    const r = await umesh(['update', 'rollback'])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.equal(current(), 'versions/1.0.0')
    assert.equal(state('log.txt'), '1-init up\n', '2-add ran down and the state was restored')
    assert.equal(state('active.txt'), '1.0.0\n')
    const text = await umesh(['update', 'history'])
    assert.match(text.stdout, /rollback\s+1\.1\.0\s+1\.0\.0/)
  })

  describe('through a running daemon', () => {
    let daemon: MeshProcess | undefined
    after(async () => { await daemon?.stop() })

    it('talks to the daemon over its control socket, and refuses a second install while one is in progress', async () => {
      // the activate hook marks that it runs, then waits (at most 20 s) for the test's go: the second request
      // is sent while the first is surely in progress, however slow the machine
      const activating = join(tmp.path, 'activating')
      const go = join(tmp.path, 'go')
      const hook = `touch '${activating}'; i=0; while [ ! -f '${go}' ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; exec /bin/sh bin/activate`
      writeFileSync(join(node, 'config.json'), JSON.stringify({ packages: { app: installConfig(node, { hooks: { activate: ['/bin/sh', '-c', hook], timeoutMs: 30_000 } }) } }))
      daemon = new MeshProcess('daemon', 'node', node, ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns'], join(tmp.path, 'daemon.log'), installEnv(node, { DEBUG: 'umesh:install' }))
      await daemon.waitReady()
      const first = umesh(['update', 'upgrade', '--to', '1.1.0'])
      await waitFor('the first install to reach its activate hook', () => existsSync(activating), 30_000, 100)
      const b = await umesh(['update', 'upgrade', '--to', '1.1.0'])
      writeFileSync(go, '')
      const a = await first
      assert.equal(a.code, 0, a.stdout + a.stderr)
      assert.equal(b.code, 1, b.stdout + b.stderr)
      assert.match(b.stderr, /already in progress/)
      assert.equal(current(), 'versions/1.1.0')
      assert.match(daemon.output, /control: upgrade/, 'the daemon ran it')
      const s = await umesh(['update', 'status'])
      assert.match(s.stdout, /app: healthy, current 1\.1\.0/)
    })
  })
})
