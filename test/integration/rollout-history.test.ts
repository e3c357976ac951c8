/**
 * Rollout history and the audit trail through the real CLI on a real
 * repository folder, with one coordinating publisher daemon (its HTTP API
 * is the second way in; it opens waves as `coordinator`). No fleet: a
 * rollout is completed the way the coordinator completes one when its last
 * wave passes its gate (changeRollout, in this process), since no node is
 * needed to judge the history.
 *
 * In order: 1.0.0 rolled out and completed; 2.0.0 started, a second rollout
 * while it runs refused with the reason, 2.0.0 halted through the API; a
 * rollout of 0.9.0 is judged against 1.0.0 (the last completed, from the
 * history), not the halted 2.0.0, and refused; 1.5.0 is allowed. `rollout
 * history` lists the three with outcome, times and who. `umesh audit` holds
 * every action with its actor (--actor, UMESH_ACTOR, the API token's name,
 * for a halt and a release uploaded);
 * --verify passes, and fails naming the entry once one is edited, removed
 * or two are swapped, and once the newest are cut from the end.
 */
import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { freePort, MeshProcess } from '../../src/demo/local-mesh.js'
import { changeRollout } from '../../src/rollout/repo-rollouts.js'
import { Repository } from '../../src/trust/repository.js'
import { runCli, tempDir, waitFor } from '../helpers/cli.js'
import { ApiClient, createToken } from '../helpers/http-api.js'

