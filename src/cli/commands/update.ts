/**
 * umesh update check | changelog: what a node follows, holds and could
 * update to, and the changelogs of the releases it knows, read from its
 * data dir (whether or not its daemon runs). The install actions (version,
 * status, upgrade, downgrade, rollback, history) are in install-actions.ts.
 */
import { resolveDataDir } from '../../config/index.js'
import { UsageError } from '../../errors.js'
import { dataPaths, readLocalIndex, readLocalState } from '../../data-dir/index.js'
import { CHANNELS, channelSees, compareVersions, parseVersion } from '../../release/index.js'
import { parse } from '../args.js'
import { execute, historyText } from './install-actions.js'
import type { Parsed } from '../args.js'
import type { PublishedRelease } from '../../data-dir/index.js'
import type { Command } from '../run.js'

const HELP = `umesh update version [--package P] [--detailed] [--json]
    the installed version of each package (detailed: versions on disk, pending install, install root, update available)
umesh update status [--package P] [--json]
    what each package is doing: state, pending install, progress, last error, the last history entry
umesh update upgrade [--package P] (--latest | --stable | --to V) [--dry-run] [--force]
    install a held release: dependencies first, then stage, rollback point, migrations, switch, activate, health check;
    an unhealthy version is rolled back. Without --force a downgrade, a move to a less stable channel or a
    skip over a release marked as a required step is refused
umesh update downgrade [--package P] --to V [--dry-run] [--force]
umesh update rollback [--package P] [--update-id ID]
    undo the install in effect: switch back, run its migrations down, restore its rollback point, re-activate
umesh update history [--package P] [--limit N] [--json]
    every install, rollback and failure with id, versions, times, outcome and reason
umesh update check [--data-dir DIR] [--json]
    followed packages: the version held, the newest per channel, and the update available on the followed channel
umesh update changelog [--data-dir DIR] [--package P] [--version V | --since V] [--format text|json|markdown]
    changelogs of the releases this node has verified indexes for (every version of a followed package)`

const ACTIONS = ['check', 'changelog', 'version', 'status', 'upgrade', 'downgrade', 'rollback', 'history']

async function installAction (action: string, args: Parsed): Promise<number> {
  const o = args.own
  const request = {
    op: action,
    args: {
      package: o.package,
      to: o.to,
      latest: o.latest,
      stable: o.stable,
      dryRun: o['dry-run'],
      force: o.force,
      updateId: o['update-id'],
      limit: o.limit == null ? undefined : Number(o.limit),
      detailed: o.detailed
    }
  }
  const json = o.json === true
  const say = (line: string): void => { if (!json) process.stdout.write(`${line}\n`) }
  const value: any = await execute(args, request, say)
  if (json) {
    process.stdout.write(JSON.stringify(value) + '\n')
    return 0
  }
  switch (action) {
    case 'version':
      for (const p of value) {
        process.stdout.write(o.detailed === true
          ? `${p.package} ${p.current ?? '(not installed)'}\n  on disk: ${p.versions.join(', ') || '-'}\n  pending: ${p.pending || '-'}\n  state: ${p.state}\n  install root: ${p.installRoot}\n  following: ${p.followed ?? '-'}; update available: ${p.available ?? '-'}; autoUpdate ${p.autoUpdate ? 'on' : 'off'}\n`
          : `${p.package} ${p.current ?? '(not installed)'}\n`)
      }
      break
    case 'status':
      for (const p of value) {
        process.stdout.write(`${p.package}: ${p.state}, current ${p.current ?? '-'}${p.pending !== '' ? `, installing ${p.pending}` : ''}${p.available != null ? `, update available ${p.available}` : ''}\n`)
        if (p.journalPending != null) process.stdout.write(`  interrupted install of ${p.journalPending.to} at ${p.journalPending.undo != null ? `undo:${p.journalPending.undo.step}` : p.journalPending.step}; the next install or daemon start finishes or undoes it\n`)
        if (p.lastError !== '') process.stdout.write(`  last error: ${p.lastError}\n`)
        if (p.last != null) process.stdout.write(`  last: ${p.last.kind} ${p.last.from ?? '-'} -> ${p.last.to} ${p.last.outcome} at ${p.last.finishedAt}${p.last.reason !== '' ? ` (${p.last.reason})` : ''}\n`)
      }
      break
    case 'history':
      process.stdout.write(historyText(value))
      break
    case 'rollback':
      process.stdout.write(`rolled back ${value.package}: ${value.from} -> ${value.to} (update ${value.id})\n`)
      break
    default:
      for (const r of value) {
        if (r.dryRun === true) continue
        process.stdout.write(`${r.entry.package} ${r.entry.to} installed (update ${r.entry.id})\n`)
      }
  }
  return 0
}

