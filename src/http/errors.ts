/**
 * Every error the HTTP listener sends is JSON: `{"error": what was wrong and
 * what to do, "status": the HTTP status, "field": the request field at
 * fault, when one is}`. The framework's own errors (a body that is not
 * JSON, a field of the wrong type, a body over the cap) are mapped to the
 * same shape, naming the field.
 */
import { ConfigError, UmeshError, UsageError } from '../errors.js'
import { ReleaseSourceError, UnsafeTreeError } from '../release/index.js'
import { NoRolloutError, RolloutConflictError } from '../rollout/index.js'
import { RolloutSpecError } from '../rollout/document.js'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'

export class HttpError extends Error {
  constructor (readonly status: number, message: string, readonly field?: string, readonly headers: Record<string, string> = {}) {
    super(message)
  }
}

export interface ErrorBody {
  error: string
  status: number
  field?: string
}

interface AjvError { instancePath?: string, keyword?: string, message?: string, params?: Record<string, unknown> }

/** a schema validation failure as one sentence naming the field */
export function validationError (context: string, errors: AjvError[]): HttpError {
  const e = errors[0] ?? {}
  const path = (e.instancePath ?? '').split('/').filter(s => s !== '').join('.')
  const base = path === '' ? context : `${context}.${path}`
  if (e.keyword === 'required') {
    const field = `${base}.${String(e.params?.missingProperty)}`
    return new HttpError(400, `${field} is required`, field)
  }
  if (e.keyword === 'additionalProperties') {
    const field = `${base}.${String(e.params?.additionalProperty)}`
    return new HttpError(400, `${field} is not a field this route takes; see /api/v1/openapi.json`, field)
  }
  if (e.keyword === 'type') return new HttpError(400, `${base}: expected ${String(e.params?.type)}`, base)
  if (e.keyword === 'enum') return new HttpError(400, `${base}: expected one of ${(e.params?.allowedValues as unknown[] ?? []).join(', ')}`, base)
  return new HttpError(400, `${base}: ${e.message ?? 'invalid'}`, base)
}

/**
 * What an error thrown by a route or the framework becomes. `where` is
 * where the route takes its options (body for JSON, querystring for an
 * upload), for naming the field of a CLI option's own check.
 */
export function toHttpError (err: unknown, where: 'body' | 'querystring' = 'body'): HttpError {
  if (err instanceof HttpError) return err
  const fe = err as FastifyError & { validationContext?: string }
  if (Array.isArray(fe?.validation)) return validationError(fe.validationContext ?? 'body', fe.validation as AjvError[])
  if (fe?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (fe?.statusCode === 400 && err instanceof SyntaxError)) {
    return new HttpError(400, `body: not valid JSON (${fe.message}); send a JSON object with Content-Type application/json`, 'body')
  }
  if (fe?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new HttpError(400, 'body: empty; send a JSON object (at least {})', 'body')
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new HttpError(413, `body: larger than this route accepts (${fe.message})`, 'body')
  if (fe?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new HttpError(415, `Content-Type: ${fe.message}; see /api/v1/openapi.json for what this route takes`, 'Content-Type')
  if (err instanceof RolloutConflictError) return new HttpError(409, err.message)
  if (err instanceof NoRolloutError) return new HttpError(404, err.message)
  if (err instanceof ConfigError) return new HttpError(400, err.message, err.field)
  // an archive that breaks a tree rule (a path leaving its folder, a link, a device) is a bad body
  if (err instanceof UnsafeTreeError || err instanceof ReleaseSourceError) return new HttpError(400, err.message.replace(/\/tmp\/umesh-upload-[^/ ]+\/release\.(tar\.gz|tar)/g, 'the uploaded archive'), 'body')
  // the CLI's option checks name the flag (--waves, --requires ...): the API names the same field
  const option = err instanceof UmeshError ? /^--([a-z][a-z-]*)\b/.exec(err.message) : null
  if (option != null || err instanceof RolloutSpecError) {
    const name = option == null ? undefined : `${where}.${option[1].replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())}`
    return new HttpError(400, (err as Error).message, name)
  }
  if (err instanceof UsageError || err instanceof UmeshError) return new HttpError(err instanceof UsageError ? 400 : 422, err.message)
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return new HttpError(fe.statusCode, fe.message)
  return new HttpError(500, 'internal error; the daemon log has the details')
}

export function sendError (reply: FastifyReply, err: HttpError): FastifyReply {
  const body: ErrorBody = { error: err.message, status: err.status }
  if (err.field != null) body.field = err.field
  for (const [k, v] of Object.entries(err.headers)) void reply.header(k, v)
  return reply.code(err.status).type('application/json; charset=utf-8').send(body)
}

/** the framework's error handler: JSON errors; 5xx logged without the request's headers */
export function errorHandler (log: (message: string) => void) {
  return (err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const mapped = toHttpError(err, request.method === 'POST' && !(request.headers['content-type'] ?? '').includes('json') ? 'querystring' : 'body')
    if (mapped.status >= 500) log(`${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]} failed: ${(err as Error)?.stack ?? String(err)}`)
    return sendError(reply, mapped)
  }
}
