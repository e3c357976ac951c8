/**
 * Crash safety of the install engine: the installer (the CLI, no daemon)
 * is killed with SIGKILL (`UMESH_CRASH_AT`) at every step of an install and
 * at every step of undoing one; then a daemon is started on the data dir and
 * must finish or undo the interrupted install by itself before it is ready.
 *
 * After each restart: `current` points to the old or the new version (never
 * anything else, before or after recovery), that version verifies file by
 * file against its signed release index, the journal has no pending install
 * and agrees with the link, no staging folder or temporary link is left,
 * the migration ledger and the state files match the outcome byte for byte,
 * and the history records exactly one entry for the interrupted install.
 * Then the daemon reports that outcome in `update status`, and a node left
 * on 1.0.0 installs 1.1.0 through it (nothing the crash left blocks it).
 *
 *   cut before the switch (preflight, stage, stage-mid, backup, migrate)  undone: 1.0.0, outcome failed
 *   cut at switch, activate, health                                      resumed: 1.1.0, outcome installed
 *   cut at bless                                                         blessed: 1.1.0, outcome installed
 *   cut while undoing a broken 1.2.0 (undo:<step>)                       undo finished: 1.0.0, outcome rolled-back
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { cpSync, existsSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { MeshProcess } from '../../src/demo/local-mesh.js'
import { readHistory, readState } from '../../src/install/journal.js'
import { InstallManager } from '../../src/install/manager.js'
import { readLedger } from '../../src/install/migrations.js'
import { verifyTree } from '../../src/install/stage.js'
import { INSTALL_STEPS, ROLLBACK_STEPS } from '../../src/install/types.js'
import { runCli, tempDir } from '../helpers/cli.js'
import { configureNode, installEnv, makeFixture, nodeFrom } from '../helpers/install-fixture.js'
import type { Fixture } from '../helpers/install-fixture.js'
import type { HistoryEntry, InstallOutcome } from '../../src/install/types.js'
import { dataPaths } from '../../src/data-dir/index.js'
import { defaultLogger } from '@libp2p/logger'

interface Case {
  /** the UMESH_CRASH_AT value */
  point: string
  /** the version the upgrade goes to */
  to: '1.1.0' | '1.2.0'
  /** where the journal says the install stopped: its step, or its undo step */
  journalStep: string
  /** the version `current` points to when the installer died */
  linkAtCrash: string
  /** what recovery must end with */
  current: '1.0.0' | '1.1.0'
  outcome: InstallOutcome
  /** the step the history entry records (undone installs only) */
  failedAt?: string
}

/** what installer.recover() does with an install cut at each point */
const CASES: Case[] = [
  ...INSTALL_STEPS.map((step): Case => {
    const beforeSwitch = INSTALL_STEPS.indexOf(step) < INSTALL_STEPS.indexOf('switch')
    return {
      point: step,
      to: '1.1.0',
      journalStep: step,
      // the journal is written before a step runs: cut "at switch" is before the rename
      linkAtCrash: INSTALL_STEPS.indexOf(step) <= INSTALL_STEPS.indexOf('switch') ? '1.0.0' : '1.1.0',
      current: beforeSwitch ? '1.0.0' : '1.1.0',
      outcome: beforeSwitch ? 'failed' : 'installed',
      ...(beforeSwitch ? { failedAt: step } : {})
    }
  }),
  { point: 'stage-mid', to: '1.1.0', journalStep: 'stage', linkAtCrash: '1.0.0', current: '1.0.0', outcome: 'failed', failedAt: 'stage' },
  ...ROLLBACK_STEPS.map((step): Case => ({
    point: `undo:${step}`,
    to: '1.2.0',
    journalStep: `undo:${step}`,
    // the health check of 1.2.0 failed after the switch; the switch back is the first undo step
    linkAtCrash: step === 'switch-back' ? '1.2.0' : '1.0.0',
    current: '1.0.0',
    outcome: 'rolled-back',
    failedAt: 'health'
  }))
]

/** every name in a folder, sorted; [] when it does not exist */
function names (dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : []
}

