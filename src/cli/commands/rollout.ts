/**
 * umesh rollout start | status | promote | pause | resume | halt: steers
 * rollouts by re-signing the package's rollout document in the repository
 * with the rollouts key (the publisher announces it within a second); status
 * reads the document and what the coordinator heard from the nodes.
 */
import { Repository } from '../../trust/repository.js'
import { UsageError } from '../../errors.js'
import { parseAbort, parseGate, parseWaves, rolloutTargetPath } from '../../rollout/document.js'
import { changeRollout, listRollouts, readRollout, startRollout } from '../../rollout/repo-rollouts.js'
import { readCoordinatorState, UNREACHABLE_MS } from '../../rollout/coordinator.js'
import { waveTally } from '../../rollout/waves.js'
import { parse } from '../args.js'
import { table } from './install-actions.js'
import type { RolloutDocument } from '../../rollout/types.js'
import type { Command } from '../run.js'

const HELP = `umesh rollout start --repo DIR --package P --version V [--waves "canary:1,10%,50%,100%"]
        [--gate "success>=0.95,soak=60s"] [--abort "failures>=0.1"] [--max-parallel N] [--manual]
        [--allow-downgrade] [--critical]
    roll a signed release out in waves: a count (canary:1) or a cumulative share of the fleet (50%);
    the coordinator (umesh node --repo DIR --coordinator) opens each wave when the one before passes its gate
umesh rollout status --repo DIR [--package P] [--watch] [--json]
    each wave (nodes, healthy, failed, pending) and each node's state, from the coordinator's reports
umesh rollout promote --repo DIR [--package P]     open the next wave now (a --manual rollout waits for this)
umesh rollout pause --repo DIR [--package P]       nodes not yet installing wait
umesh rollout resume --repo DIR [--package P]
umesh rollout halt --repo DIR [--package P] [--rollback]
    stop the rollout; with --rollback every node that installed its version rolls back`

function onlyPackage (repo: Repository, pkg: string | undefined): string {
  if (pkg != null) return pkg
  const docs = listRollouts(repo)
  if (docs.length === 1) return docs[0].package
  throw new UsageError(docs.length === 0 ? 'this repository has no rollout; start one with `umesh rollout start`' : `rollouts of several packages (${docs.map(d => d.package).join(', ')}); name one with --package`)
}

interface NodeRow { peerId: string, wave: number, outcome: string, current: string, reason: string, tags: string[], lastSeen: number }

export function rolloutView (repoDir: string, doc: RolloutDocument): { doc: RolloutDocument, waves: Array<{ name: string, open: boolean, nodes: number, healthy: number, failed: number, installing: number, pending: number, rolledBack: number }>, nodes: NodeRow[], events: unknown[] } {
  const state = readCoordinatorState(repoDir)
  const book = (state?.book as any)?.entries ?? []
  const reports: NodeRow[] = []
  for (const e of Array.isArray(book) ? book : []) {
    const r = (Array.isArray(e.reports) ? e.reports : []).find((x: any) => x?.rolloutId === doc.id)
    if (r == null) continue
    reports.push({ peerId: r.peerId, wave: r.wave, outcome: r.outcome, current: r.current, reason: r.reason, tags: r.tags ?? [], lastSeen: e.lastSeen ?? r.at })
  }
  const tally = waveTally(doc, reports.map(r => ({ peerId: r.peerId, wave: r.wave, outcome: r.outcome as any })))
  const waves = doc.waves.map((w, i) => ({ name: w.name, open: i <= doc.open, ...(tally[i] ?? { nodes: 0, healthy: 0, failed: 0, installing: 0, pending: 0, rolledBack: 0 }) }))
  return { doc, waves, nodes: reports.sort((a, b) => a.wave - b.wave || a.peerId.localeCompare(b.peerId)), events: state?.rollouts[doc.id]?.events ?? [] }
}

function statusText (view: ReturnType<typeof rolloutView>): string {
  const { doc } = view
  const lines = [
    `rollout ${doc.id}: ${doc.package} ${doc.version}, ${doc.state}${doc.rollback ? ' (rollback requested)' : ''}${doc.manual ? ', manual' : ''}; gate success >= ${doc.gate.success}, soak ${doc.gate.soakMs / 1000} s; abort at failures >= ${doc.abort}; max ${doc.maxParallel} installing per wave`,
    `  ${doc.reason}`,
    '',
    table(['wave', 'open', 'nodes', 'healthy', 'failed', 'installing', 'pending', 'rolled back'],
      view.waves.map(w => [w.name, w.open ? 'yes' : 'no', String(w.nodes), String(w.healthy), String(w.failed), String(w.installing), String(w.pending), String(w.rolledBack)])).trimEnd(),
    ''
  ]
  if (view.nodes.length > 0) {
    lines.push(table(['node', 'wave', 'state', 'runs', 'last report', 'reason'],
      view.nodes.map(n => [n.peerId, doc.waves[n.wave]?.name ?? '-', Date.now() - n.lastSeen > UNREACHABLE_MS ? `${n.outcome} (unreachable)` : n.outcome, n.current || '-', `${Math.round((Date.now() - n.lastSeen) / 1000)} s ago`, n.reason || '-'])).trimEnd())
  } else {
    lines.push('no reports yet (is the coordinator running: umesh node --repo DIR --coordinator?)')
  }
  return lines.join('\n') + '\n'
}

