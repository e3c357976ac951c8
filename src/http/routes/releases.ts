/**
 * /api/v1/releases: list, and add a release by uploading its .tar.gz or
 * .tar as the raw body with `release add`'s options in the query. The
 * upload streams to a private temporary file (never into the repository)
 * and is cut off with 413 at the size cap; then the same checks and
 * signing as `umesh release add` run on it. One add at a time, recorded in
 * the repository's audit log as the token's name.
 */
import { closeSync, createWriteStream, mkdtempSync, openSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { addReleaseAs, addedJson, listReleases, releaseAddOptions } from '../../release/index.js'
import { Repository } from '../../trust/repository.js'
import { HttpError } from '../errors.js'
import type { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { operatorOf } from '../context.js'
import type { RouteContext } from '../context.js'

const ARCHIVE_TYPES: Record<string, string> = {
  'application/gzip': 'tar.gz',
  'application/x-gzip': 'tar.gz',
  'application/x-tar': 'tar',
  'application/octet-stream': 'sniff'
}

const list = { anyOf: [{ type: 'string', maxLength: 256 }, { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 256 } }] }
const flag = { type: 'string', enum: ['true', 'false'] }

const ADD_QUERY = {
  type: 'object',
  required: ['package', 'version'],
  additionalProperties: false,
  properties: {
    package: { type: 'string', maxLength: 64, description: 'the package name' },
    version: { type: 'string', maxLength: 64, description: 'the version, in the package\'s scheme' },
    channel: { type: 'string', enum: ['alpha', 'beta', 'stable'], description: 'must agree with the version' },
    scheme: { type: 'string', enum: ['semver', 'abr'], description: 'for a package\'s first release' },
    changelog: { type: 'string', maxLength: 8 * 1024, description: 'the changelog text, at most 8 KiB (the request line must fit in 16 KiB); a longer one: umesh release add --changelog FILE' },
    requires: { ...list, description: '"PKG RANGE", repeatable' },
    conflicts: { ...list, description: '"PKG RANGE", repeatable' },
    requiredStep: { ...flag, description: 'upgrades may not skip over this release' },
    critical: { ...flag, description: 'may bypass maintenance windows' }
  }
}

function asList (v: unknown): string[] | undefined {
  return v == null ? undefined : Array.isArray(v) ? v as string[] : [v as string]
}

/** copies the upload to `file`, failing with 413 past `max` bytes */
async function receive (body: Readable, file: string, max: number): Promise<number> {
  let seen = 0
  const cap = new Transform({
    transform (chunk: Buffer, _enc, done) {
      seen += chunk.length
      if (seen > max) done(new HttpError(413, `body: the archive is larger than ${max} bytes, the cap (--http-max-upload); nothing was written`, 'body', { connection: 'close' }))
      else done(null, chunk)
    }
  })
  await pipeline(body, cap, createWriteStream(file, { mode: 0o600 }))
  return seen
}

export function releaseRoutes (app: FastifyInstance, ctx: RouteContext): void {
  app.addContentTypeParser(Object.keys(ARCHIVE_TYPES), (_request, payload, done) => { done(null, payload) })
  let adding = Promise.resolve()

  app.get('/api/v1/releases', {
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { package: { type: 'string', maxLength: 64 } } } },
    config: { doc: { summary: 'what is published, oldest first per package (`umesh release list --json`)', tags: ['releases'], role: 'read', responses: { 200: '[{package, version, channel, scheme, totalSize, created, targetPath}]', 401: 'no or an unknown token', 404: 'not a coordinator' } } }
  }, async (request) => listReleases(Repository.open(ctx.manage().repoDir), (request.query as any).package))

  app.post('/api/v1/releases', {
    schema: { querystring: ADD_QUERY },
    bodyLimit: Number.MAX_SAFE_INTEGER,
    config: {
      doc: {
        summary: 'publish a release: the archive as the body, `umesh release add`\'s options in the query; checked, chunked and signed the same way',
        tags: ['releases'],
        role: 'operate',
        rawBody: { 'application/gzip': 'a .tar.gz of the release tree', 'application/x-tar': 'a .tar of the release tree', 'application/octet-stream': 'either, told apart by its first bytes' },
        responses: { 201: 'what `umesh release add --json` prints', 400: 'a field is wrong (named in "field"), or the archive breaks a tree rule (a path escaping its folder, a link, ...)', 401: 'no or an unknown token', 403: 'a read token', 413: 'the archive is over --http-max-upload', 415: 'not an archive content type', 422: 'refused: the version exists, the scheme differs, ...' }
      }
    }
  }, async (request, reply) => {
    const m = ctx.manage()
    const q = request.query as Record<string, unknown>
    const declared = Number(request.headers['content-length'] ?? NaN)
    if (declared > ctx.init.maxUpload) throw new HttpError(413, `body: the archive is ${declared} bytes, over the cap of ${ctx.init.maxUpload} (--http-max-upload); nothing was written`, 'body', { connection: 'close' })
    const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
    const kind = ARCHIVE_TYPES[type]
    if (kind == null) throw new HttpError(415, `Content-Type: expected ${Object.keys(ARCHIVE_TYPES).join(', ')} (the release archive as the body), found "${type}"`, 'Content-Type')
    const options = releaseAddOptions({
      package: q.package as string,
      version: q.version as string,
      channel: q.channel as string | undefined,
      scheme: q.scheme as string | undefined,
      requires: asList(q.requires),
      conflicts: asList(q.conflicts),
      requiredStep: q.requiredStep === 'true',
      critical: q.critical === 'true'
    })
    const dir = mkdtempSync(join(tmpdir(), 'umesh-upload-'))
    try {
      const raw = join(dir, 'upload')
      const size = await receive(request.body as Readable, raw, ctx.init.maxUpload)
      if (size === 0) throw new HttpError(400, 'body: empty; send the release as a .tar.gz or .tar', 'body')
      let ext = kind
      if (ext === 'sniff') {
        const fd = openSync(raw, 'r')
        const head = Buffer.alloc(2)
        readSync(fd, head, 0, 2, 0)
        closeSync(fd)
        ext = head[0] === 0x1f && head[1] === 0x8b ? 'tar.gz' : 'tar'
      }
      const archive = join(dir, `release.${ext}`)
      renameSync(raw, archive)
      if (typeof q.changelog === 'string') {
        options.changelogFile = join(dir, 'CHANGELOG')
        writeFileSync(options.changelogFile, q.changelog)
      }
      const who = operatorOf(request)
      const run = adding.then(async () => await addReleaseAs(Repository.open(m.repoDir), archive, options, who))
      adding = run.then(() => {}, () => {})
      const added = await run
      ctx.changed.emit('changed', { package: added.index.package, what: `release ${added.index.version} added` })
      return await reply.code(201).send(addedJson(added))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
}