function newest (releases: PublishedRelease[], channel: (typeof CHANNELS)[number]): PublishedRelease | undefined {
  return releases.filter(r => channelSees(channel, r.channel)).at(-1)
}

export const command: Command = {
  run: async (argv) => {
    const args = parse('update', argv, {
      package: { type: 'string' },
      version: { type: 'string' },
      since: { type: 'string' },
      format: { type: 'string' },
      json: { type: 'boolean' },
      config: { type: 'string' },
      to: { type: 'string' },
      latest: { type: 'boolean' },
      stable: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      force: { type: 'boolean' },
      'update-id': { type: 'string' },
      limit: { type: 'string' },
      detailed: { type: 'boolean' }
    }, ['dataDir'])
    if (args.own.help === true) {
      process.stdout.write(HELP + '\n')
      return 0
    }
    const [action, ...extra] = args.positionals
    if (!ACTIONS.includes(action ?? '') || extra.length > 0) {
      throw new UsageError(`expected "update ${ACTIONS.join('|')}", found "update ${args.positionals.join(' ')}"; see: umesh update --help`)
    }
    if (!['check', 'changelog'].includes(action)) return await installAction(action, args)
    const paths = dataPaths(resolveDataDir({ flags: args.node, env: process.env }))
    const state = readLocalState(paths)
    const packages = [...new Set([...state.follow.map(f => f.package), ...state.releases.map(r => r.package)])]
      .filter(p => args.own.package == null || p === args.own.package)

    if (action === 'check') {
      const rows = packages.map(pkg => {
        const releases = state.releases.filter(r => r.package === pkg)
        const followed = state.follow.find(f => f.package === pkg)
        const held = releases.filter(r => r.held).at(-1)
        const target = followed != null ? newest(releases, followed.channel) : undefined
        return {
          package: pkg,
          followed: followed?.channel ?? null,
          held: held?.version ?? null,
          newest: Object.fromEntries(CHANNELS.map(c => [c, newest(releases, c)?.version ?? null])),
          update: target != null && target.version !== held?.version && (held == null || compareVersions(target.scheme, target.version, held.version) > 0) ? target.version : null
        }
      })
      const stale = state.timestampExpires != null && Date.parse(state.timestampExpires) < Date.now()
      if (args.own.json === true) {
        process.stdout.write(JSON.stringify({ timestampVersion: state.timestampVersion, stale, packages: rows }) + '\n')
        return 0
      }
      process.stdout.write(`trusted timestamp v${state.timestampVersion}${stale ? ' (STALE: expired; the node could not refresh it)' : ''}\n`)
      for (const r of rows) {
        process.stdout.write(`${r.package}: ${r.followed != null ? `following ${r.followed}` : 'not followed'}, held ${r.held ?? 'nothing'}; newest ${CHANNELS.map(c => `${c} ${r.newest[c] ?? '-'}`).join(', ')}${r.update != null ? `; update available: ${r.update}` : ''}\n`)
      }
      return 0
    }

    const format = (args.own.format as string | undefined) ?? 'text'
    if (!['text', 'json', 'markdown'].includes(format)) throw new UsageError(`--format: expected text, json or markdown, found "${format}"`)
    if (args.own.version != null && args.own.since != null) throw new UsageError('give --version V or --since V, not both')
    const entries: Array<{ package: string, version: string, channel: string, created: string, changelog: string | null }> = []
    for (const pkg of packages) {
      for (const r of state.releases.filter(x => x.package === pkg)) {
        if (args.own.version != null && r.version !== args.own.version) continue
        if (args.own.since != null && compareVersions(r.scheme, r.version, parseVersion(r.scheme, args.own.since as string)) <= 0) continue
        entries.push({ package: pkg, version: r.version, channel: r.channel, created: r.created, changelog: readLocalIndex(paths, r)?.changelog ?? null })
      }
    }
    if (format === 'json') {
      process.stdout.write(JSON.stringify(entries) + '\n')
    } else {
      for (const e of entries.reverse()) {
        const text = e.changelog ?? '(index not downloaded: this node does not follow the package)'
        process.stdout.write(format === 'markdown'
          ? `## ${e.package} ${e.version} (${e.channel}, ${e.created.slice(0, 10)})\n\n${text.trim()}\n\n`
          : `${e.package} ${e.version} (${e.channel}, ${e.created})\n${text.trim().split('\n').map(l => `  ${l}`).join('\n')}\n\n`)
      }
    }
    return 0
  }
}
