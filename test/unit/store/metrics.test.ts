import { Database } from 'bun:sqlite'
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { OrchestrationStore, type MetricDefinition } from '../../../internal/store/index.ts'
import { InvalidMetricCursorError, MetricStore, type MetricPoint, type NewMetricPoint } from '../../../internal/store/metrics.ts'
import { describeTelemetryStore, temporaryFile } from './support/telemetry-store.ts'

let store: MetricStore
const file = temporaryFile('metrics', () => store?.close())

function point(overrides: Partial<NewMetricPoint> = {}): NewMetricPoint {
  return { runId: 'RwD6', executionId: 'RwD6:1:1', workspaceId: 'Wk9x', key: 'loss', value: 0.5, at: 1, ...overrides }
}

const values = (points: MetricPoint[]): number[] => points.map((p) => p.value)

describeTelemetryStore({
  open: (options) => new MetricStore(file.path, options),
  item: (n, run = 'RwD6') => point({ runId: run, value: n }),
  n: (p: MetricPoint) => p.value,
  query: (store, query) => {
    const page = store.query(query)
    return { items: page.metrics, cursor: page.cursor }
  },
  InvalidCursorError: InvalidMetricCursorError,
})

describe('writing and reading', () => {
  test('points round-trip in the http-api.md §13 shape with a log-style cursor', () => {
    store = new MetricStore(file.path, { now: () => 1747400000123 })
    store.append([point({ value: 0.231, at: 12 }), point({ key: 'acc', value: 3, at: 0.5 })])
    const page = store.query({ run: 'RwD6' })
    expect(page.metrics).toEqual([
      { executionId: 'RwD6:1:1', workspaceId: 'Wk9x', key: 'loss', value: 0.231, at: 12 },
      { executionId: 'RwD6:1:1', workspaceId: 'Wk9x', key: 'acc', value: 3, at: 0.5 },
    ])
    expect(page.cursor).toMatch(/^:1747400000123:\d+$/)
  })

  test('an empty page has a null cursor', () => {
    store = new MetricStore(file.path)
    expect(store.query({ run: 'nothing' })).toEqual({ metrics: [], cursor: null })
    expect(store.query({ execution: 'nothing:1:1' })).toEqual({ metrics: [], cursor: null })
  })

  test('the file is migrated once, strict, indexed for runs and executions, and private', async () => {
    store = new MetricStore(file.path)
    store.close()
    store = new MetricStore(file.path)
    store.close()
    const db = new Database(file.path, { readonly: true })
    expect(db.query('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual([
      { version: 1, name: 'initial' },
      { version: 2, name: 'runs' },
    ])
    expect(db.query("SELECT sql FROM sqlite_master WHERE name = 'points'").get()).toMatchObject({ sql: expect.stringContaining('STRICT') })
    const plan = (sql: string) => (db.query(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((p) => p.detail).join(' ')
    // pages seek straight to the cursor and need no sort, whether read by run or by execution
    const byRun = plan(`SELECT id FROM points WHERE run_id = 'r' AND (created_at, id) > (5, 1) ORDER BY created_at, id`)
    expect(byRun).toMatch(/INDEX points_run \(run_id=\? AND created_at>\?\)/)
    expect(byRun).not.toContain('TEMP B-TREE')
    const byExecution = plan(`SELECT id FROM points WHERE execution_id = 'e' AND (created_at, id) > (5, 1) ORDER BY created_at, id`)
    expect(byExecution).toMatch(/INDEX points_execution \(execution_id=\? AND created_at>\?\)/)
    expect(byExecution).not.toContain('TEMP B-TREE')
    expect(db.query('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
    db.close()
    expect((await stat(file.path)).mode & 0o777).toBe(0o600)
  })

  test('stamps never go back, even when the clock does or across a reopen', () => {
    let clock = 5000
    store = new MetricStore(file.path, { now: () => clock })
    store.append([point({ value: 1 })])
    clock = 1000
    store.append([point({ value: 2 })])
    const first = store.query({ run: 'RwD6', limit: 1 })
    expect(values(first.metrics)).toEqual([1])
    // the second point is stamped 5000 too, so paging after the first still finds it
    expect(values(store.query({ run: 'RwD6', after: first.cursor }).metrics)).toEqual([2])
    store.close()
    store = new MetricStore(file.path, { now: () => clock })
    store.append([point({ value: 3 })])
    const all = store.query({ run: 'RwD6' })
    expect(values(all.metrics)).toEqual([1, 2, 3])
    expect(all.cursor).toMatch(/^:5000:3$/)
  })
})

describe('buffering', () => {
  test('points are captured when appended', () => {
    store = new MetricStore(file.path, { flushIntervalMs: 60_000 })
    const p = point({ value: 1 })
    store.append([p])
    p.value = 99
    expect(values(store.query({ run: 'RwD6' }).metrics)).toEqual([1])
  })
})

describe('subscriptions', () => {
  test('batches are filtered by run, execution, keys, workspaces and from', () => {
    let clock = 100
    store = new MetricStore(file.path, { now: () => clock })
    const seen: Record<string, string[]> = { run: [], execution: [], keys: [], workspaces: [], none: [], from: [] }
    const record = (name: string) => (points: MetricPoint[]) => seen[name]!.push(...points.map((p) => `${p.executionId}/${p.key}@${p.workspaceId}`))
    store.subscribe({ run: 'R1' }, record('run'))
    store.subscribe({ run: 'R1', execution: 'R1:2:1' }, record('execution'))
    store.subscribe({ run: 'R1', keys: ['acc'] }, record('keys'))
    store.subscribe({ run: 'R1', workspaces: ['W2'] }, record('workspaces'))
    store.subscribe({ run: 'R1', workspaces: [] }, record('none'))
    store.subscribe({ run: 'R1', from: 200 }, record('from'))
    store.append([
      point({ runId: 'R1', executionId: 'R1:1:1', workspaceId: 'W1', key: 'loss' }),
      point({ runId: 'R1', executionId: 'R1:2:1', workspaceId: 'W2', key: 'acc' }),
      point({ runId: 'R2', executionId: 'R2:1:1', workspaceId: 'W1' }),
    ])
    store.flush()
    clock = 200
    store.append([point({ runId: 'R1', executionId: 'R1:1:1', workspaceId: 'W1', key: 'late' })])
    store.flush()
    expect(seen).toEqual({
      run: ['R1:1:1/loss@W1', 'R1:2:1/acc@W2', 'R1:1:1/late@W1'],
      execution: ['R1:2:1/acc@W2'],
      keys: ['R1:2:1/acc@W2'],
      workspaces: ['R1:2:1/acc@W2'],
      none: [],
      from: ['R1:1:1/late@W1'],
    })
  })
})

describe('queries', () => {
  let clock: number
  beforeEach(() => {
    clock = 100
    store = new MetricStore(file.path, { now: () => clock })
    const add = (stamp: number, p: Partial<NewMetricPoint>) => {
      clock = stamp
      store.append([point(p)])
      store.flush()
    }
    add(100, { executionId: 'RwD6:1:1', workspaceId: 'W1', key: 'loss', value: 1 })
    add(150, { runId: 'Other', executionId: 'Other:1:1', value: -1 })
    add(200, { executionId: 'RwD6:2:1', workspaceId: 'W2', key: 'acc', value: 2 })
    add(300, { executionId: 'RwD6:1:1', workspaceId: 'W1', key: 'acc', value: 3 })
    add(400, { executionId: 'RwD6:2:1', workspaceId: 'W2', key: 'loss', value: 4 })
  })

  test('filters', () => {
    expect(values(store.query({ run: 'RwD6' }).metrics)).toEqual([1, 2, 3, 4])
    expect(values(store.query({ run: 'RwD6', execution: 'RwD6:2:1' }).metrics)).toEqual([2, 4])
    expect(values(store.query({ execution: 'RwD6:1:1' }).metrics)).toEqual([1, 3])
    expect(values(store.query({ execution: 'RwD6:1:1', run: 'Other' }).metrics)).toEqual([])
    expect(values(store.query({ run: 'RwD6', keys: ['acc'] }).metrics)).toEqual([2, 3])
    expect(values(store.query({ execution: 'RwD6:1:1', keys: ['loss', 'nope'] }).metrics)).toEqual([1])
    expect(values(store.query({ run: 'RwD6', workspaces: ['W1'] }).metrics)).toEqual([1, 3])
    expect(values(store.query({ run: 'RwD6', workspaces: [] }).metrics)).toEqual([])
    expect(values(store.query({ run: 'RwD6', from: 200 }).metrics)).toEqual([2, 3, 4])
    expect(values(store.query({ run: 'RwD6', from: 201, keys: ['loss'] }).metrics)).toEqual([4])
  })

  test('paging by execution', () => {
    const first = store.query({ execution: 'RwD6:2:1', limit: 1 })
    expect(values(first.metrics)).toEqual([2])
    expect(first.cursor).toMatch(/^:200:\d+$/)
    expect(values(store.query({ execution: 'RwD6:2:1', after: first.cursor }).metrics)).toEqual([4])
  })
})

describe('definitions in the orchestration store', () => {
  let orchestration: OrchestrationStore

  afterEach(() => orchestration?.close())

  const definition = (overrides: Partial<MetricDefinition> = {}): MetricDefinition => ({
    group: null, groupUnits: null, groupLower: null, groupUpper: null, scale: null, units: null, progress: false, lower: null, upper: null,
    ...overrides,
  })

  function execution(runId: number, workspaceId: number): number {
    const step = orchestration.runs.createStep(
      {
        runId, parentExecutionId: null, module: 'app', target: 'main', type: 'task', priority: 0, waitFor: [], cacheConfig: null,
        cacheKey: null, deferKey: null, memoKey: null, retryLimit: 0, resumeLimit: 0, concurrency: null, backoffMin: 0, backoffMax: 0, recurrent: false, delay: 0,
        timeout: 0, requires: null, argumentIds: [],
      },
      1,
    )
    return orchestration.runs.createExecution(step.id, workspaceId, null, 1).id
  }

  test('the first definition per (execution, key) wins; runs read in one query', () => {
    orchestration = new OrchestrationStore(join(file.dir, 'orchestration.sqlite'))
    const ws = orchestration.workspaces.create('main', null, 1).id
    const newRun = () => orchestration.runs.createRun({ parentExecutionId: null, requires: {}, memo: false, idempotencyKey: null, createdBy: null }, 1).id
    const run = newRun()
    const [a, b] = [execution(run, ws), execution(run, ws)]
    const elsewhere = execution(newRun(), ws)
    const training = definition({ group: 'training', groupUnits: 'epoch', groupLower: 0, groupUpper: 100, scale: 'error', units: '', progress: true, lower: 0, upper: 1.5 })
    expect(orchestration.metricDefinitions.define(a!, 'loss', training)).toBe(true)
    expect(orchestration.metricDefinitions.define(a!, 'loss', definition({ units: 'changed' }))).toBe(false)
    expect(orchestration.metricDefinitions.define(a!, 'progress', definition({ progress: true, upper: 5 }))).toBe(true)
    expect(orchestration.metricDefinitions.define(b!, 'loss', definition())).toBe(true)
    expect(orchestration.metricDefinitions.define(elsewhere, 'loss', definition())).toBe(true)
    expect(orchestration.metricDefinitions.ofExecution(a!)).toEqual({ loss: training, progress: definition({ progress: true, upper: 5 }) })
    expect(Object.keys(orchestration.metricDefinitions.ofExecution(a!))).toEqual(['loss', 'progress'])
    const ofRun = orchestration.metricDefinitions.ofRun(run)
    expect([...ofRun.keys()]).toEqual([a, b])
    expect(ofRun.get(b!)).toEqual({ loss: definition() })
    expect(orchestration.metricDefinitions.ofExecution(9999)).toEqual({})
  })
})
