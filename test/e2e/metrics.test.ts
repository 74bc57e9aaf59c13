/**
 * Metrics end to end (semantics.md §25, http-api.md §13): a real worker runs Python that records
 * points, the server keeps the definitions in the run snapshot and the points in their own store.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { until } from './support/binary.ts'
import { finalResult, startStack, waitForRun, type Stack } from './support/worker.ts'

let stack: Stack
let runId: string
let snapshot: any

const definition = (overrides: Record<string, unknown> = {}) => ({
  group: null, groupUnits: null, groupLower: null, groupUpper: null, scale: null, units: null, progress: false, lower: null, upper: null,
  ...overrides,
})

async function postMetrics(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.server.url}/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: res.status, body: await res.json() }
}

const getMetrics = (query: string) => stack.server.get(`/metrics?${query}`)

function execution(step: number): any {
  return snapshot.steps[`${runId}:${step}`].executions['1']
}

/** The parent's final progress point and the child's point: batches reach the server asynchronously. */
const allPointsArrived = (points: any[]): boolean =>
  points.some((p) => p.key === 'progress' && p.value === 5) && points.some((p) => p.executionId === execution(2).executionId)

/** The run's points once `check` accepts them (batches reach the server asynchronously). */
async function pointsOfRun(check: (points: any[]) => boolean): Promise<any[]> {
  return until(
    async () => {
      const res = await getMetrics(`run=${runId}`)
      return res.status === 200 && check(res.body.metrics) ? res.body.metrics : false
    },
    { timeoutMs: 20_000, message: 'metric points of the run' },
  )
}

beforeAll(async () => {
  stack = await startStack({ modules: ['measured'], workspace: 'metrics' })
  const res = await stack.cli(['submit', 'measured/train', '4', '--no-wait', '-o', 'json'])
  if (!res.json?.runId) throw new Error(`submit failed (${res.code}): ${res.stderr}`)
  runId = res.json.runId
  snapshot = await waitForRun(stack.server, stack.workspaceId, runId)
  // every test reads the run's points, also when run alone (-t): wait for the last ones here
  await pointsOfRun(allPointsArrived)
})

afterAll(async () => {
  await stack?.stop()
})

describe('recording from Python', () => {
  test('the run completes and its snapshot shows each execution’s definitions', () => {
    expect(finalResult(snapshot, runId).value.data).toBe(10)
    expect(execution(1).metrics).toEqual({
      loss: definition({ group: 'training', groupUnits: 'epoch', groupLower: 0, groupUpper: 4, scale: 'error', units: '', lower: 0, upper: 1 }),
      temperature: definition(),
      progress: definition({ progress: true, lower: 0, upper: 5 }),
    })
    // the child's `loss` is its own metric
    expect(execution(2).metrics).toEqual({ loss: definition({ units: 'nats' }) })
  })

  test('GET /metrics returns every point of the run', async () => {
    const points = await pointsOfRun(allPointsArrived)
    const parent = execution(1).executionId
    const of = (key: string, executionId = parent) => points.filter((p) => p.key === key && p.executionId === executionId)
    for (const p of points) expect(p.workspaceId).toBe(stack.workspaceId)
    expect(of('loss').map((p) => [p.at, p.value])).toEqual([[0, 1], [1, 0.5], [2, 1 / 3], [3, 0.25]])
    expect(of('temperature')).toHaveLength(1)
    expect(of('temperature')[0]).toMatchObject({ value: 21.5, at: expect.any(Number) })
    // cf.progress is throttled by the worker (10/s): the first count and the final one always arrive
    const progress = of('progress').map((p) => p.value)
    expect(progress[0]).toBe(1)
    expect(progress.at(-1)).toBe(5)
    expect(of('loss', execution(2).executionId).map((p) => p.value)).toEqual([0.125])
  })

  test('queries by execution and keys, paged with cursors', async () => {
    const parent = execution(1).executionId
    const first = await getMetrics(`execution=${parent}&keys=loss,temperature&limit=3`)
    expect(first.status).toBe(200)
    expect(first.body.metrics.map((p: any) => p.key)).toEqual(['loss', 'loss', 'loss'])
    expect(first.body.cursor).toMatch(/^:\d+:\d+$/)
    const rest = await getMetrics(`execution=${parent}&keys=loss,temperature&after=${encodeURIComponent(first.body.cursor)}`)
    expect(rest.body.metrics.map((p: any) => p.key)).toEqual(['loss', 'temperature'])
    const none = await getMetrics(`run=${runId}&workspaces=Wnothing`)
    expect(none.body).toEqual({ metrics: [], cursor: null })
  })

  test('the points are in the project’s own metrics database', () => {
    // a file under the data directory, or the PostgreSQL schema standing for it
    expect(stack.server.databasesIn('projects/default')).toContain('metrics.sqlite')
  })
})

