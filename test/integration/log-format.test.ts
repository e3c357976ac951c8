/**
 * `--log-format json` on a real daemon: from its first line to its last
 * (start-up phases, ready, libp2p's and update-mesh's component logs at
 * debug, the stop), every stderr line is one JSON object with time, level,
 * component and message. And the failed start of a bad config is a JSON
 * line too.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { CLI_PATH } from '../../src/demo/local-mesh.js'
import { tempDir } from '../helpers/cli.js'

const LOCAL = ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns']

interface Run {
  stderr: () => string
  stdout: () => string
  exited: Promise<number | null>
  kill: (signal: NodeJS.Signals) => void
}

function start (args: string[]): Run {
  const env = { ...process.env }
  delete env.DEBUG
  delete env.UMESH_LOG_FORMAT
  delete env.UMESH_LOG_LEVEL
  const child = spawn(process.execPath, [CLI_PATH, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  let stdout = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  const hardStop = setTimeout(() => { child.kill('SIGKILL') }, 15_000)
  const exited = new Promise<number | null>(resolve => { child.on('close', code => { clearTimeout(hardStop); resolve(code) }) })
  return { stderr: () => stderr, stdout: () => stdout, exited, kill: signal => { child.kill(signal) } }
}

async function until (what: string, test: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** every line parsed; fails naming the first line that is not a JSON object with the four keys */
function jsonLines (stderr: string): Array<Record<string, unknown>> {
  assert.ok(stderr.endsWith('\n'), 'the output ends with a whole line')
  return stderr.slice(0, -1).split('\n').map((line, i) => {
    let obj: Record<string, unknown>
    try {
      obj = JSON.parse(line)
    } catch (err) {
      assert.fail(`line ${i + 1} is not JSON (${(err as Error).message}): ${line.slice(0, 300)}`)
    }
    assert.ok(obj != null && typeof obj === 'object' && !Array.isArray(obj), `line ${i + 1} is not an object: ${line.slice(0, 300)}`)
    assert.ok(!Number.isNaN(Date.parse(obj.time as string)) && /Z$/.test(obj.time as string), `line ${i + 1}: time is ISO: ${line.slice(0, 300)}`)
    assert.ok(['error', 'warn', 'info', 'debug', 'trace'].includes(obj.level as string), `line ${i + 1}: level: ${line.slice(0, 300)}`)
    assert.equal(typeof obj.component, 'string', `line ${i + 1}: component: ${line.slice(0, 300)}`)
    assert.ok((obj.component as string).length > 0)
    assert.equal(typeof obj.message, 'string', `line ${i + 1}: message: ${line.slice(0, 300)}`)
    return obj
  })
}

describe('--log-format json', () => {
  const tmp = tempDir('umesh-logjson-')
  after(() => { tmp.remove() })

  it('a node writes only JSON lines on stderr, from start to stop, component logs included', async () => {
    const run = start(['node', '--data-dir', join(tmp.path, 'a'), ...LOCAL, '--log-format', 'json', '--log-level', 'debug'])
    await until('the ready line', () => /"message":"ready: node /.test(run.stderr()))
    run.kill('SIGTERM')
    assert.equal(await run.exited, 0, run.stderr().slice(-2000))
    assert.equal(run.stdout(), '', 'nothing on stdout')
    const lines = jsonLines(run.stderr())

    // a phase's own lines carry its state; warnings within a phase (a daemon started without its memory settings) carry only its name
    const phases = lines.filter(l => l.phase != null && l.component === 'umesh:daemon' && l.state != null)
    assert.ok(lines.findIndex(l => l.phase === 'core') < lines.findIndex(l => l.phase === 'config'))
    assert.deepEqual(phases.slice(0, 2).map(l => l.phase), ['core', 'config'], 'the first lines, before the config is loaded, are JSON too')
    for (const p of phases) {
      assert.equal(typeof p.durationMs, 'number')
      assert.ok(['done', 'skipped', 'failed'].includes(p.state as string))
    }
    const ready = lines.find(l => (l.message as string).startsWith('ready: node '))
    assert.ok(ready != null)
    assert.equal(ready.level, 'info')
    assert.match(ready.peer as string, /^12D3KooW/)
    assert.equal(ready.network, 'umesh')
    assert.ok(Array.isArray(ready.listen) && (ready.listen as string[]).every(a => a.startsWith('/ip4/127.0.0.1/tcp/')))
    assert.ok(lines.some(l => l.signal === 'SIGTERM' && /^SIGTERM: stopping/.test(l.message as string)))

    const components = lines.filter(l => l.level === 'debug' || l.level === 'trace')
    assert.ok(components.length > 0, 'debug lines from the component logs')
    assert.ok(components.some(l => (l.component as string).startsWith('umesh:')), `update-mesh's components: ${[...new Set(components.map(l => l.component))].join(' ')}`)
  })

  it('a start that fails on a bad config ends with a JSON error line and exit code 2', async () => {
    const run = start(['node', '--data-dir', join(tmp.path, 'b'), ...LOCAL, '--log-format', 'json', '--max-connections', 'lots'])
    assert.equal(await run.exited, 2, run.stderr())
    const lines = jsonLines(run.stderr())
    const last = lines[lines.length - 1]
    assert.equal(last.level, 'error')
    assert.equal(last.phase, 'config')
    assert.match(last.message as string, /--max-connections: expected an integer/)
  })
})
