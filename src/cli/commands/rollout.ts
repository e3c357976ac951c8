/**
 * umesh rollout start | status | history | promote | pause | resume | halt: steers
 * rollouts by re-signing the package's rollout document in the repository
 * with the rollouts key (the publisher announces it within a second); status
 * reads the document and what the coordinator heard from the nodes;
 * history lists every rollout the repository keeps, with its outcome and
 * who started and last changed it. Changes are recorded in the audit log
 * as --actor, UMESH_ACTOR or the OS user.
 */
import { resolveActor } from '../../audit/index.js'
import { Repository } from '../../trust/repository.js'
import { UsageError } from '../../errors.js'
import { rolloutTargetPath } from '../../rollout/document.js'
import { beginRollout, onlyPackage, readCoordinatorState, readRollout, ReportBook, historyJson, rolloutHistory, rolloutView, steerRollout } from '../../rollout/index.js'
import { parse } from '../args.js'
import { table } from './install-actions.js'
import { parseSelector } from '../../rollout/selector.js'
import type { Selector } from '../../rollout/selector.js'
import type { RolloutDocument } from '../../rollout/types.js'
import type { RolloutHistoryEntry, RolloutView, SteerAction } from '../../rollout/index.js'
import type { Command } from '../run.js'

const HELP = `umesh rollout start --repo DIR --package P --version V [--waves "canary:1,10%,50%,100%"]
        [--gate "success>=0.95,soak=60s"] [--abort "failures>=0.1"] [--max-parallel N] [--manual]
        [--allow-downgrade] [--critical] [--select "region=eu-west,hw in (revB,revC),!legacy" [--allow-empty]]
    roll a signed release out in waves: a count (canary:1) or a cumulative share of the fleet (50%);
    the coordinator (umesh node --repo DIR --coordinator) opens each wave when the one before passes its gate;
    --select: only nodes whose labels match take part, the waves are formed over them (k=v, k==v, k!=v,
    k in (a,b), k notin (a,b), k, !k; comma is AND); refused when it matches no node the coordinator
    knows, unless --allow-empty
umesh rollout status --repo DIR [--package P] [--select SELECTOR] [--watch] [--json]
    each wave (nodes, healthy, failed, pending) and each node's state, from the coordinator's reports;
    --select: only the nodes whose reported labels match, in the node list and the wave counts
umesh rollout history --repo DIR [--package P] [--json]
    every rollout kept in the repository, oldest first: outcome (open, paused, halted, rolled back,
    completed), when it started and last changed, who started it and who made that change
umesh rollout promote --repo DIR [--package P]     open the next wave now (a --manual rollout waits for this)
umesh rollout pause --repo DIR [--package P]       nodes not yet installing wait
umesh rollout resume --repo DIR [--package P]
umesh rollout halt --repo DIR [--package P] [--rollback]
    stop the rollout; with --rollback every node that installed its version rolls back
start, promote, pause, resume and halt take --actor NAME (default: UMESH_ACTOR, else the OS user),
recorded with the change in the rollout's history and the audit log (umesh audit)`

function historyText (entries: RolloutHistoryEntry[]): string {
  if (entries.length === 0) return 'no rollouts in this repository\n'
  return table(['rollout', 'package', 'version', 'outcome', 'started', 'by', 'last change', 'by', 'reason'],
    entries.map(h => [`${h.doc.id}${h.current ? ' *' : ''}`, h.doc.package, h.doc.version, h.outcome, h.doc.created, h.startedBy ?? '-', h.doc.updated, h.changedBy ?? '-', h.doc.reason.slice(0, 80)])) +
    '(* the document nodes follow now)\n'
}

/** the rollout as the coordinator's state file has it */
export function rolloutViewFromFile (repoDir: string, doc: RolloutDocument, select?: Selector): RolloutView {
  const state = readCoordinatorState(repoDir)
  return rolloutView(ReportBook.fromJSON(state?.book), doc, state?.rollouts[doc.id]?.events ?? [], select)
}