describe('live reads', () => {
  test('SSE: the existing points first, then each new batch', async () => {
    const controller = new AbortController()
    const res = await fetch(`${stack.server.url}/metrics?run=${runId}&keys=loss,live`, {
      headers: { accept: 'text/event-stream' },
      signal: controller.signal,
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    const reader = res.body!.getReader()
    let buffered = ''
    const nextEvent = async (): Promise<any[]> => {
      for (;;) {
        const end = buffered.indexOf('\n\n')
        if (end >= 0) {
          const block = buffered.slice(0, end)
          buffered = buffered.slice(end + 2)
          if (block.startsWith('data: ')) return JSON.parse(block.slice(6))
          continue
        }
        const { value, done } = await reader.read()
        if (done) throw new Error('stream ended')
        buffered += new TextDecoder().decode(value)
      }
    }
    try {
      const existing = await nextEvent()
      expect(existing.map((p) => p.key)).toEqual(['loss', 'loss', 'loss', 'loss', 'loss'])
      const parent = execution(1).executionId
      const posted = await postMetrics({
        entries: [
          { runId, executionId: parent, workspaceId: stack.workspaceId, key: 'live', value: 7, at: 100 },
          { runId, executionId: parent, workspaceId: stack.workspaceId, key: 'ignored', value: 8, at: 100 },
        ],
      })
      expect(posted).toEqual({ status: 200, body: { ok: true } })
      expect(await nextEvent()).toEqual([{ executionId: parent, workspaceId: stack.workspaceId, key: 'live', value: 7, at: 100 }])
    } finally {
      controller.abort()
    }
  })

  test('a stream needs a run', async () => {
    const res = await stack.server.get(`/metrics?execution=${execution(1).executionId}`, { accept: 'text/event-stream' })
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('run_required')
  })
})

describe('writes are scoped and validated', () => {
  const entry = (overrides: Record<string, unknown> = {}) => ({
    runId,
    executionId: execution(1).executionId,
    workspaceId: stack.workspaceId,
    key: 'scoped',
    value: 1,
    at: 1,
    ...overrides,
  })

  test('a session token cannot write points for another session’s execution; nothing is written', async () => {
    const session = await stack.server.api('create_session', { workspaceId: stack.workspaceId })
    expect(session.status).toBe(200)
    const headers = { authorization: `Bearer ${session.body.sessionId}` }
    const res = await postMetrics({ entries: [entry({ key: 'stolen' })] }, headers)
    expect(res.status).toBe(403)
    expect(res.body).toMatchObject({ error: 'forbidden', details: { executionId: execution(1).executionId } })
    const stored = await getMetrics(`run=${runId}&keys=stolen`)
    expect(stored.body.metrics).toEqual([])
  })

  test('unknown executions and mismatched runs or workspaces are 400s', async () => {
    expect(await postMetrics({ entries: [entry({ executionId: `${runId}:99:1` })] })).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', details: { field: 'executionId', reason: 'unknown execution' } },
    })
    expect(await postMetrics({ entries: [entry({ runId: 'Rother' })] })).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', details: { field: 'runId' } },
    })
    expect(await postMetrics({ entries: [entry({ workspaceId: 'Wother' })] })).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', details: { field: 'workspaceId' } },
    })
  })

  test('bad bodies give the documented 400s', async () => {
    const invalid = (reason: string) => ({ status: 400, body: { error: 'invalid_request', details: { field: 'entries', reason } } })
    expect(await postMetrics('{"entries": [')).toMatchObject({ status: 400, body: { error: 'invalid_json' } })
    expect(await postMetrics({})).toMatchObject(invalid('required'))
    expect(await postMetrics({ entries: null })).toMatchObject(invalid('required'))
    expect(await postMetrics({ entries: { a: 1 } })).toMatchObject(invalid('must be an array'))
    for (const bad of [entry({ at: undefined }), entry({ value: '1' }), entry({ key: 3 }), entry({ runId: undefined }), 'x', null, [1]]) {
      // one bad entry refuses the whole batch, wherever it sits
      expect(await postMetrics({ entries: [entry(), bad] })).toMatchObject(invalid('invalid entry structure'))
    }
    expect((await getMetrics(`run=${runId}&keys=scoped`)).body.metrics).toEqual([])
  })

  test('bad queries give the documented 400s', async () => {
    expect(await stack.server.get('/metrics')).toMatchObject({ status: 400, body: { error: 'run_or_execution_required' } })
    expect(await getMetrics(`run=${runId}&after=nonsense`)).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', details: { field: 'after' } },
    })
    expect(await getMetrics(`run=${runId}&from=soon`)).toMatchObject({ status: 400, body: { error: 'invalid_request', details: { field: 'from' } } })
  })
})

test('accepted points survive a clean shutdown (the buffer is flushed)', async () => {
  const parent = execution(1).executionId
  const posted = await postMetrics({ entries: [{ runId, executionId: parent, workspaceId: stack.workspaceId, key: 'last', value: 42, at: 1 }] })
  expect(posted.status).toBe(200)
  // SIGTERM right after the POST: the buffered point is written by the shutdown at the latest
  await stack.server.restart()
  const res = await getMetrics(`run=${runId}&keys=last`)
  expect(res.body.metrics).toEqual([{ executionId: parent, workspaceId: stack.workspaceId, key: 'last', value: 42, at: 1 }])
})
