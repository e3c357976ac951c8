/**
 * umesh rollout start | status | promote | pause | resume | halt: steers
 * rollouts by re-signing the package's rollout document in the repository
 * with the rollouts key (the publisher announces it within a second); status
 * reads the document and what the coordinator heard from the nodes.
 */
import { Repository } from '../../trust/repository.js'
import { UsageError } from '../../errors.js'
import { rolloutTargetPath } from '../../rollout/document.js'
import { beginRollout, onlyPackage, readCoordinatorState, readRollout, ReportBook, rolloutView, steerRollout, UNREACHABLE_MS } from '../../rollout/index.js'
import { parse } from '../args.js'
import { table } from './install-actions.js'
import type { RolloutDocument } from '../../rollout/types.js'
import type { RolloutView, SteerAction } from '../../rollout/index.js'
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

/** the rollout as the coordinator's state file has it */
export function rolloutViewFromFile (repoDir: string, doc: RolloutDocument): RolloutView {
  const state = readCoordinatorState(repoDir)
  return rolloutView(ReportBook.fromJSON(state?.book), doc, state?.rollouts[doc.id]?.events ?? [])
}

function statusText (view: RolloutView): string {
  const { doc } = view
  const lines = [
    `rollout ${doc.id}: ${doc.package} ${doc.version}, ${doc.state}${doc.rollback ? ' (rollback requested)' : ''}${doc.manual ? ', manual' : ''}; gate success >= ${doc.gate.success}, soak ${doc.gate.soakMs / 1000} s; abort at failures >= ${doc.abort}; max ${doc.maxParallel} installing per wave`,
    `  ${doc.reason}`,
    '',
    table(['wave', 'open', 'nodes', 'healthy', 'failed', 'installing', 'pending', 'deferred', 'rolled back'],
      view.waves.map(w => [w.name, w.open ? 'yes' : 'no', String(w.nodes), String(w.healthy), String(w.failed), String(w.installing), String(w.pending), String(w.deferred), String(w.rolledBack)])).trimEnd(),
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
      const doc = beginRollout(repo, {
        package: o.package,
        version: o.version,
        waves: o.waves as string | undefined,
        gate: o.gate as string | undefined,
        abort: o.abort as string | undefined,
        maxParallel: o['max-parallel'] == null ? undefined : Number(o['max-parallel']),
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
        const view = rolloutViewFromFile(o.repo as string, doc)
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
    const next = steerRollout(repo, pkg, action as SteerAction, o.rollback === true)
    process.stdout.write(`rollout ${next.id} of ${next.package} ${next.version}: ${next.state}, wave ${next.waves[next.open]?.name ?? '(none open)'} open${next.rollback ? ', rollback requested' : ''}\n`)
    return 0
  }
}
