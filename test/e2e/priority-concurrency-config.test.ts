/**
 * Priority and concurrency options (issue 11) from the decorator to the server: carried by
 * discovery and the registered manifest into the workflow's configuration (the limit's key as
 * its template), checked by register_manifests, and `submit --priority` accepted.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { coflux } from './support/cli.ts'
import { startTestServer, type TestServer } from './support/server.ts'
import { ensureWorkspace, FIXTURES } from './support/worker.ts'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await server.cleanup()
})

const cli = (workspace: string, args: string[]) => coflux(args, { host: server.host, workspace, cwd: FIXTURES })

test('the decorator options reach discovery, the manifest and the workflow configuration', async () => {
  const discovered = await cli('priority-a', ['manifests', 'discover', 'prioritised', '-o', 'json'])
  expect(discovered.code).toBe(0)
  const byName = Object.fromEntries(discovered.json.targets.map((t: { name: string }) => [t.name, t]))
  expect(byName.urgent).toMatchObject({ priority: 7, concurrency: { limit: 2, key: 'customer-{customer_id}' } })
  expect(byName.batch).toMatchObject({ priority: -1, concurrency: { limit: 1, key: null } })
  expect(['priority' in byName.plain, 'concurrency' in byName.plain]).toEqual([false, false])

  expect((await cli('priority-a', ['manifests', 'register', 'prioritised'])).code).toBe(0)
  const ws = await ensureWorkspace(server, 'priority-a')
  const configuration = async (name: string) => (await server.get(`/topics/workspaces/${ws}/workflows/prioritised/${name}`)).body.configuration
  expect(await configuration('urgent')).toMatchObject({ priority: 7, concurrency: { limit: 2, key: 'customer-{customer_id}' } })
  expect(await configuration('batch')).toMatchObject({ priority: -1, concurrency: { limit: 1, key: null } })
  expect(await configuration('plain')).toMatchObject({ priority: null, concurrency: null })
})

test('register_manifests refuses a bad priority or concurrency', async () => {
  const ws = await ensureWorkspace(server, 'priority-b')
  const register = (fields: object) => server.api('register_manifests', { workspaceId: ws, manifests: { m: { w: { parameters: [], ...fields } } } })
  for (const [fields, field] of [
    [{ priority: 1.5 }, 'priority'],
    [{ priority: 'high' }, 'priority'],
    [{ concurrency: 2 }, 'concurrency'],
    [{ concurrency: { limit: 0, key: null } }, 'concurrency.limit'],
    [{ concurrency: { limit: 1, key: 5 } }, 'concurrency.key'],
  ] as const) {
    const res = await register(fields)
    expect(res.status).toBe(400)
    expect(res.body.details).toEqual({ [`manifests.m.w.${field}`]: 'invalid' })
  }
  expect((await register({ priority: null, concurrency: null })).status).toBe(204)
  expect((await register({ priority: -3, concurrency: { limit: 2 } })).status).toBe(204)
})

test('submit --priority is accepted; a bad value is a usage error', async () => {
  expect((await cli('priority-c', ['manifests', 'register', 'prioritised'])).code).toBe(0)
  const submitted = await cli('priority-c', ['submit', 'prioritised/urgent', '"c1"', '--priority', '-2', '--no-wait', '-o', 'json'])
  expect(submitted.code).toBe(0)
  expect(submitted.json.runId).toBeString()
  const bad = await cli('priority-c', ['submit', 'prioritised/urgent', '"c1"', '--priority', 'high', '--no-wait'])
  expect(bad.code).toBe(2)
  expect(bad.stderr).toContain('invalid value for --priority: "high" (expected an integer)')
})
