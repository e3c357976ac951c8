/**
 * umesh audit: the repository's audit log of operator actions (release add
 * and publish, rollout start, promote, pause, resume, halt, from the CLI or
 * the HTTP API), and --verify, which checks every entry's signature, place
 * and link to the one before, and exits 1 naming the first that fails.
 */
import { existsSync } from 'node:fs'
import { auditLogFile, describeProblem, readAuditLog, sinceTime, verifyAuditLog } from '../../audit/index.js'
import { UsageError } from '../../errors.js'
import { auditExpectations } from '../../rollout/history.js'
import { Repository } from '../../trust/repository.js'
import { parse } from '../args.js'
import { table } from './install-actions.js'
import type { AuditEntry } from '../../audit/index.js'
import type { Command } from '../run.js'

const HELP = `umesh audit --repo DIR [--since T] [--json]
    who did what to the repository, oldest first: time, actor (--actor, UMESH_ACTOR or the OS user;
    through the HTTP API the token's name), how (cli or api), action, its arguments and result, and the
    key that signed it. --since: an ISO date (2026-12-01, 2026-12-01T08:00:00Z) or a time ago (90m, 12h, 7d)
umesh audit --repo DIR --verify [--json]
    check every entry from the first: signed by a key the repository's metadata gives its role, in its
    place (seq), linked to the entry before (sha256), not older than it; then that every action the
    repository's signed metadata records has its entry (a rollout an operator started or changed last, a
    release added since the log began), so entries cut from the end are found too. Exits 1 naming the
    first entry that fails and why (bad signature, chain broken, out of order, malformed, missing)`

function summary (values: Record<string, unknown>): string {
  return Object.entries(values)
    .filter(([, v]) => v != null && v !== false && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ')
}

function entriesText (entries: AuditEntry[]): string {
  if (entries.length === 0) return 'no audit entries\n'
  return table(['seq', 'time', 'actor', 'via', 'action', 'arguments', 'result', 'key'],
    entries.map(e => [String(e.seq), e.time, e.actor, e.via, e.action, summary(e.args).slice(0, 120), summary(e.result).slice(0, 80), `${e.role} ${e.keyid.slice(0, 12)}`]))
}

export const command: Command = {
  run: async (argv) => {
    const args = parse('audit', argv, {
      repo: { type: 'string' },
      since: { type: 'string' },
      verify: { type: 'boolean' },
      json: { type: 'boolean' }
    }, false)
    const o = args.own
    if (o.help === true) {
      process.stdout.write(HELP + '\n')
      return 0
    }
    if (args.positionals.length > 0) throw new UsageError(`umesh audit takes no positional arguments, found "${args.positionals.join(' ')}"; see: umesh audit --help`)
    if (typeof o.repo !== 'string') throw new UsageError('--repo DIR is required: the release repository whose audit log to read')
    const repo = Repository.open(o.repo) // says clearly when DIR is not a repository
    if (o.verify === true) {
      if (o.since != null) throw new UsageError('--verify checks the whole log from its first entry; drop --since')
      const result = verifyAuditLog(o.repo, auditExpectations(repo))
      if (o.json === true) {
        process.stdout.write(JSON.stringify({ ok: result.problem == null, ...result }) + '\n')
      } else if (result.problem == null) {
        process.stdout.write(result.entries === 0
          ? `${result.file}: no entries${existsSync(auditLogFile(o.repo)) ? '' : ' (no log yet)'}\n`
          : `${result.file}: ${result.entries} entries, signatures, order and chain valid (${result.first ?? '?'} to ${result.last ?? '?'})\n`)
      } else {
        process.stdout.write(`${result.file}: ${describeProblem(result.problem)}\n`)
      }
      return result.problem == null ? 0 : 1
    }
    const entries = readAuditLog(o.repo, typeof o.since === 'string' ? sinceTime(o.since) : undefined)
    process.stdout.write(o.json === true ? JSON.stringify(entries) + '\n' : entriesText(entries))
    return 0
  }
}
