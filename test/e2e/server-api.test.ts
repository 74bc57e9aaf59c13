/**
 * The server's HTTP contract with real requests: discovery, versioning, workspaces, bad input.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestServer, type TestServer } from './support/server.ts'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await server.cleanup()
})

test('discover answers the version and access', async () => {
  const res = await server.get('/api/discover')
  expect(res.status).toBe(200)
  expect(res.body).toMatchObject({ api_version: '0.12', access: { workspaces: ['*'] }, project: 'default' })
  expect(res.body.version).toMatch(/^0\.12\./)
})

test('a different API version is a 409 with details, on every route', async () => {
  for (const path of ['/api/discover', '/topics/workspaces', '/logs?run=R']) {
    const res = await server.get(path, { 'x-api-version': '99.99' })
    expect(res.status).toBe(409)
    expect(res.body).toEqual({ error: 'version_mismatch', details: { server: expect.stringMatching(/^0\.12\./), expected: '99.99' }, message: 'version mismatch' })
  }
})

describe('workspaces', () => {
  test('create, list, hierarchy, rename, pause, archive', async () => {
    const prod = await server.api('create_workspace', { name: 'prod' })
    expect(prod.status).toBe(200)
    const dev = await server.api('create_workspace', { name: 'dev/alice', baseId: prod.body.id })
    expect(dev.status).toBe(200)
    const dup = await server.api('create_workspace', { name: 'prod' })
    expect(dup).toEqual({ status: 400, body: { error: 'bad_request', details: { name: 'exists' } } })
    const cycle = await server.api('update_workspace', { workspaceId: prod.body.id, baseId: dev.body.id })
    expect(cycle.body.details).toEqual({ baseId: 'invalid' })
    const self = await server.api('update_workspace', { workspaceId: prod.body.id, baseId: prod.body.id })
    expect(self.body.details).toEqual({ baseId: 'invalid' })
    expect((await server.api('update_workspace', { workspaceId: dev.body.id, name: 'dev/bob' })).status).toBe(204)
    expect((await server.api('pause_workspace', { workspaceId: dev.body.id })).status).toBe(204)
    const blocked = await server.api('archive_workspace', { workspaceId: prod.body.id })
    expect(blocked.body.details).toEqual({ workspaceId: 'has_dependencies' })
    const list = await server.get('/topics/workspaces')
    expect(list.body[dev.body.id]).toEqual({ name: 'dev/bob', baseId: prod.body.id, state: 'paused' })
    expect((await server.api('update_workspace', { workspaceId: dev.body.id, baseId: null })).status).toBe(204)
    expect((await server.api('archive_workspace', { workspaceId: prod.body.id })).status).toBe(204)
    expect((await server.get('/topics/workspaces')).body[prod.body.id].state).toBe('archived')
    expect((await server.api('pause_workspace', { workspaceId: prod.body.id })).status).toBe(404)
    // an archived name can be reused
    expect((await server.api('create_workspace', { name: 'prod' })).status).toBe(200)
  })

  test('invalid names are refused', async () => {
    for (const name of ['', 'has space', 'a//b', 'x'.repeat(101)]) {
      const res = await server.api('create_workspace', { name })
      expect(res.status).toBe(400)
      expect(res.body.details).toEqual({ name: 'invalid' })
    }
  })
})

describe('bad input gets a clear 4xx, never a crash', () => {
  test('malformed JSON body', async () => {
    const res = await server.api('create_workspace', '{"name": ')
    expect(res).toEqual({ status: 400, body: { error: 'bad_request', details: 'invalid_json', message: 'invalid JSON body' } })
  })

  test('a body is JSON whatever its content type (curl -d sends a form type), and must be an object', async () => {
    const post = (body: string, type: string) => fetch(`${server.url}/api/create_workspace`, { method: 'POST', body, headers: { 'content-type': type } })
    expect((await post('{"name": "form-typed"}', 'application/x-www-form-urlencoded')).status).toBe(200)
    expect((await post('{"name": "text-typed"}', 'text/plain')).status).toBe(200)
    const list = await post('[{"name": "x"}]', 'application/json')
    expect({ status: list.status, body: await list.json() }).toEqual({
      status: 400,
      body: { error: 'bad_request', details: 'invalid_json', message: 'body must be a JSON object' },
    })
    const empty = await server.api('create_workspace', '')
    expect(empty).toEqual({ status: 400, body: { error: 'bad_request', details: { name: 'required' } } })
  })

  test('submit with bad arguments lists every bad index', async () => {
    const ws = (await server.api('create_workspace', { name: 'bad-input' })).body.id
    const res = await server.api('submit_workflow', {
      workspaceId: ws,
      module: 'flows',
      target: 'main',
      arguments: [['json', '1'], ['json', '{nope'], 'plain', ['json', '[1,']],
    })
    expect(res.status).toBe(400)
    expect(res.body.details).toEqual({ 'arguments.1': 'not_json', 'arguments.2': 'invalid', 'arguments.3': 'not_json' })
    const badTarget = await server.api('submit_workflow', { workspaceId: ws, module: 'flows', target: 'not a name', arguments: [] })
    expect(badTarget.body.details).toEqual({ target: 'invalid' })
    const unknownWs = await server.api('submit_workflow', { workspaceId: 'Wzzzz', module: 'flows', target: 'main', arguments: [] })
    expect(unknownWs).toEqual({ status: 404, body: { error: 'not_found' } })
  })

  test('blob keys are validated before touching the filesystem', async () => {
    for (const key of ['abc', 'z'.repeat(64), '....%2F..%2F..%2F..%2Fetc%2Fpasswd', 'A'.repeat(64)]) {
      const get = await server.get(`/blobs/${key}`)
      expect(get.status).toBe(404)
      const put = await fetch(`${server.url}/blobs/${key}`, { method: 'PUT', body: 'x' })
      expect(put.status).toBe(400)
      expect(await put.json()).toMatchObject({ error: 'invalid_key' })
    }
  })

  test('blobs: content-addressed put and get, hash mismatch refused', async () => {
    const content = new TextEncoder().encode('hello blobs')
    const key = new Bun.CryptoHasher('sha256').update(content).digest('hex')
    const bad = await fetch(`${server.url}/blobs/${'0'.repeat(64)}`, { method: 'PUT', body: content })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: 'hash_mismatch' })
    expect((await fetch(`${server.url}/blobs/${key}`, { method: 'PUT', body: content })).status).toBe(204)
    const head = await fetch(`${server.url}/blobs/${key}`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe(String(content.length))
    const got = await fetch(`${server.url}/blobs/${key}`)
    expect(await got.text()).toBe('hello blobs')
    expect(got.headers.get('etag')).toBe(`"${key}"`)
  })

  test('project ids are validated and reads create nothing', async () => {
    const bad = await server.get('/topics/workspaces', { 'x-project': 'Bad..Project' })
    expect(bad.status).toBe(403)
    expect(bad.body.error).toBe('project_mismatch')
  })

  test('logs without a run, unknown API methods, topics that do not exist', async () => {
    expect((await server.get('/logs')).body).toEqual({ error: 'run_required', message: 'run is required' })
    expect((await server.api('no_such_method')).status).toBe(404)
    expect((await server.get('/topics/workspaces/Wnope/runs/Rnope')).status).toBe(404)
    const del = await fetch(`${server.url}/api/discover`, { method: 'DELETE' })
    expect(del.status).toBe(405)
  })

  test('an oversized body is a 413 with the limit', async () => {
    const limited = await startTestServer({ env: { COFLUX_MAX_BODY_BYTES: '1024' } })
    try {
      const res = await limited.api('create_workspace', { name: 'x', padding: 'y'.repeat(5000) })
      expect(res).toEqual({ status: 413, body: { error: 'payload_too_large', details: { limit: 1024 }, message: 'payload too large' } })
    } finally {
      await limited.cleanup()
    }
  })
})
