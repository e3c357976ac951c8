import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { defaultLogger } from '@libp2p/logger'
import { InstallContext } from '../../../src/install/install-context.js'
import { emptyState, readState, writeState } from '../../../src/install/journal.js'
import { journaledStep } from '../../../src/install/journaled-step.js'
import { packageConfig } from '../../helpers/install-fixture.js'
import type { InstallRun } from '../../../src/install/journaled-step.js'
import type { PendingInstall } from '../../../src/install/types.js'

const root = mkdtempSync(join(tmpdir(), 'umesh-journaled-step-'))
after(() => { rmSync(root, { recursive: true, force: true }) })
let n = 0

/** an install context on a fresh install root whose `say` records each line with the step the journal held when it was said */
function setup (): { ctx: InstallContext, run: InstallRun, said: Array<[string, string | undefined]>, installRoot: string } {
  const dataDir = join(root, `n${++n}`)
  const config = packageConfig(dataDir)
  mkdirSync(config.installRoot, { recursive: true })
  const said: Array<[string, string | undefined]> = []
  const ctx = new InstallContext({
    package: 'app',
    config,
    store: { get: async () => { throw new Error('no chunks here') } },
    index: () => undefined,
    backupKey: () => { throw new Error('not encrypted') },
    logger: defaultLogger(),
    say: (line) => { said.push([line, readState(config.installRoot, 'app').pending?.step]) }
  })
  const pending: PendingInstall = { id: 'p1', kind: 'upgrade', from: '1.0.0', to: '1.1.0', step: 'preflight', startedAt: '', migrated: [], migratedDown: [], attempts: 0 }
  const state = emptyState('app')
  writeState(config.installRoot, state)
  return { ctx, run: { state, pending, steps: [] }, said, installRoot: config.installRoot }
}

describe('journaledStep', () => {
  it('writes the journal before it says the step', () => {
    const { ctx, run, said, installRoot } = setup()
    journaledStep(ctx, run, 'stage', 'materialising')
    journaledStep(ctx, run, 'backup', 'saving')
    assert.deepEqual(said, [['stage: materialising', 'stage'], ['backup: saving', 'backup']])
    assert.deepEqual(run.steps, ['stage: materialising', 'backup: saving'])
    assert.equal(readState(installRoot, 'app').pending?.id, 'p1')
  })

  it('adds the run\'s note to what it says, not to the steps; a quiet run only journals', () => {
    const { ctx, run, said, installRoot } = setup()
    journaledStep(ctx, { ...run, note: ' (resumed)' }, 'health', 'command check')
    assert.deepEqual(said, [['health: command check (resumed)', 'health']])
    assert.deepEqual(run.steps, ['health: command check'])
    journaledStep(ctx, { ...run, quiet: true }, 'bless', '1.1.0 is current')
    assert.equal(said.length, 1)
    assert.equal(readState(installRoot, 'app').pending?.step, 'bless')
  })

  it('journals an undo step in pending.undo and says nothing', () => {
    const { ctx, run, said, installRoot } = setup()
    run.pending.step = 'health'
    run.pending.undo = { step: 'switch-back', reason: 'unhealthy' }
    journaledStep(ctx, run, 'undo:restore')
    const pending = readState(installRoot, 'app').pending
    assert.deepEqual({ step: pending?.step, undo: pending?.undo?.step }, { step: 'health', undo: 'restore' })
    assert.deepEqual(said, [])
  })

  it('when cancelled, throws the signal\'s reason before it changes the journal', () => {
    const { ctx, run, said, installRoot } = setup()
    journaledStep(ctx, run, 'stage', 'materialising')
    const controller = new AbortController()
    controller.abort()
    assert.throws(() => { journaledStep(ctx, { ...run, signal: controller.signal }, 'backup', 'saving') }, { name: 'AbortError' })
    assert.equal(readState(installRoot, 'app').pending?.step, 'stage')
    assert.equal(run.pending.step, 'stage')
    assert.equal(said.length, 1)
  })

  it('reaches the UMESH_CRASH_AT point after the journal and the line, and dies there', () => {
    const { installRoot } = setup()
    const sayFile = join(root, `said-${n}.txt`)
    const url = (p: string): string => new URL(`../../../src/install/${p}`, import.meta.url).href
    const script = `
      import { appendFileSync } from 'node:fs'
      import { InstallContext } from ${JSON.stringify(url('install-context.js'))}
      import { emptyState } from ${JSON.stringify(url('journal.js'))}
      import { journaledStep } from ${JSON.stringify(url('journaled-step.js'))}
      const log = Object.assign(() => {}, { error () {}, trace () {}, enabled: false })
      const ctx = new InstallContext({
        package: 'app', config: { installRoot: ${JSON.stringify(installRoot)} }, store: {}, index: () => undefined, backupKey: () => new Uint8Array(32),
        logger: { forComponent: () => log }, say: (line) => { appendFileSync(${JSON.stringify(sayFile)}, line + '\\n') }
      })
      const pending = { id: 'p1', kind: 'upgrade', from: '1.0.0', to: '1.1.0', step: 'preflight', startedAt: '', migrated: [], migratedDown: [], attempts: 0 }
      const run = { state: emptyState('app'), pending, steps: [] }
      journaledStep(ctx, run, 'backup', 'saving')
      journaledStep(ctx, run, 'migrate', 'running migrations')
      appendFileSync(${JSON.stringify(sayFile)}, 'went on\\n')
    `
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, UMESH_CRASH_AT: 'migrate' }, encoding: 'utf8' })
    assert.equal(child.signal, 'SIGKILL', child.stderr)
    assert.equal(readState(installRoot, 'app').pending?.step, 'migrate')
    assert.equal(readFileSync(sayFile, 'utf8'), 'backup: saving\nmigrate: running migrations\n')
  })
})
