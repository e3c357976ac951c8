/**
 * umesh update check | changelog: what a node follows, holds and could
 * update to, and the changelogs of the releases it knows, read from its
 * data dir (whether or not its daemon runs).
 */
import { resolveDataDir } from '../../config/index.js'
import { UsageError } from '../../errors.js'
import { readLocalIndex, readLocalState } from '../../follow/local-state.js'
import { CHANNELS, channelSees, compareVersions, parseVersion } from '../../release/index.js'
import { parse } from '../args.js'
import type { PublishedRelease } from '../../follow/local-state.js'
import type { Command } from '../run.js'

const HELP = `umesh update check [--data-dir DIR] [--json]
    followed packages: the version held, the newest per channel, and the update available on the followed channel
umesh update changelog [--data-dir DIR] [--package P] [--version V | --since V] [--format text|json|markdown]
    changelogs of the releases this node has verified indexes for (every version of a followed package)`

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
      json: { type: 'boolean' }
    }, ['dataDir'])
    if (args.own.help === true) {
      process.stdout.write(HELP + '\n')
      return 0
    }
    const [action, ...extra] = args.positionals
    if (!['check', 'changelog'].includes(action ?? '') || extra.length > 0) {
      throw new UsageError(`expected "update check" or "update changelog", found "update ${args.positionals.join(' ')}"; see: umesh update --help`)
    }
    const dataDir = resolveDataDir({ flags: args.node, env: process.env })
    const state = readLocalState(dataDir)
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
        entries.push({ package: pkg, version: r.version, channel: r.channel, created: r.created, changelog: readLocalIndex(dataDir, r)?.changelog ?? null })
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
