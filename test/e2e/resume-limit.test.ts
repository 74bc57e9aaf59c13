/**
 * The resume limit of a workflow (issue 7, item 4): set in the decorator, carried by discovery
 * and the registered manifest into the workflow's configuration, and overridable on submit.
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

test('the decorator resumes reach discovery, the manifest and the workflow configuration', async () => {
  const discovered = await cli('resumes-a', ['manifests', 'discover', 'resumable', '-o', 'json'])
  expect(discovered.code).toBe(0)
  const byName = Object.fromEntries(discovered.json.targets.map((t: { name: string }) => [t.name, t]))
  expect([byName.sturdy.resumes, byName.fragile.resumes, 'resumes' in byName.plain]).toEqual([5, 0, false])

  expect((await cli('resumes-a', ['manifests', 'register', 'resumable'])).code).toBe(0)
  const ws = await ensureWorkspace(server, 'resumes-a')
  const configuration = async (name: string) => (await server.get(`/topics/workspaces/${ws}/workflows/resumable/${name}`)).body.configuration
  expect((await configuration('sturdy')).resumes).toBe(5)
  expect((await configuration('fragile')).resumes).toBe(0)
  expect((await configuration('plain')).resumes).toBeNull()
})

test('register_manifests refuses a negative or fractional resumes', async () => {
  const ws = await ensureWorkspace(server, 'resumes-b')
  for (const resumes of [-1, 1.5, 'many']) {
    const res = await server.api('register_manifests', { workspaceId: ws, manifests: { m: { w: { parameters: [], resumes } } } })
    expect(res.status).toBe(400)
    expect(res.body.details).toEqual({ 'manifests.m.w.resumes': 'invalid' })
  }
  const ok = await server.api('register_manifests', { workspaceId: ws, manifests: { m: { w: { parameters: [], resumes: null } } } })
  expect(ok.status).toBe(204)
})

test('submit --resumes is accepted; a bad value is a usage error', async () => {
  expect((await cli('resumes-c', ['manifests', 'register', 'resumable'])).code).toBe(0)
  const submitted = await cli('resumes-c', ['submit', 'resumable/sturdy', '2', '--resumes', '1', '--no-wait', '-o', 'json'])
  expect(submitted.code).toBe(0)
  expect(submitted.json.runId).toBeString()
  const bad = await cli('resumes-c', ['submit', 'resumable/sturdy', '2', '--resumes', '-1', '--no-wait'])
  expect(bad.code).toBe(2)
  expect(bad.stderr).toContain('invalid value for --resumes: "-1" (expected an integer ≥ 0)')
})