export const command: Command = {
  run: async (argv) => {
    const args = parse('rollout', argv, {
      repo: { type: 'string' },
      package: { type: 'string' },
      version: { type: 'string' },
      waves: { type: 'string' },
      gate: { type: 'string' },
      abort: { type: 'string' },
      'max-parallel': { type: 'string' },
      manual: { type: 'boolean' },
      'allow-downgrade': { type: 'boolean' },
      critical: { type: 'boolean' },
      rollback: { type: 'boolean' },
      watch: { type: 'boolean' },
      json: { type: 'boolean' }
    }, false)
    const o = args.own
    if (o.help === true) {
      process.stdout.write(HELP + '\n')
      return 0
    }
    const [action, ...extra] = args.positionals
    const actions = ['start', 'status', 'promote', 'pause', 'resume', 'halt']
    if (!actions.includes(action ?? '') || extra.length > 0) throw new UsageError(`expected "rollout ${actions.join('|')}", found "rollout ${args.positionals.join(' ')}"; see: umesh rollout --help`)
    if (typeof o.repo !== 'string') throw new UsageError('--repo DIR is required: the release repository holding the rollouts key')
    const repo = Repository.open(o.repo)
    if (action === 'start') {
      if (typeof o.package !== 'string' || typeof o.version !== 'string') throw new UsageError('rollout start needs --package P and --version V')
      const maxParallel = o['max-parallel'] == null ? 1 : Number(o['max-parallel'])
      if (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > 10_000) throw new UsageError('--max-parallel: expected an integer from 1 to 10000')
      const doc = startRollout(repo, {
        package: o.package,
        version: o.version,
        waves: parseWaves((o.waves as string | undefined) ?? 'canary:1,10%,50%,100%'),
        gate: parseGate((o.gate as string | undefined) ?? 'success>=0.95,soak=60s'),
        abort: parseAbort((o.abort as string | undefined) ?? 'failures>=0.1'),
        maxParallel,
        manual: o.manual === true,
        allowDowngrade: o['allow-downgrade'] === true,
        critical: o.critical === true
      })
      process.stdout.write(o.json === true ? JSON.stringify(doc) + '\n' : `started rollout ${doc.id} of ${doc.package} ${doc.version} in waves ${doc.waves.map(w => w.name).join(', ')} (signed as ${rolloutTargetPath(doc.package)}; the coordinator opens the first wave)\n`)
      return 0
    }
    const pkg = onlyPackage(repo, o.package as string | undefined)
    if (action === 'status') {
      const show = (): string => {
        const doc = readRollout(Repository.open(o.repo as string), pkg)
        if (doc == null) throw new UsageError(`no rollout of ${pkg} in this repository`)
        const view = rolloutView(o.repo as string, doc)
        return o.json === true ? JSON.stringify(view) + '\n' : statusText(view)
      }
      if (o.watch !== true) {
        process.stdout.write(show())
        return 0
      }
      const tty = process.stdout.isTTY === true
      let stop = false
      process.once('SIGINT', () => { stop = true })
      while (!stop) {
        const text = show()
        process.stdout.write(tty ? `\x1b[2J\x1b[H${text}\n(Ctrl-C to stop watching)\n` : `${text}\n`)
        await new Promise(resolve => setTimeout(resolve, 1_000))
      }
      return 0
    }
    const doc = readRollout(repo, pkg)
    if (doc == null) throw new UsageError(`no rollout of ${pkg} in this repository`)
    const next = action === 'promote'
      ? changeRollout(repo, pkg, { kind: 'open', wave: doc.open + 1, reason: `wave ${doc.waves[doc.open + 1]?.name ?? '?'} opened by the operator` })
      : action === 'pause'
        ? changeRollout(repo, pkg, { kind: 'state', state: 'paused', reason: 'paused by the operator' })
        : action === 'resume'
          ? changeRollout(repo, pkg, { kind: 'state', state: 'running', reason: 'resumed by the operator' })
          : changeRollout(repo, pkg, { kind: 'state', state: 'halted', rollback: o.rollback === true, reason: `halted by the operator${o.rollback === true ? '; rollback requested' : ''}` })
    process.stdout.write(`rollout ${next.id} of ${next.package} ${next.version}: ${next.state}, wave ${next.waves[next.open]?.name ?? '(none open)'} open${next.rollback ? ', rollback requested' : ''}\n`)
    return 0
  }
}