function statusText (view: RolloutView): string {
  const { doc } = view
  const lines = [
    `rollout ${doc.id}: ${doc.package} ${doc.version}, ${doc.state}${doc.rollback ? ' (rollback requested)' : ''}${doc.manual ? ', manual' : ''}; gate success >= ${doc.gate.success}, soak ${doc.gate.soakMs / 1000} s; abort at failures >= ${doc.abort}; max ${doc.maxParallel} installing per wave`,
    `  ${doc.reason}`,
    ...(doc.selector != null ? [`  selector: ${doc.selector} (${view.nodes.filter(n => n.outcome === 'not-selected').length} reporting nodes not selected)`] : []),
    '',
    table(['wave', 'open', 'nodes', 'healthy', 'failed', 'installing', 'pending', 'deferred', 'rolled back'],
      view.waves.map(w => [w.name, w.open ? 'yes' : 'no', String(w.nodes), String(w.healthy), String(w.failed), String(w.installing), String(w.pending), String(w.deferred), String(w.rolledBack)])).trimEnd(),
    ''
  ]
  if (view.nodes.length > 0) {
    lines.push(table(['node', 'wave', 'state', 'runs', 'last report', 'reason'],
      view.nodes.map(n => [n.peerId, doc.waves[n.wave]?.name ?? '-', n.unreachable ? `${n.outcome} (unreachable)` : n.outcome, n.current || '-', `${Math.round((Date.now() - n.lastSeen) / 1000)} s ago`, n.reason || '-'])).trimEnd())
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
      select: { type: 'string' },
      'allow-empty': { type: 'boolean' },
      rollback: { type: 'boolean' },
      watch: { type: 'boolean' },
      json: { type: 'boolean' },
      actor: { type: 'string' }
    }, false)
    const o = args.own
    if (o.help === true) {
      process.stdout.write(HELP + '\n')
      return 0
    }
    const [action, ...extra] = args.positionals
    const actions = ['start', 'status', 'history', 'promote', 'pause', 'resume', 'halt']
    if (!actions.includes(action ?? '') || extra.length > 0) throw new UsageError(`expected "rollout ${actions.join('|')}", found "rollout ${args.positionals.join(' ')}"; see: umesh rollout --help`)
    if (typeof o.repo !== 'string') throw new UsageError('--repo DIR is required: the release repository holding the rollouts key')
    const repo = Repository.open(o.repo)
    if (action === 'history') {
      const entries = rolloutHistory(repo, o.package as string | undefined)
      process.stdout.write(o.json === true ? JSON.stringify(entries.map(historyJson)) + '\n' : historyText(entries))
      return 0
    }
    // who acts: asked only by the verbs that change the repository, so a bad UMESH_ACTOR never stops `status`
    const who = (): { actor: string, via: 'cli' } => ({ actor: resolveActor(o.actor as string | undefined), via: 'cli' })
    if (action === 'start') {
      if (typeof o.package !== 'string' || typeof o.version !== 'string') throw new UsageError('rollout start needs --package P and --version V')
      const doc = beginRollout(repo, {
        package: o.package,
        version: o.version,
        waves: o.waves as string | undefined,
        gate: o.gate as string | undefined,
        abort: o.abort as string | undefined,
        maxParallel: o['max-parallel'] == null ? undefined : Number(o['max-parallel']),
        manual: o.manual === true,
        allowDowngrade: o['allow-downgrade'] === true,
        critical: o.critical === true,
        select: o.select as string | undefined,
        allowEmpty: o['allow-empty'] === true
      }, who())
      process.stdout.write(o.json === true ? JSON.stringify(doc) + '\n' : `started rollout ${doc.id} of ${doc.package} ${doc.version} in waves ${doc.waves.map(w => w.name).join(', ')} (signed as ${rolloutTargetPath(doc.package)}; the coordinator opens the first wave)\n`)
      return 0
    }
    const pkg = onlyPackage(repo, o.package as string | undefined)
    if (action === 'status') {
      const select = typeof o.select === 'string' ? parseSelector(o.select) : undefined
      const show = (): string => {
        const doc = readRollout(Repository.open(o.repo as string), pkg)
        if (doc == null) throw new UsageError(`no rollout of ${pkg} in this repository`)
        const view = rolloutViewFromFile(o.repo as string, doc, select)
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
    const next = steerRollout(repo, pkg, action as SteerAction, o.rollback === true, who())
    process.stdout.write(`rollout ${next.id} of ${next.package} ${next.version}: ${next.state}, wave ${next.waves[next.open]?.name ?? '(none open)'} open${next.rollback ? ', rollback requested' : ''}\n`)
    return 0
  }
}
