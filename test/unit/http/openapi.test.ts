/**
 * The OpenAPI document is built from the routes: a route without its doc
 * is refused, path parameters and schemas come through.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { openApiDocument, routeDoc } from '../../../src/http/openapi.js'

describe('the OpenAPI document', () => {
  it('refuses a route with no doc', () => {
    assert.throws(() => routeDoc({ method: 'GET', url: '/x', handler: () => {} } as any), /route GET \/x has no config\.doc/)
  })

  it('turns :params into {params}, carries schemas, roles and error responses', () => {
    const routes = routeDoc({
      method: ['POST', 'HEAD'],
      url: '/api/v1/rollouts/:package/halt',
      handler: () => {},
      schema: { params: { type: 'object', properties: { package: { type: 'string' } } }, body: { type: 'object', properties: { rollback: { type: 'boolean' } } } },
      config: { doc: { summary: 'halt it', tags: ['rollouts'], role: 'operate', responses: { 200: 'ok', 409: 'conflict' } } }
    } as any)
    assert.equal(routes.length, 1, 'HEAD is left out')
    const doc: any = openApiDocument(routes)
    const op = doc.paths['/api/v1/rollouts/{package}/halt'].post
    assert.equal(op.summary, 'halt it')
    assert.deepEqual(op.parameters, [{ name: 'package', in: 'path', required: true, schema: { type: 'string' } }])
    assert.equal(op.requestBody.content['application/json'].schema.properties.rollback.type, 'boolean')
    assert.deepEqual(op.security, [{ bearer: [] }])
    assert.equal(op['x-umesh-role'], 'operate')
    assert.equal(op.responses[409].content['application/json'].schema.$ref, '#/components/schemas/Error')
  })
})
