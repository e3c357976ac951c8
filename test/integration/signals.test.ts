/**
 * Signals on a running daemon: one SIGINT stops it cleanly (exit 0, lock
 * released); a second one while it stops forces the exit (130).
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { MeshProcess } from '../../src/demo/local-mesh.js'
import { lockOwner } from '../../src/identity/index.js'
import { tempDir } from '../helpers/cli.js'

const LOCAL = ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns']

describe('signals', () => {
  const tmp = tempDir('umesh-signals-')
  after(() => { tmp.remove() })

  it('stops cleanly on one SIGINT', async () => {
    const node = new MeshProcess('a', 'node', join(tmp.path, 'a'), LOCAL, join(tmp.path, 'a.log'))
    await node.waitReady()
    node.child.kill('SIGINT')
    assert.equal(await node.exited, 0)
    assert.match(node.output, /SIGINT: stopping \(send it again to force\)/)
    assert.equal(lockOwner(join(tmp.path, 'a')), null, 'the lock is released')
  })

  it('exits at once on a second signal during the stop', async () => {
    // identical signals sent at once merge into one, so the second goes when
    // the stop has begun; a clean stop takes tens of milliseconds and may
    // still win the race, so up to three tries, and one must show the forced exit
    const outcomes: Array<number | null> = []
    for (let attempt = 0; attempt < 3 && !outcomes.includes(130); attempt++) {
      const dir = join(tmp.path, `b${attempt}`)
      const node = new MeshProcess('b', 'node', dir, LOCAL, join(tmp.path, `b${attempt}.log`))
      await node.waitReady()
      const begun = new Promise<void>(resolve => {
        node.child.stderr?.on('data', (chunk: Buffer) => { if (chunk.toString().includes('SIGINT: stopping')) resolve() })
      })
      node.child.kill('SIGINT')
      await begun
      node.child.kill('SIGINT')
      const code = await node.exited
      outcomes.push(code)
      if (code === 130) assert.match(node.output, /SIGINT again: exiting without a clean stop/)
      else assert.equal(code, 0, 'a stop that won the race still exits cleanly')
    }
    assert.ok(outcomes.includes(130), `no forced exit in ${outcomes.length} tries: ${outcomes.join(', ')}`)
  })
})
