/**
 * /api/v1/events: Server-Sent Events. `rollout` for every rollout event the
 * coordinator records (started, wave-opened, gate-passed, node-failed,
 * halted, rolled-back, completed, paused, resumed), `report` for every
 * node report it accepts, `changed` for an operator's change through the
 * API. A comment every 15 s keeps proxies from closing the stream. At most
 * 32 clients at once; a client that stops reading (over 1 MiB queued) is
 * dropped rather than held in memory.
 */
import type { FastifyInstance } from 'fastify'
import type { RouteContext } from '../context.js'

export const MAX_EVENT_CLIENTS = 32
const KEEPALIVE_MS = 15_000
const MAX_QUEUED_BYTES = 1024 * 1024

export function eventRoutes (app: FastifyInstance, ctx: RouteContext): void {
  let clients = 0
  app.get('/api/v1/events', {
    config: { doc: { summary: 'a Server-Sent Events stream: rollout events, node reports, operators\' changes', description: 'Events: `rollout` {at, rolloutId, event, detail, package, version, wave?, peerId?, reason?}; `report` (a node report the coordinator accepted); `changed` {package, what}. EventSource cannot send a header: read it with fetch() and the Authorization header.', tags: ['events'], role: 'read', produces: 'text/event-stream', responses: { 200: 'the stream', 401: 'no or an unknown token', 404: 'not a coordinator', 503: `${MAX_EVENT_CLIENTS} clients already` } } }
  }, async (request, reply) => {
    const m = ctx.manage()
    if (clients >= MAX_EVENT_CLIENTS) return await reply.code(503).header('retry-after', '10').send({ error: `${MAX_EVENT_CLIENTS} event-stream clients are connected, the most this daemon serves; try again later`, status: 503 })
    clients++
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', connection: 'keep-alive' })
    res.write('retry: 2000\n\n')
    let closed = false
    const send = (event: string, data: unknown): void => {
      if (closed) return
      if (res.writableLength > MAX_QUEUED_BYTES) {
        close()
        return
      }
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    }
    const onRollout = (e: unknown): void => { send('rollout', e) }
    const onReport = (r: unknown): void => { send('report', r) }
    const onChanged = (c: unknown): void => { send('changed', c) }
    const keepalive = setInterval(() => { if (!closed) res.write(': keepalive\n\n') }, KEEPALIVE_MS)
    keepalive.unref()
    const close = (): void => {
      if (closed) return
      closed = true
      clients--
      clearInterval(keepalive)
      m.coordinator.off('rollout', onRollout)
      m.coordinator.off('report', onReport)
      ctx.changed.off('changed', onChanged)
      res.end()
    }
    m.coordinator.on('rollout', onRollout)
    m.coordinator.on('report', onReport)
    ctx.changed.on('changed', onChanged)
    const signal = ctx.closing.signal
    if (signal.aborted) close()
    signal.addEventListener('abort', close, { once: true })
    request.raw.once('close', () => { signal.removeEventListener('abort', close); close() })
    res.once('error', close)
  })
}
