/**
 * The record of who changed what: GET /api/v1/rollout-history (every
 * rollout of the repository, as `umesh rollout history --json` prints it)
 * and GET /api/v1/audit (the audit log's entries, as `umesh audit --json`;
 * with verify=true its check, as `umesh audit --verify --json`). Read-only;
 * the same functions the CLI calls.
 */
import { readAuditLog, sinceTime, verifyAuditLog } from '../../audit/index.js'
import { auditExpectations, historyJson, rolloutHistory } from '../../rollout/index.js'
import { Repository } from '../../trust/repository.js'
import { HttpError } from '../errors.js'
import type { FastifyInstance } from 'fastify'
import type { RouteContext } from '../context.js'

/** entries one answer holds at most: the newest */
export const MAX_AUDIT_ENTRIES = 10_000

export function auditRoutes (app: FastifyInstance, ctx: RouteContext): void {
  app.get('/api/v1/rollout-history', {
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { package: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$', description: 'only this package\'s rollouts' } } } },
    config: { doc: { summary: 'every rollout with its outcome, times and who started and last changed it (`umesh rollout history --json`)', tags: ['rollouts'], role: 'read', responses: { 200: '[{...the signed rollout document, outcome, current, startedBy, changedBy}], oldest first', 401: 'no or an unknown token', 404: 'not a coordinator' } } }
  }, async (request) => {
    const m = ctx.manage()
    const pkg = (request.query as { package?: string }).package
    return rolloutHistory(Repository.open(m.repoDir), pkg).map(historyJson)
  })

  app.get('/api/v1/audit', {
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          since: { type: 'string', maxLength: 64, description: 'an ISO date (2026-12-01, 2026-12-01T08:00:00Z) or a time ago (90m, 12h, 7d)' },
          verify: { type: 'string', enum: ['true', 'false'], description: 'check the whole log: signatures, order, the chain and what the signed metadata says it must hold' }
        }
      }
    },
    config: { doc: { summary: 'the audit log: each operator action on releases and rollouts, signed and chained (`umesh audit --json`, `--verify`)', tags: ['audit'], role: 'read', responses: { 200: `[{time, action, args, result, actor, via, ...}] (the newest ${MAX_AUDIT_ENTRIES} at most); with verify=true {ok, file, entries, first, last, problem}`, 400: 'since is not a date or a time ago, or since with verify', 401: 'no or an unknown token', 404: 'not a coordinator' } } }
  }, async (request) => {
    const m = ctx.manage()
    const q = request.query as { since?: string, verify?: 'true' | 'false' }
    Repository.open(m.repoDir)
    if (q.verify === 'true') {
      if (q.since != null) throw new HttpError(400, 'verify checks the whole log from its first entry; drop since', 'since')
      const result = verifyAuditLog(m.repoDir, auditExpectations(Repository.open(m.repoDir)))
      return { ok: result.problem == null, ...result }
    }
    let since: Date | undefined
    if (q.since != null) {
      try {
        since = sinceTime(q.since)
      } catch (err) {
        throw new HttpError(400, (err as Error).message.replace(/^--since/, 'since'), 'since')
      }
    }
    return readAuditLog(m.repoDir, since).slice(-MAX_AUDIT_ENTRIES)
  })
}
