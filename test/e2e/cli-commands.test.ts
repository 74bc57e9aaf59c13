/**
 * Management commands against a real server (no worker needed): the JSON shapes scripts parse,
 * the text people read, and the error codes in messages (cli.md §8).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { coflux, type CliResult } from './support/cli.ts'
import { startTestServer, type TestServer } from './support/server.ts'
import { FIXTURES } from './support/worker.ts'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await server.cleanup()
})

let counter = 0
/** Each test gets its own workspace. */
const freshWorkspace = () => `cli-${process.pid}-${++counter}`
const cli = (args: string[], workspace?: string, cwd?: string): Promise<CliResult> =>
  coflux(args, { host: server.host, workspace, cwd: cwd ?? FIXTURES })

describe('workspaces', () => {
  test('create, list, update, pause, resume, archive', async () => {
    const base = freshWorkspace()
    const name = freshWorkspace()
    const created = await cli(['workspaces', 'create', base, '-o', 'json'])
    expect(created.code).toBe(0)
    expect(created.json).toEqual({ id: expect.stringMatching(/^W/), name: base, baseId: null })
    const child = await cli(['workspaces', 'create', name, '--base', base, '-o', 'json'])
    expect(child.json.baseId).toBe(created.json.id)

    const list = await cli(['workspaces', 'list', '-o', 'json'])
    expect(list.json[child.json.id]).toEqual({ name, baseId: created.json.id, state: 'active' })
    const text = await cli(['workspaces', 'list'])
    expect(text.stdout).toMatch(new RegExp(`${name}\\s+${base}\\s+active`))

    const renamed = `${name}-x`
    const upd = await cli(['workspaces', 'update', '--name', renamed, '--no-base', '-o', 'json'], name)
    expect(upd.json).toEqual({ id: child.json.id, name: renamed, baseId: null })
    expect((await cli(['workspaces', 'pause'], renamed)).stdout).toBe(`Paused workspace '${renamed}'.\n`)
    expect((await cli(['workspaces', 'resume', '-o', 'json'], renamed)).json).toEqual({ id: child.json.id, name: renamed, state: 'active' })
    expect((await cli(['workspaces', 'archive', '-o', 'json'], renamed)).json.state).toBe('archived')

    // archived workspaces are not resolved by name, and are hidden without --all
    const gone = await cli(['queue', '-o', 'json'], renamed)
    expect(gone.code).toBe(1)
    expect(gone.stderr).toContain(`workspace not found: ${renamed}`)
    expect((await cli(['workspaces', 'list'])).stdout).not.toContain(renamed)
    expect((await cli(['workspaces', 'list', '--all'])).stdout).toContain(renamed)
  })

  test('server validation errors show the code and details', async () => {
    const r = await cli(['workspaces', 'create', 'Not Valid!'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('bad_request')
    expect(r.stderr).toContain('(details: {"name":"invalid"})')
    const missingBase = await cli(['workspaces', 'create', freshWorkspace(), '--base', 'nope-nope'])
    expect(missingBase.stderr).toContain('base workspace not found: nope-nope')
  })
})

describe('manifests and runs without a worker', () => {
  test('register, inspect, submit --no-wait, inspect, result, cancel, rerun, queue, logs', async () => {
    const ws = freshWorkspace()
    const reg = await cli(['manifests', 'register', 'flows', '-o', 'json'], ws)
    expect(reg.code).toBe(0)
    expect(reg.json.modules.flows).toContain('fan_out')
    expect(reg.json.modules.flows).not.toContain('add') // tasks are not registered

    const manifests = await cli(['manifests', 'inspect', '-o', 'json'], ws)
    expect(manifests.json.flows.fan_out.parameters.map((p: { name: string }) => p.name)).toEqual(['n'])
    expect((await cli(['manifests', 'inspect'], ws)).stdout).toContain('  fan_out  (n)')

    const submitted = await cli(['submit', 'flows/fan_out', '3', '--no-wait', '-o', 'json'], ws)
    expect(submitted.code).toBe(0)
    const { runId, stepId, executionId } = submitted.json
    expect(stepId).toBe(`${runId}:1`)
    expect(executionId).toBe(`${runId}:1:1`)
    expect((await cli(['submit', 'flows/fan_out', '3', '--no-wait'], ws)).stdout).toMatch(/^Workflow submitted \(run: R\w+\)\.\n$/)

    // off a TTY, --no-wait prints the snapshot as JSON even in text mode (0.12)
    const snap = await cli(['runs', 'inspect', runId, '--no-wait'], ws)
    expect(snap.json.steps[stepId].arguments).toEqual([{ type: 'raw', data: 3, references: [] }])

    const noResult = await cli(['runs', 'result', runId], ws)
    expect(noResult.code).toBe(1)
    expect(noResult.stderr).toContain('no result yet')

    const queue = await cli(['queue', '-o', 'json'], ws)
    expect(queue.json[executionId]).toMatchObject({ runId, stepId, attempt: 1, status: 'no_session' })
    expect((await cli(['queue'], ws)).stdout).toContain(executionId)

    expect((await cli(['logs', runId, '-o', 'json'], ws)).json).toEqual({ logs: [], cursor: null })

    expect((await cli(['runs', 'cancel', executionId, '-o', 'json'], ws)).json).toEqual({ cancelled: true })
    expect((await cli(['runs', 'result', runId], ws)).stdout).toBe('Cancelled\n')

    const rerun = await cli(['runs', 'rerun', stepId, '--no-wait', '-o', 'json'], ws)
    expect(rerun.json).toEqual({ executionId: `${runId}:1:2`, attempt: 2 })
    expect((await cli(['runs', 'result', `${runId}:1:1`, '-o', 'json'], ws)).json.type).toBe('cancelled')
  })

  test('unknown workflows and runs', async () => {
    const ws = freshWorkspace()
    const wf = await cli(['submit', 'flows/nope', '--no-wait'], ws)
    expect(wf.code).toBe(1)
    expect(wf.stderr).toStartWith('Error: failed to get workflow: not_found')
    const run = await cli(['runs', 'inspect', 'Rzzzz', '--no-wait'], ws)
    expect(run.code).toBe(1)
    expect(run.stderr).toStartWith('Error: failed to get run: not_found')
    const step = await cli(['runs', 'rerun', 'Rzzzz'], ws)
    expect(step.stderr).toContain("invalid step ID format: expected 'run-id:step-number', got 'Rzzzz'")
  })

  test('submit flags override the registered configuration', async () => {
    const ws = freshWorkspace()
    await cli(['manifests', 'register', 'flows'], ws)
    const r = await cli(['submit', 'flows/fan_out', '2', '--no-wait', '--retries', '3', '--requires', 'gpu:a100', '--delay', '0.5', '-o', 'json'], ws)
    expect(r.code).toBe(0)
    const snap = (await cli(['runs', 'inspect', r.json.runId, '--no-wait', '-o', 'json'], ws)).json
    expect(snap.requires).toEqual({ gpu: ['a100'] })
    expect(snap.steps[r.json.stepId].retries).toEqual({ limit: 3, backoffMin: 0, backoffMax: 0 })
    expect(snap.steps[r.json.stepId].executions['1'].executeAfter).toBeGreaterThan(snap.createdAt)
  })
})

describe('empty views', () => {
  test('text for nothing to show; JSON snapshots', async () => {
    const ws = freshWorkspace()
    await cli(['workspaces', 'create', ws])
    expect((await cli(['sessions', 'list'], ws)).stdout).toBe('No active sessions.\n')
    expect((await cli(['sessions', 'list', '-o', 'json'], ws)).json).toEqual({})
    expect((await cli(['inputs', 'list'], ws)).stdout).toBe('No pending inputs.\n')
    expect((await cli(['queue', '--no-watch'], ws)).stdout).toBe('Queue is empty.\n')
    expect((await cli(['manifests', 'inspect'], ws)).stdout).toBe('No modules registered.\n')
  })
})
