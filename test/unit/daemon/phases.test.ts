import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PhaseRunner } from '../../../src/daemon/phases.js'
import { ConfigError, PhaseError } from '../../../src/errors.js'
import type { PhaseDefinition } from '../../../src/daemon/phases.js'

function phases (log: string[], failAt?: string, err: Error = new Error('boom')): PhaseDefinition[] {
  return ['core', 'config', 'keys', 'network', 'sync'].map(name => ({
    name,
    run: async () => {
      log.push(`start ${name}`)
      if (name === failAt) throw err
      if (name === 'sync') return { skipped: 'not yet' }
      await new Promise(resolve => setTimeout(resolve, 5))
      return { undo: () => { log.push(`undo ${name}`) }, detail: `${name} ok` }
    }
  }))
}

describe('phase runner', () => {
  it('runs phases in order, records state and duration, and undoes in reverse', async () => {
    const log: string[] = []
    const seen: string[] = []
    const runner = new PhaseRunner(phases(log), r => { seen.push(`${r.name}:${r.state}`) })
    assert.deepEqual(runner.records.map(r => r.state), ['pending', 'pending', 'pending', 'pending', 'pending'])
    await runner.start(new AbortController().signal)
    assert.deepEqual(log, ['start core', 'start config', 'start keys', 'start network', 'start sync'])
    assert.deepEqual(runner.records.map(r => r.state), ['done', 'done', 'done', 'done', 'skipped'])
    assert.equal(runner.records[4].detail, 'not yet')
    assert.ok(runner.records.slice(0, 4).every(r => r.durationMs >= 4), 'durations are recorded')
    assert.deepEqual(seen.slice(0, 2), ['core:running', 'core:done'])
    log.length = 0
    await runner.stop()
    assert.deepEqual(log, ['undo network', 'undo keys', 'undo config', 'undo core'])
    log.length = 0
    await runner.stop()
    assert.deepEqual(log, [], 'a second stop undoes nothing')
  })

  it('stops at a failed phase, undoes what was done, and names the phase', async () => {
    const log: string[] = []
    const runner = new PhaseRunner(phases(log, 'keys'))
    await assert.rejects(runner.start(new AbortController().signal), (err: any) => {
      assert.ok(err instanceof PhaseError)
      assert.equal(err.phase, 'keys')
      assert.equal(err.exitCode, 1)
      assert.match(err.message, /phase "keys" failed: boom/)
      return true
    })
    assert.deepEqual(runner.records.map(r => r.state), ['done', 'done', 'failed', 'pending', 'pending'])
    assert.equal(runner.records[2].detail, 'boom')
    assert.deepEqual(log, ['start core', 'start config', 'start keys', 'undo config', 'undo core'])
  })

  it('keeps the exit code of a config error (2)', async () => {
    const runner = new PhaseRunner(phases([], 'config', new ConfigError('--listen', 'bad')))
    await assert.rejects(runner.start(new AbortController().signal), (err: any) => err.exitCode === 2 && err.phase === 'config')
  })

  it('does not start when the signal is already aborted', async () => {
    const log: string[] = []
    const controller = new AbortController()
    controller.abort()
    await assert.rejects(new PhaseRunner(phases(log)).start(controller.signal), (err: any) => err.phase === 'core')
    assert.deepEqual(log, [])
  })
})
