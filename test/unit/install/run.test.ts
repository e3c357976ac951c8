import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { acquireInstallLock, installLockOwner } from '../../../src/install/lock.js'
import { checkDiskSpace, checkMemory, freeDiskBytes } from '../../../src/install/preflight.js'
import { describeRun, MAX_OUTPUT_BYTES, runCommand } from '../../../src/install/run-command.js'

const root = mkdtempSync(join(tmpdir(), 'umesh-install-run-'))
const children: ChildProcess[] = []
after(() => {
  for (const c of children) if (c.exitCode == null && c.signalCode == null) c.kill('SIGKILL')
  rmSync(root, { recursive: true, force: true })
})
let n = 0
function fresh (): string {
  const dir = join(root, `r${++n}`)
  mkdirSync(dir)
  return dir
}

const node = process.execPath

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function until (what: string, fn: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

describe('runCommand', () => {
  it('captures output and exit code; a non-zero exit is a result, not an error', async () => {
    const cwd = fresh()
    const r = await runCommand([node, '-e', 'console.log(process.cwd()); console.log(process.env.GREETING); console.error("first\\nsomething broke"); process.exit(3)'], { cwd, env: { GREETING: 'hello there' }, timeoutMs: 5000 })
    assert.equal(r.code, 3)
    assert.equal(r.signal, null)
    assert.equal(r.timedOut, false)
    assert.equal(r.stdout, `${cwd}\nhello there\n`)
    assert.equal(r.stderr, 'first\nsomething broke\n')
    assert.equal(describeRun(['prog', 'an arg'], r), '`prog "an arg"` exited 3: something broke')
    const ok = await runCommand(['true'], { timeoutMs: 5000 })
    assert.equal(ok.code, 0)
    assert.equal(describeRun(['true'], ok), '`true` exited 0')
  })

  it('keeps only the last 64 KiB of each stream', async () => {
    const r = await runCommand([node, '-e', 'process.stdout.write("a".repeat(300000) + "END"); process.stderr.write("b".repeat(100000) + "FIN")'], { timeoutMs: 5000 })
    assert.equal(r.code, 0)
    assert.equal(r.stdout.length, MAX_OUTPUT_BYTES)
    assert.ok(r.stdout.endsWith('aaaEND'))
    assert.equal(r.stderr.length, MAX_OUTPUT_BYTES)
    assert.ok(r.stderr.endsWith('bbbFIN'))
  })

  it('kills the whole process group on timeout', async () => {
    // the shell starts a grandchild and reports its pid; both must die
    const started = Date.now()
    const r = await runCommand(['sh', '-c', 'sleep 30 & echo $!; wait'], { timeoutMs: 300 })
    assert.ok(Date.now() - started < 2000)
    assert.equal(r.timedOut, true)
    assert.equal(r.code, null)
    assert.equal(r.signal, 'SIGTERM')
    const grandchild = Number(r.stdout.trim())
    assert.ok(grandchild > 0)
    await until('the grandchild to die', () => !alive(grandchild) || readFileSync(`/proc/${grandchild}/stat`, 'utf8').includes(') Z'))
    assert.equal(describeRun(['sh', '-c', 'x'], r), '`sh -c x` timed out after 300 ms and was killed: ' + String(grandchild))
  })

  it('sends SIGKILL 2 s after SIGTERM to a process that ignores it', async () => {
    const started = Date.now()
    const r = await runCommand([node, '-e', 'process.on("SIGTERM", () => console.log("ignored")); console.log("ready"); setInterval(() => {}, 1000)'], { timeoutMs: 300 })
    const took = Date.now() - started
    assert.equal(r.timedOut, true)
    assert.equal(r.signal, 'SIGKILL')
    assert.match(r.stdout, /ready\nignored/)
    assert.ok(took >= 2200 && took < 4000, `took ${took} ms`)
  })

  it('stops when its signal is aborted', async () => {
    const ac = new AbortController()
    setTimeout(() => { ac.abort() }, 100)
    const r = await runCommand(['sleep', '30'], { timeoutMs: 10000, signal: ac.signal })
    assert.equal(r.aborted, true)
    assert.equal(r.timedOut, false)
    assert.equal(r.signal, 'SIGTERM')
  })

  it('does not wait for a background child that keeps its output open', async () => {
    const started = Date.now()
    const r = await runCommand(['sh', '-c', 'sleep 3 & echo started'], { timeoutMs: 5000 })
    assert.equal(r.code, 0)
    assert.equal(r.stdout, 'started\n')
    assert.ok(Date.now() - started < 1500)
  })

  it('rejects only when the program cannot be started, naming it', async () => {
    await assert.rejects(runCommand(['/nonexistent/program', 'x'], { timeoutMs: 1000 }), (err: any) => err.name === 'CommandError' && err.message.includes('/nonexistent/program'))
    await assert.rejects(runCommand(['true'], { cwd: '/nonexistent/dir', timeoutMs: 1000 }), (err: any) => err.name === 'CommandError' && err.message.includes('/nonexistent/dir'))
    await assert.rejects(runCommand([], { timeoutMs: 1000 }), { name: 'CommandError' })
  })
})

const LOCK_MODULE = new URL('../../../src/install/lock.js', import.meta.url).href

/** a node process that takes the lock and holds it until killed (or `holdMs`), printing what happened */
function lockHolder (installRoot: string, opts: { at?: number, holdMs?: number } = {}): { child: ChildProcess, output: Promise<string> } {
  const code = `
    import { acquireInstallLock } from ${JSON.stringify(LOCK_MODULE)}
    while (Date.now() < ${opts.at ?? 0}) {}
    try {
      const lock = acquireInstallLock(${JSON.stringify(installRoot)}, 'app')
      console.log('won ' + process.pid)
      setTimeout(() => { lock.release() }, ${opts.holdMs ?? 60_000})
    } catch (err) {
      console.log('lost ' + err.name + ' ' + err.pid)
    }`
  const child = spawn(node, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  const output = new Promise<string>((resolve) => {
    child.stdout!.on('data', () => { if (out.includes('\n')) resolve(out.trim()) })
    child.on('exit', () => { resolve(out.trim()) })
  })
  return { child, output }
}

describe('the install lock', () => {
  it('is exclusive within a process and released once', () => {
    const installRoot = join(fresh(), 'root')
    assert.equal(installLockOwner(installRoot), null)
    const lock = acquireInstallLock(installRoot, 'app')
    assert.equal(installLockOwner(installRoot), process.pid)
    assert.throws(() => acquireInstallLock(installRoot, 'app'), (err: any) =>
      err.name === 'InstallInProgressError' && err.pid === process.pid &&
      err.message === `an install of app is already in progress (pid ${process.pid}); wait for it or check \`umesh update status\``)
    lock.release()
    assert.equal(installLockOwner(installRoot), null)
    const again = acquireInstallLock(installRoot, 'app')
    lock.release() // a second release of the old lock must not remove the new one
    assert.equal(installLockOwner(installRoot), process.pid)
    again.release()
  })

  it('is exclusive across processes, and taken over once its holder is killed', async () => {
    const installRoot = join(fresh(), 'root')
    const holder = lockHolder(installRoot)
    const said = await holder.output
    assert.equal(said, `won ${holder.child.pid!}`)
    assert.equal(installLockOwner(installRoot), holder.child.pid)
    assert.throws(() => acquireInstallLock(installRoot, 'app'), (err: any) => err.name === 'InstallInProgressError' && err.pid === holder.child.pid)
    holder.child.kill('SIGKILL')
    await new Promise(resolve => holder.child.once('exit', resolve))
    assert.equal(installLockOwner(installRoot), null, 'a dead holder does not own it')
    const lock = acquireInstallLock(installRoot, 'app')
    assert.equal(installLockOwner(installRoot), process.pid)
    lock.release()
  })

  it('takes over a stale or unreadable lock file', () => {
    const installRoot = fresh()
    writeFileSync(join(installRoot, 'install.lock'), '999999999\n')
    const a = acquireInstallLock(installRoot, 'app')
    a.release()
    writeFileSync(join(installRoot, 'install.lock'), 'garbage')
    const b = acquireInstallLock(installRoot, 'app')
    b.release()
    // our own pid with another start time: a pid reused after a reboot
    writeFileSync(join(installRoot, 'install.lock'), `${process.pid}\nstart 1\n`)
    const c = acquireInstallLock(installRoot, 'app')
    c.release()
    assert.equal(existsSync(join(installRoot, 'install.lock')), false)
    assert.equal(existsSync(join(installRoot, 'install.lock.takeover')), false)
  })

  it('removes a stale lock only under the takeover file', () => {
    const installRoot = fresh()
    writeFileSync(join(installRoot, 'install.lock'), '999999999\n')
    // a live process is taking the stale lock over: wait for it, never remove the lock beside it
    writeFileSync(join(installRoot, 'install.lock.takeover'), `${process.pid}\n`)
    assert.throws(() => acquireInstallLock(installRoot, 'app'), (err: any) => err.name === 'InstallInProgressError' && /kept taking it over/.test(err.message))
    assert.equal(readFileSync(join(installRoot, 'install.lock'), 'utf8'), '999999999\n')
    // a takeover file whose process died is cleared
    writeFileSync(join(installRoot, 'install.lock.takeover'), '999999999\n')
    acquireInstallLock(installRoot, 'app').release()
    assert.equal(existsSync(join(installRoot, 'install.lock.takeover')), false)
  })

  it('lets exactly one of several processes racing for a stale lock win', async () => {
    const installRoot = fresh()
    writeFileSync(join(installRoot, 'install.lock'), '999999999\n')
    const at = Date.now() + 700
    const racers = Array.from({ length: 5 }, () => lockHolder(installRoot, { at, holdMs: 1000 }))
    const results = await Promise.all(racers.map(async r => await r.output))
    const winners = results.filter(r => r.startsWith('won'))
    assert.equal(winners.length, 1, results.join('; '))
    const winner = Number(winners[0]!.split(' ')[1])
    for (const r of results.filter(r => !r.startsWith('won'))) assert.equal(r, `lost InstallInProgressError ${winner}`)
    await Promise.all(racers.map(async r => { if (r.child.exitCode == null) await new Promise(resolve => r.child.once('exit', resolve)) }))
    assert.equal(existsSync(join(installRoot, 'install.lock')), false, 'released by the winner')
  })
})

describe('preflight', () => {
  it('checks free disk space, honouring UMESH_TEST_FREE_BYTES', () => {
    const dir = fresh()
    const saved = process.env.UMESH_TEST_FREE_BYTES
    try {
      delete process.env.UMESH_TEST_FREE_BYTES
      assert.ok(freeDiskBytes(dir) > 0)
      checkDiskSpace(dir, 1)
      checkDiskSpace(join(dir, 'not', 'yet', 'created'), 1) // measured on the nearest existing parent
      process.env.UMESH_TEST_FREE_BYTES = String(3 * 1024 * 1024)
      checkDiskSpace(dir, 3 * 1024 * 1024)
      assert.throws(() => { checkDiskSpace(dir, 10 * 1024 * 1024) }, (err: any) =>
        err.name === 'InsufficientDiskError' && err.freeBytes === 3 * 1024 * 1024 && err.needBytes === 10 * 1024 * 1024 &&
        err.message.includes(dir) && err.message.includes('3.0 MiB free, 10.0 MiB needed') && /free some space/.test(err.message))
      process.env.UMESH_TEST_FREE_BYTES = 'lots'
      assert.throws(() => { checkDiskSpace(dir, 1) }, /UMESH_TEST_FREE_BYTES/)
    } finally {
      if (saved == null) delete process.env.UMESH_TEST_FREE_BYTES
      else process.env.UMESH_TEST_FREE_BYTES = saved
    }
  })

  it('checks free memory', () => {
    checkMemory(0)
    assert.throws(() => { checkMemory(2 * totalmem()) }, (err: any) => err.name === 'InsufficientMemoryError' && /lower the package's minFreeMemory/.test(err.message))
  })
})
