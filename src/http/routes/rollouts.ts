/**
 * /api/v1/rollouts: start one (the CLI's options as JSON), read each, and
 * steer one (promote, pause, resume, halt with rollback): the same
 * functions `umesh rollout` calls, signing into the repository. Two starts
 * at once for a package: the repository lock orders them, the second finds
 * the first running and gets 409. Each change is recorded in the audit log
 * and the rollout's history as the token's name.
 */
import { beginRollout, listRollouts, readRollout, rolloutView, steerRollout, STEER_ACTIONS } from '../../rollout/index.js'
import { Repository } from '../../trust/repository.js'
import { HttpError } from '../errors.js'
import type { FastifyInstance } from 'fastify'
import { operatorOf } from '../context.js'
import type { Management, RouteContext } from '../context.js'
import type { SteerAction } from '../../rollout/index.js'
import type { RolloutDocument } from '../../rollout/types.js'

const PACKAGE = { type: 'object', required: ['package'], additionalProperties: false, properties: { package: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$', description: 'the package' } } }

const START_BODY = {
  type: 'object',
  required: ['package', 'version'],
  additionalProperties: false,
  properties: {
    package: { type: 'string', maxLength: 64 },
    version: { type: 'string', maxLength: 64 },
    waves: { type: 'string', maxLength: 512, description: 'e.g. "canary:1,10%,50%,100%" (the default)' },
    gate: { type: 'string', maxLength: 256, description: 'e.g. "success>=0.95,soak=60s" (the default)' },
    abort: { type: 'string', maxLength: 256, description: 'e.g. "failures>=0.1" (the default)' },
    maxParallel: { type: 'integer', minimum: 1, maximum: 10_000, description: 'nodes installing at once per wave (default 1)' },
    manual: { type: 'boolean', description: 'each wave after the first waits for promote' },
    allowDowngrade: { type: 'boolean' },
    critical: { type: 'boolean', description: 'may bypass maintenance windows' },
    select: { type: 'string', maxLength: 1024, description: 'a label selector, e.g. "region=eu-west,hw in (revB,revC),!legacy": only matching nodes take part (refused, 422, when it matches no node the coordinator knows)' },
    allowEmpty: { type: 'boolean', description: 'sign a selector that matches no known node' }
  }
}

const VIEW = 'doc (the signed rollout document), waves [{name, open, nodes, healthy, failed, installing, pending, deferred, rolledBack}], nodes, events: what `umesh rollout status --json` prints'

function view (m: Management, doc: RolloutDocument): ReturnType<typeof rolloutView> {
  return rolloutView(m.coordinator.book, doc, m.coordinator.eventsOf(doc.id))
}

export function rolloutRoutes (app: FastifyInstance, ctx: RouteContext): void {
  app.get('/api/v1/rollouts', {
    config: { doc: { summary: 'every package\'s rollout with its waves, nodes and events', tags: ['rollouts'], role: 'read', responses: { 200: `[{${VIEW}}]`, 401: 'no or an unknown token', 404: 'not a coordinator' } } }
  }, async () => {
    const m = ctx.manage()
    return listRollouts(Repository.open(m.repoDir)).map(doc => view(m, doc))
  })

  app.post('/api/v1/rollouts', {
    schema: { body: START_BODY },
    config: { doc: { summary: 'start a rollout of a signed release in waves (`umesh rollout start`)', tags: ['rollouts'], role: 'operate', responses: { 201: 'the signed rollout document', 400: 'a field is wrong (named in "field")', 401: 'no or an unknown token', 403: 'a read token', 409: 'a rollout of the package is running or paused', 422: 'the version is not a signed release, or a downgrade without allowDowngrade' } } }
  }, async (request, reply) => {
    const m = ctx.manage()
    const doc = beginRollout(Repository.open(m.repoDir), request.body as any, operatorOf(request))
    ctx.changed.emit('changed', { package: doc.package, what: `rollout ${doc.id} of ${doc.version} started` })
    return await reply.code(201).send(doc)
  })

  app.get('/api/v1/rollouts/:package', {
    schema: { params: PACKAGE },
    config: { doc: { summary: 'one package\'s rollout (`umesh rollout status --json`)', tags: ['rollouts'], role: 'read', responses: { 200: VIEW, 401: 'no or an unknown token', 404: 'no rollout of the package' } } }
  }, async (request) => {
    const m = ctx.manage()
    const pkg = (request.params as { package: string }).package
    const doc = readRollout(Repository.open(m.repoDir), pkg)
    if (doc == null) throw new HttpError(404, `no rollout of ${pkg}; start one with POST /api/v1/rollouts`)
    return view(m, doc)
  })

  for (const action of STEER_ACTIONS) {
    const what: Record<SteerAction, string> = {
      promote: 'open the next wave now (`umesh rollout promote`)',
      pause: 'nodes not yet installing wait (`umesh rollout pause`)',
      resume: 'continue a paused rollout (`umesh rollout resume`)',
      halt: 'stop the rollout; with {"rollback": true} every node that installed its version rolls back (`umesh rollout halt [--rollback]`)'
    }
    app.post(`/api/v1/rollouts/:package/${action}`, {
      schema: {
        params: PACKAGE,
        ...(action === 'halt' ? { body: { type: 'object', additionalProperties: false, properties: { rollback: { type: 'boolean', description: 'roll back every node that installed the version' } } } } : {})
      },
      config: { doc: { summary: what[action], tags: ['rollouts'], role: 'operate', responses: { 200: 'the re-signed rollout document', 400: 'a field is wrong', 401: 'no or an unknown token', 403: 'a read token', 404: 'no rollout of the package', 409: 'the rollout\'s state does not allow it (halted, completed, paused, last wave open)' } } }
    }, async (request) => {
      const m = ctx.manage()
      const pkg = (request.params as { package: string }).package
      const rollback = (request.body as { rollback?: boolean } | undefined)?.rollback === true
      const doc = steerRollout(Repository.open(m.repoDir), pkg, action, rollback, operatorOf(request))
      ctx.changed.emit('changed', { package: pkg, what: `${action}${rollback ? ' with rollback' : ''}` })
      return doc
    })
  }
}
