/**
 * One timed rollout: publish a version, wait until every node holds it, then
 * `umesh rollout start` to every node running it, with a stall watch that
 * promotes an empty wave as an operator would and gives up on a stuck node;
 * wave and install times come from the coordinator's and the nodes' records.
 */
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { readHistory } from '../../src/install/journal.js'
import { waveOf } from '../../src/rollout/waves.js'
import { seconds } from '../report.js'
import { PACKAGE, POLL_MS, RUN_TIMEOUT_MS, SOAK_MS, STALL_MS, VARIANTS, opts } from './options.js'
import { progress } from './output.js'
import { umeshOk, wallNow } from './processes.js'
import { coordinatorEvents, governed, publish, readDoc, settle, waitHeld } from './rollouts.js'
import { currentOf, describeNode, pollUntil } from './status.js'
import { waveLabel } from './waves.js'
import type { Run } from './run.js'
import type { Watched } from './status.js'
import type { StatusResponse } from '../../protocols/status/index.js'
import type { MeshProcess } from '../../src/demo/local-mesh.js'
import type { RolloutDocument } from '../../src/rollout/types.js'
import type { Libp2p } from '@libp2p/interface'

export async function rolloutRun (ctx: { root: string, repo: string, client: Libp2p, nodes: Watched[], publisher: MeshProcess, publisherId: string }, run: Run, index: number): Promise<void> {
  const { repo, client, nodes } = ctx
  const spec = VARIANTS[run.variant]
  progress(`round ${run.round}, ${run.variant}: release add ${PACKAGE} ${run.version}, then waiting until every node holds it`)
  const tAdd = wallNow()
  run.publishMs = await publish(ctx.root, repo, run.version, index)
  await waitHeld(client, nodes, run.version, 60_000)
  run.heldMs = wallNow() - tAdd

  progress(`round ${run.round}, ${run.variant}: umesh rollout start (${spec.label}), polling every ${POLL_MS} ms until every node runs ${run.version}`)
  run.governed = nodes.filter(governed).length
  run.t0 = wallNow()
  const started = await umeshOk(['rollout', 'start', '--repo', repo, '--package', PACKAGE, '--version', run.version, '--waves', spec.waves, '--gate', opts.gate, '--max-parallel', String(spec.maxParallel), '--json'])
  run.cliMs = started.ms
  const doc = JSON.parse(started.stdout) as RolloutDocument
  run.id = doc.id
  // every node computes its wave from the signed document, and so can we: first from the document as started,
  // then from the one the coordinator signs when it opens wave 0 (count waves such as canary:1 filled with peers)
  let waveOfNode: number[] = []
  let empty = new Set<number>()
  let filled = false
  const predict = (d: RolloutDocument): void => {
    waveOfNode = nodes.map(n => waveOf({ peerId: n.peerId, tags: n.tags, doc: d }))
    run.sizes = d.waves.map((_w, i) => waveOfNode.filter(w => w === i).length)
    empty = new Set(run.sizes.flatMap((size, i) => size === 0 ? [i] : []))
    run.chosen = d.waves.map(w => w.peers.map(id => nodes.find(n => n.peerId === id)?.name ?? id).join('+')).filter(x => x !== '').join(', ')
  }
  predict(doc)

  const seen = new Map<string, number>()
  const last = new Map<string, StatusResponse | undefined>()
  /** each wave index, when this process first saw it open (from the document in the repository) */
  const openSeen = new Map<number, number>()
  let lastDocRead = 0
  const byHand = new Set<number>()
  let stuck = false
  const onRound = async (): Promise<boolean> => {
    if (wallNow() - lastDocRead < 500) return false
    lastDocRead = wallNow()
    const now = readDoc(repo)
    // a completed rollout is open to every wave (a node that has not installed yet still may)
    if (now == null || now.id !== doc.id || now.open < 0 || (now.state !== 'running' && now.state !== 'completed')) return false
    const open = now.state === 'completed' ? now.waves.length - 1 : now.open
    if (!filled) {
      filled = true
      predict(now)
      if (empty.size > 0) progress(`  rollout ${doc.id} leaves wave(s) ${[...empty].map(i => doc.waves[i].name).join(', ')} with no node (sizes ${run.sizes.join('/')})`)
    }
    for (let i = 0; i <= open; i++) if (!openSeen.has(i)) openSeen.set(i, wallNow())
    const openFor = wallNow() - openSeen.get(open)!
    // an empty wave that the coordinator does not pass: promote it as an operator would
    if (now.state === 'running' && empty.has(now.open) && now.open < now.waves.length - 1 && openFor >= SOAK_MS + STALL_MS) {
      run.stalls.push(`wave ${now.waves[now.open].name} had no node and stayed open ${seconds(openFor)} (seen from here) without the coordinator moving on: promoted by hand`)
      progress(`  ${run.stalls.at(-1) ?? ''}`)
      await umeshOk(['rollout', 'promote', '--repo', repo, '--package', PACKAGE])
      byHand.add(now.open)
      return false
    }
    // a node whose wave has been open for --stall seconds and that still runs the old version: find out why, and give up on the run
    const late = nodes.filter((n, k) => waveOfNode[k] <= open && !seen.has(n.name) && wallNow() - openSeen.get(waveOfNode[k])! >= STALL_MS)
    if (late.length === 0) return false
    for (const n of late) {
      const k = nodes.indexOf(n)
      const why = n.p.output.split('\n').filter(l => /umesh:follower (could not read the rollout|following .* failed|refresh failed)/.test(l)).at(-1)
      const asked = why == null ? 0 : (why.match(/the peer answered/g) ?? []).length
      const connected = last.get(n.name)?.peers.some(x => x.peerId === ctx.publisherId) === true
      // the follower stops asking, for 10 minutes, peers that served metadata that did not verify
      const suspected = n.p.output.split('\n').filter(l => l.includes('not believing') && l.includes(ctx.publisherId)).at(-1)
      run.stalls.push(`${n.name} (wave ${doc.waves[waveOfNode[k]].name}, open ${seconds(wallNow() - openSeen.get(waveOfNode[k])!)}): ${describeNode(n, last.get(n.name)).replace(`${n.name}: `, '')}; connected to the publisher now: ${connected ? 'yes' : 'no'}; ${suspected == null ? 'it had not logged "not believing" the publisher' : `it had logged at ${suspected.slice(11, 23)} (${seconds(Date.parse(suspected.split(' ')[0]) - run.t0)} from this rollout's start) "${suspected.replace(/^\S+ umesh:follower /, '').replace(ctx.publisherId, 'the publisher').slice(0, 200)} ..."`}; its last follower error${why == null ? ': (none logged)' : ` (${asked} peers asked, the publisher ${why.includes(ctx.publisherId) ? 'among them' : 'not among them'}): ${why.replace(/^\S+ umesh:follower /, '').slice(0, 240)} ...`}`)
    }
    progress(`  ${late.length} node(s) stuck: ${late.map(n => n.name).join(', ')}${now.state === 'running' ? '; halting the rollout (no rollback)' : ` (the rollout is ${now.state})`}`)
    stuck = true
    return true
  }
  const missing = await pollUntil(client, nodes, run.t0 + RUN_TIMEOUT_MS, (n, s, at) => {
    last.set(n.name, s)
    if (currentOf(s) !== run.version) return false
    if (!seen.has(n.name)) seen.set(n.name, at)
    return true
  }, onRound)
  if (stuck) {
    if (readDoc(repo)?.state === 'running') await umeshOk(['rollout', 'halt', '--repo', repo, '--package', PACKAGE])
  } else if (missing.length > 0) {
    const d = readDoc(repo)
    run.error = `after ${seconds(RUN_TIMEOUT_MS)}, ${missing.length} node(s) not on ${run.version}: ${missing.map(n => describeNode(n, last.get(n.name))).join('; ')}; rollout ${d?.id ?? '?'} ${d?.state ?? '?'}, open wave ${d?.open ?? '?'}: ${d?.reason ?? ''}\ncoordinator log (last lines):\n${ctx.publisher.output.split('\n').filter(l => l.includes('coordinator')).slice(-8).join('\n')}`
  } else {
    run.allAt = Math.max(...seen.values())
  }

  // the next rollout may start only when this one is no longer running: the last wave's soak, or a halt if it cannot complete
  const settled = await settle(repo, doc.id, SOAK_MS + STALL_MS + 5_000)
  if (settled.halted) {
    const d = readDoc(repo)
    const lastEmpty = d != null && empty.has(d.waves.length - 1)
    run.stalls.push(lastEmpty ? `the last wave (${d.waves.at(-1)?.name ?? '?'}) had no node and never completed: halted by hand (no rollback)` : `did not complete within ${seconds(SOAK_MS + STALL_MS + 5_000)} of every node being healthy: halted by hand (no rollback)`)
  }

  // the coordinator writes the document before it saves its state file: wait (bounded) for the final event there
  const settledBy = wallNow() + 5_000
  while (wallNow() < settledBy && !coordinatorEvents(repo, doc.id).some(e => e.event === 'completed' || e.event === 'halted')) await sleep(100)

  // wave timings: the coordinator's events; install times: each node's history
  const final = readDoc(repo)
  if (final?.id === doc.id && final.open >= 0) predict(final)
  const waves = final?.id === doc.id ? final.waves : doc.waves
  const events = coordinatorEvents(repo, doc.id)
  run.waves = waves.map((w, i) => ({ name: w.name, label: waveLabel(w), nodes: run.sizes[i], installMs: [], ends: [], byHand: byHand.has(i) }))
  const byName = new Map(waves.map((w, i) => [w.name, i]))
  for (const e of events) {
    const m = /^wave (\S+?):? /.exec(e.detail + ' ')
    const i = m == null ? undefined : byName.get(m[1])
    if (i == null) continue
    if (e.event === 'wave-opened') run.waves[i].openedAt ??= e.at
    if (e.event === 'gate-passed') run.waves[i].gateAt ??= e.at
    if (e.event === 'gate-passed' && run.sizes[i] === 0) run.emptyGates.push(`${seconds(e.at - run.t0)}: ${e.detail}`)
  }
  run.completedAt = events.find(e => e.event === 'completed')?.at
  nodes.forEach((n, k) => {
    const entry = readHistory(join(n.p.dataDir, 'installs', PACKAGE)).filter(h => h.to === run.version && h.outcome === 'installed').at(-1)
    const w = run.waves[waveOfNode[k]]
    if (entry == null || w == null) return
    const s = Date.parse(entry.startedAt)
    const e = Date.parse(entry.finishedAt)
    if (s < run.t0) run.early.push(`${n.name} installed ${run.version} at ${seconds(s - run.t0)}, before \`rollout start\`: plain autoUpdate (${governed(n) ? 'it has the governed mark now' : 'it has no governed mark: it has never verified a rollout document'})`)
    w.firstStart = Math.min(w.firstStart ?? Infinity, s)
    w.lastEnd = Math.max(w.lastEnd ?? -Infinity, e)
    w.installMs.push(e - s)
    w.ends.push(e)
  })
}