describe('rollout history and the audit trail', () => {
  const tmp = tempDir('umesh-rollout-history-')
  const repo = join(tmp.path, 'repo')
  const log = join(repo, 'audit', 'log.jsonl')
  let coordinator: MeshProcess
  let api: ApiClient
  const ids: Record<string, string> = {}

  const cli = async (args: string[], env: NodeJS.ProcessEnv = {}, expect = 0): Promise<{ stdout: string, stderr: string }> => {
    const r = await runCli(args, { env: { UMESH_ACTOR: '', ...env } })
    assert.equal(r.code, expect, `umesh ${args.join(' ')}: exit ${String(r.code)}\n${r.stdout}${r.stderr}`)
    return r
  }
  const history = async (): Promise<any[]> => JSON.parse((await cli(['rollout', 'history', '--repo', repo, '--package', 'app', '--json'])).stdout)
  const start = async (version: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> => {
    const r = await cli(['rollout', 'start', '--repo', repo, '--package', 'app', '--version', version, '--waves', '100%', '--json', ...args], env)
    return JSON.parse(r.stdout).id
  }

  before(async () => {
    await cli(['repo', 'init', '--repo', repo])
    for (const version of ['1.0.0', '1.5.0', '2.0.0', '0.9.0']) {
      const src = join(tmp.path, `src-${version}`)
      mkdirSync(src, { recursive: true })
      writeFileSync(join(src, 'VERSION'), `${version}\n`)
      // 2.0.0 is added by whoever UMESH_ACTOR names, the others by --actor
      await cli(['release', 'add', src, '--repo', repo, '--package', 'app', '--version', version, ...(version === '2.0.0' ? [] : ['--actor', 'alice'])], version === '2.0.0' ? { UMESH_ACTOR: 'erin' } : {})
    }
    const port = await freePort()
    const dataDir = join(tmp.path, 'publisher')
    coordinator = new MeshProcess('publisher', 'node', dataDir, ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--repo', repo, '--coordinator', '--http-listen', `127.0.0.1:${port}`], join(tmp.path, 'publisher.log'))
    await coordinator.waitReady(30_000)
    api = new ApiClient(`http://127.0.0.1:${port}`, await createToken(dataDir, 'operate', 'ci'))
  })

  after(async () => {
    await coordinator?.stop()
    tmp.remove()
  })

  it('a rollout completed: its history names who started it, the coordinator\'s wave, the completion', async () => {
    ids.v1 = await start('1.0.0', ['--gate', 'success>=1,soak=1s', '--actor', 'bob'])
    // the coordinator opens the first wave and signs that change as itself
    await waitFor('the coordinator to open the wave of 1.0.0', async () => (await history()).find(h => h.id === ids.v1 && h.open === 0 && h.changedBy === 'coordinator'), 20_000, 250)
    // as the coordinator does once the last wave passed its gate
    changeRollout(Repository.open(repo), 'app', { kind: 'state', state: 'completed', reason: 'every wave passed its gate' })
    const [h] = await history()
    assert.equal(h.id, ids.v1)
    assert.equal(h.outcome, 'completed')
    assert.equal(h.startedBy, 'bob')
    assert.equal(h.changedBy, 'coordinator')
    assert.equal(h.current, true)
  })

  it('a second rollout while one runs is refused with the reason; halted through the API, it no longer blocks', async () => {
    ids.v2 = await start('2.0.0', ['--gate', 'success>=1,soak=10m'], { UMESH_ACTOR: 'carol' })
    const refused = await cli(['rollout', 'start', '--repo', repo, '--package', 'app', '--version', '1.5.0', '--actor', 'dave'], {}, 1)
    assert.match(refused.stderr, new RegExp(`a rollout of app 2\\.0\\.0 \\(${ids.v2}\\) is running; halt it \\(\`umesh rollout halt\`\\) or let it complete first`))
    const halted = await api.post('/api/v1/rollouts/app/halt', {})
    assert.equal(halted.state, 'halted')
    assert.equal(halted.reason, 'halted by ci')
    // a release through the API too, for the audit trail
    const src = join(tmp.path, 'src-3.0.0')
    mkdirSync(src, { recursive: true })
    writeFileSync(join(src, 'VERSION'), '3.0.0\n')
    const tgz = join(tmp.path, 'app-3.0.0.tar.gz')
    execFileSync('tar', ['-czf', tgz, '-C', src, 'VERSION'])
    const added = await api.request('POST', '/api/v1/releases?package=app&version=3.0.0', readFileSync(tgz), { 'content-type': 'application/gzip' })
    assert.equal(added.status, 201, JSON.stringify(added.body))
  })

  it('a downgrade is judged against the last completed rollout (1.0.0) from the history, not the halted 2.0.0', async () => {
    const older = await cli(['rollout', 'start', '--repo', repo, '--package', 'app', '--version', '0.9.0', '--waves', '100%'], {}, 1)
    assert.match(older.stderr, new RegExp(`0\\.9\\.0 is older than 1\\.0\\.0, the last version rolled out \\(rollout ${ids.v1}, completed .*\\); a downgrade needs --allow-downgrade`))
    ids.v15 = await start('1.5.0', ['--gate', 'success>=1,soak=10m', '--actor', 'dave'])
  })

  it('rollout history lists the three with outcome, times and who', async () => {
    const h = await history()
    assert.deepEqual(h.map(x => [x.id, x.version, x.outcome, x.startedBy, x.current]), [
      [ids.v1, '1.0.0', 'completed', 'bob', false],
      [ids.v2, '2.0.0', 'halted', 'carol', false],
      [ids.v15, '1.5.0', 'open', 'dave', true]
    ])
    assert.equal(h[1].changedBy, 'ci')
    assert.ok(h.every(x => Date.parse(x.updated) >= Date.parse(x.created)))
    const text = (await cli(['rollout', 'history', '--repo', repo])).stdout
    assert.match(text, new RegExp(`${ids.v1} +app +1\\.0\\.0 +completed .* bob .* coordinator `))
    assert.match(text, new RegExp(`${ids.v2} +app +2\\.0\\.0 +halted .* carol .* ci +halted by ci`))
    assert.match(text, new RegExp(`${ids.v15} \\* +app +1\\.5\\.0 +open .* dave `))
    // nodes still find the current document where they always did, and it is the newest rollout
    const current = Repository.open(repo).targets('rollouts')['rollouts/app.json']
    assert.equal(current.custom.rollout, ids.v15)
  })

  it('umesh audit: each action with its actor; --verify passes, then fails naming an entry edited, removed, swapped, or cut from the end', async () => {
    await cli(['release', 'publish', '--repo', repo, '--actor', 'alice'])
    const entries = JSON.parse((await cli(['audit', '--repo', repo, '--json'])).stdout)
    assert.deepEqual(entries.map((e: any) => [e.action, e.actor, e.via, e.role]), [
      ['release.add', 'alice', 'cli', 'targets'],
      ['release.add', 'alice', 'cli', 'targets'],
      ['release.add', 'erin', 'cli', 'targets'],
      ['release.add', 'alice', 'cli', 'targets'],
      ['rollout.start', 'bob', 'cli', 'rollouts'],
      ['rollout.start', 'carol', 'cli', 'rollouts'],
      ['rollout.halt', 'ci', 'api', 'rollouts'],
      ['release.add', 'ci', 'api', 'targets'],
      ['rollout.start', 'dave', 'cli', 'rollouts'],
      ['release.publish', 'alice', 'cli', 'timestamp']
    ])
    assert.deepEqual([entries[4].result.rollout, entries[6].args.rollout, entries[8].result.rollout], [ids.v1, ids.v2, ids.v15])
    assert.equal(entries[2].args.version, '2.0.0')
    assert.deepEqual([entries[7].args.version, entries[7].args.source, entries[7].result.target], ['3.0.0', '(uploaded archive)', 'releases/app/3.0.0.json'])
    assert.match((await cli(['audit', '--repo', repo])).stdout, /rollout\.halt .*rollout=/)
    assert.equal(JSON.parse((await cli(['audit', '--repo', repo, '--since', '1h', '--json'])).stdout).length, 10)
    assert.equal(JSON.parse((await cli(['audit', '--repo', repo, '--since', new Date(Date.now() + 60_000).toISOString(), '--json'])).stdout).length, 0)
    assert.match((await cli(['audit', '--repo', repo, '--verify'])).stdout, /10 entries, signatures, order and chain valid/)

    const clean = readFileSync(log, 'utf8')
    const lines = clean.split('\n').filter(l => l !== '')
    const tampered = async (ls: string[]): Promise<string> => {
      writeFileSync(log, ls.join('\n') + '\n')
      try {
        return (await cli(['audit', '--repo', repo, '--verify'], {}, 1)).stdout
      } finally {
        writeFileSync(log, clean)
      }
    }
    const at = (i: number): string => `entry ${i} \\(line ${i + 1}, seq \\d+, ${entries[i].time.replace(/\./g, '\\.')}\\)`
    assert.match(await tampered(lines.map((l, i) => i === 6 ? l.replace('"actor":"ci"', '"actor":"someone"') : l)), new RegExp(`${at(6)}: bad signature`))
    assert.match(await tampered(lines.filter((_, i) => i !== 3)), /entry 3 \(line 4, seq 4, .*\): chain broken: seq 4 follows seq 2; entry 3 was removed/)
    assert.match(await tampered([...lines.slice(0, 5), lines[6], lines[5], ...lines.slice(7)]), /entry 5 \(line 6, seq 6, .*\): out of order: seq 6 where seq 5 belongs/)
    // cut from the end: no link breaks, but the signed history says dave started 1.5.0
    assert.match(await tampered(lines.slice(0, 7)), new RegExp(`after the last entry: missing: the repository's signed metadata records rollout ${ids.v15} of app 1\\.5\\.0, started by dave`))
    assert.match((await cli(['audit', '--repo', repo, '--verify'])).stdout, /10 entries/)
  })
})