describe('an install killed at every step is finished or undone by the restarted daemon', () => {
  const tmp = tempDir('umesh-install-crash-')
  let fixture: Fixture
  let base: string
  const baseFiles = new Map<string, string>()
  let baseHistory: HistoryEntry[] = []
  let baseBackups: string[] = []

  before(async () => {
    fixture = await makeFixture(tmp.path, [
      { version: '1.0.0', migrations: ['1-init'] },
      { version: '1.1.0', migrations: ['1-init', '2-add'] },
      { version: '1.2.0', migrations: ['1-init', '2-add', '3-more'], broken: true }
    ])
    base = nodeFrom(fixture, join(tmp.path, 'base'))
    const r = await runCli(['update', 'upgrade', '--to', '1.0.0', '--data-dir', base], { env: installEnv(base), timeoutMs: 60_000 })
    assert.equal(r.code, 0, r.stdout + r.stderr)
    for (const f of ['config.txt', 'log.txt', 'active.txt']) baseFiles.set(f, readFileSync(join(base, 'state', f), 'utf8'))
    assert.equal(baseFiles.get('log.txt'), '1-init up\n')
    assert.equal(baseFiles.get('active.txt'), '1.0.0\n')
    const root = join(base, 'installs', 'app')
    assert.equal(readlinkSync(join(root, 'current')), 'versions/1.0.0')
    baseHistory = readHistory(root)
    assert.equal(baseHistory.length, 1)
    baseBackups = names(join(root, 'backups'))
  })

  after(() => { tmp.remove() })

  /** a copy of the base (1.0.0 installed) as its own node: config paths into the copy, state files as the base's */
  function nodeCopy (name: string): string {
    const dir = join(tmp.path, name)
    // verbatim: `current` stays the relative link `versions/1.0.0`, not a link into the base
    cpSync(base, dir, { recursive: true, verbatimSymlinks: true })
    rmSync(join(dir, 'daemon.lock'), { force: true })
    configureNode(dir)
    cpSync(join(base, 'state'), join(dir, 'state'), { recursive: true, force: true })
    return dir
  }

  for (const c of CASES) {
    it(`cut at ${c.point} (upgrade to ${c.to}): ${c.outcome === 'installed' ? 'resumed' : 'undone'}, current ${c.current}`, async () => {
      const node = nodeCopy(`node-${c.point.replace(':', '-')}`)
      const root = join(node, 'installs', 'app')
      const link = (): string => readlinkSync(join(root, 'current'))
      const stateFile = (f: string): string => readFileSync(join(node, 'state', f), 'utf8')
      assert.equal(link(), 'versions/1.0.0')

      // the installer dies where it was told to
      const cut = await runCli(['update', 'upgrade', '--to', c.to, '--data-dir', node], { env: installEnv(node, { UMESH_CRASH_AT: c.point }), timeoutMs: 60_000 })
      assert.equal(cut.code, null, `the installer was to be killed at ${c.point}, it exited with ${String(cut.code)}:\n${cut.stdout}${cut.stderr}`)
      const crashed = readState(root, 'app')
      assert.ok(crashed.pending != null, 'the journal holds the interrupted install')
      assert.equal(crashed.pending.to, c.to)
      assert.equal(crashed.pending.undo != null ? `undo:${crashed.pending.undo.step}` : crashed.pending.step, c.journalStep)
      assert.equal(crashed.current, '1.0.0', 'nothing was blessed before the crash')
      assert.equal(link(), `versions/${c.linkAtCrash}`, 'at the crash, current is the old or the new version')
      const pendingId = crashed.pending.id
      // what recovery has to clean up is really there
      if (c.point === 'stage-mid') assert.ok(names(join(root, 'versions')).some(n => n.startsWith('.staging-')), 'a half-staged tree is left')
      if (['backup', 'migrate', 'switch'].includes(c.point)) assert.ok(names(join(root, 'versions')).includes(c.to), `versions/${c.to} was staged`)
      if (c.to === '1.2.0') {
        assert.ok(names(join(root, 'versions')).includes('1.2.0'), 'the broken version is still on disk')
        if (['switch-back', 'migrate-down'].includes(crashed.pending.undo!.step)) assert.equal(stateFile('log.txt'), '1-init up\n2-add up\n3-more up\n', 'the broken version\'s migrations are not yet undone')
      }
      assert.equal(readHistory(root).length, baseHistory.length, 'the killed installer recorded no outcome')

      // a daemon on the data dir recovers before it is ready, with no command
      const daemon = new MeshProcess('daemon', 'node', node, ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns'], join(tmp.path, `daemon-${c.point.replace(':', '-')}.log`), installEnv(node, { DEBUG: 'umesh:install' }))
      let stopped: number | null = null
      try {
        await daemon.waitReady(30_000)
        assert.match(daemon.output, new RegExp(`recover: an install of ${c.to.replaceAll('.', '\\.')} stopped at ${c.journalStep}`))

        // current: the old or the new version, as recovery decides
        assert.equal(link(), `versions/${c.current}`)
        assert.equal(readFileSync(join(root, 'current', 'VERSION'), 'utf8'), `${c.current}\n`)

        // that version verifies file by file against its signed index
        const manager = new InstallManager({ paths: dataPaths(node), store: { get: async () => { throw new Error('no chunk store in this test') } }, logger: defaultLogger() }, { packages: {} })
        const index = manager.indexOf('app', c.current)
        assert.ok(index != null, `the node holds the index of ${c.current}`)
        const check = await verifyTree(join(root, 'versions', c.current), index)
        assert.deepEqual(check.problems, [])
        assert.ok(check.ok)

        // the journal: nothing pending, agrees with the link
        const journal = readState(root, 'app')
        assert.equal(journal.pending, null, 'the interrupted install is no longer pending')
        assert.equal(journal.current, c.current)
        assert.ok(journal.versions.includes(c.current))
        const kept = c.current === '1.1.0' ? ['1.0.0', '1.1.0'] : ['1.0.0']
        assert.deepEqual([...journal.versions].sort(), kept)
        // on disk: exactly the versions the journal lists; no staging folder, no temporary link
        assert.deepEqual(names(join(root, 'versions')), kept, 'no staging leftover and no unblessed version')
        assert.deepEqual(names(root).filter(n => n.startsWith('.current-')), [], 'no temporary link left')

        // migrations and state match the outcome
        if (c.current === '1.1.0') {
          assert.deepEqual(readLedger(root).applied.map(a => a.id), ['1-init', '2-add'])
          assert.equal(stateFile('log.txt'), '1-init up\n2-add up\n')
          assert.equal(stateFile('config.txt'), 'schema=2-add\n')
          assert.equal(stateFile('active.txt'), '1.1.0\n', 'the new version is the active one')
          assert.deepEqual(names(join(root, 'backups')), [...baseBackups, pendingId].sort(), 'the rollback point of this install is kept')
        } else {
          assert.deepEqual(readLedger(root).applied.map(a => a.id), ['1-init'])
          for (const f of ['config.txt', 'log.txt']) assert.equal(stateFile(f), baseFiles.get(f), `state/${f} is as before the install, byte for byte`)
          assert.equal(stateFile('active.txt'), '1.0.0\n', 'the old version is the active one')
          assert.deepEqual(names(join(root, 'backups')), baseBackups, 'the undone install\'s rollback point is removed')
        }

        // the history: one entry for this install, with its outcome
        const history = readHistory(root)
        assert.equal(history.length, baseHistory.length + 1, 'exactly one entry for the interrupted install')
        const last = history.at(-1)!
        assert.equal(last.id, pendingId)
        assert.equal(last.from, '1.0.0')
        assert.equal(last.to, c.to)
        assert.equal(last.outcome, c.outcome)
        if (c.failedAt != null) assert.equal(last.step, c.failedAt)
        if (c.outcome === 'failed') assert.match(last.reason, /interrupted during .* undone at restart/)
        if (c.outcome === 'rolled-back') assert.match(last.reason, /unhealthy/)
        assert.match(daemon.output, new RegExp(`recovered the interrupted install of app ${c.to.replaceAll('.', '\\.')}: ${c.outcome}`))

        // the daemon reports the outcome, and the node installs again (the dead installer's lock is no obstacle)
        const umesh = async (args: string[]): ReturnType<typeof runCli> => await runCli([...args, '--data-dir', node], { env: installEnv(node), timeoutMs: 60_000 })
        const status = await umesh(['update', 'status', '--json'])
        assert.equal(status.code, 0, status.stdout + status.stderr)
        const [app] = JSON.parse(status.stdout)
        assert.equal(app.current, c.current)
        assert.equal(app.journalPending, null)
        assert.equal(app.state, c.outcome === 'installed' ? 'healthy' : c.outcome)
        if (c.current === '1.0.0') {
          const again = await umesh(['update', 'upgrade', '--to', '1.1.0'])
          assert.equal(again.code, 0, again.stdout + again.stderr)
          assert.equal(link(), 'versions/1.1.0')
          assert.equal(stateFile('log.txt'), '1-init up\n2-add up\n')
          assert.equal(readState(root, 'app').current, '1.1.0')
        }
      } finally {
        stopped = await daemon.stop()
      }
      assert.equal(stopped, 0, `the daemon stopped cleanly:\n${daemon.output.slice(-2000)}`)
    })
  }
})
