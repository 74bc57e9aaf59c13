import { Database } from 'bun:sqlite'
import { beforeEach, describe, expect, test } from 'bun:test'
import { stat } from 'node:fs/promises'
import { parseJson, stringifyJson } from '../../../internal/protocol/json.ts'
import { parseLogValues } from '../../../internal/protocol/values.ts'
import {
  InvalidLogCursorError,
  LogStore,
  parseLogCursor,
  type LogMessage,
  type NewLogEntry,
} from '../../../internal/store/logs.ts'
import { describeTelemetryStore, temporaryFile } from './support/telemetry-store.ts'

let store: LogStore
const file = temporaryFile('logs', () => store?.close())

function entry(overrides: Partial<NewLogEntry> = {}): NewLogEntry {
  return {
    runId: 'RwD6',
    executionId: 'RwD6:1:1',
    workspaceId: 'Wk9x',
    timestamp: 1747400000123,
    level: 2,
    template: 'processing {data}',
    values: {},
    ...overrides,
  }
}

describeTelemetryStore({
  open: (options) => new LogStore(file.path, options),
  // all at one timestamp, so they read back in the order appended
  item: (n, run = 'RwD6') => entry({ runId: run, template: String(n) }),
  n: (log: LogMessage) => Number(log.template),
  query: (store, query) => {
    const page = store.query(query)
    return { items: page.logs, cursor: page.cursor }
  },
  InvalidCursorError: InvalidLogCursorError,
})

describe('writing and reading', () => {
  test('the http-api.md §12 example round-trips exactly', () => {
    store = new LogStore(file.path)
    const values = parseLogValues(parseJson('{"data": {"type": "raw", "data": {"id": 42, "x": 1.0, "big": 18446744073709551616}, "references": []}}'))
    store.append([entry({ values })])
    const page = store.query({ run: 'RwD6' })
    expect(page.logs).toHaveLength(1)
    expect(page.cursor).toMatch(/^:1747400000123:\d+$/)
    expect(stringifyJson(page.logs[0])).toBe(
      '{"executionId":"RwD6:1:1","workspaceId":"Wk9x","timestamp":1747400000123,"level":2,"template":"processing {data}",' +
        '"values":{"data":{"type":"raw","data":{"big":18446744073709551616,"id":42,"x":1.0},"references":[]}}}',
    )
  })

  test('an empty page has a null cursor', () => {
    store = new LogStore(file.path)
    expect(store.query({ run: 'nothing' })).toEqual({ logs: [], cursor: null })
  })

  test('entries come back in (timestamp, id) order', () => {
    store = new LogStore(file.path)
    store.append([entry({ timestamp: 30, template: 'c' }), entry({ timestamp: 10, template: 'a' })])
    store.flush()
    store.append([entry({ timestamp: 10, template: 'b' }), entry({ timestamp: 20, template: null })])
    expect(store.query({ run: 'RwD6' }).logs.map((l) => [l.timestamp, l.template])).toEqual([
      [10, 'a'],
      [10, 'b'],
      [20, null],
      [30, 'c'],
    ])
  })

  test('templates are stored once', () => {
    store = new LogStore(file.path)
    store.append(Array.from({ length: 5 }, (_, i) => entry({ timestamp: i, template: 'line {i}' })))
    store.flush()
    store.append([entry({ template: 'line {i}' }), entry({ template: 'other' })])
    store.flush()
    store.close()
    const db = new Database(file.path, { readonly: true })
    expect(db.query('SELECT count(*) AS n FROM templates').get()).toEqual({ n: 2 })
    expect(db.query('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 7 })
    db.close()
    store = new LogStore(file.path)
    expect(store.query({ run: 'RwD6' }).logs.filter((l) => l.template === 'line {i}')).toHaveLength(6)
  })

  test('the file is migrated once, strict, indexed and private', async () => {
    store = new LogStore(file.path)
    store.close()
    store = new LogStore(file.path)
    store.close()
    const db = new Database(file.path, { readonly: true })
    expect(db.query('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual([
      { version: 1, name: 'initial' },
      { version: 2, name: 'runs' },
    ])
    expect(db.query("SELECT sql FROM sqlite_master WHERE name = 'messages'").get()).toMatchObject({ sql: expect.stringContaining('STRICT') })
    const plan = db
      .query(
        `EXPLAIN QUERY PLAN SELECT id FROM messages WHERE run_id = 'r' AND (timestamp, id) > (5, 1) ORDER BY timestamp, id`,
      )
      .all() as { detail: string }[]
    // pages seek straight to the cursor and need no sort
    const detail = plan.map((p) => p.detail).join(' ')
    expect(detail).toMatch(/INDEX messages_run_timestamp \(run_id=\? AND timestamp>\?\)/)
    expect(detail).not.toContain('TEMP B-TREE')
    expect(db.query('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
    db.close()
    expect((await stat(file.path)).mode & 0o777).toBe(0o600)
  })
})

describe('buffering', () => {
  test('values are captured when appended', () => {
    store = new LogStore(file.path, { flushIntervalMs: 60_000 })
    const values = parseLogValues({ n: { type: 'raw', data: 1, references: [] } })
    store.append([entry({ values })])
    delete values.n
    expect(store.query({ run: 'RwD6' }).logs[0]!.values.text).toBe('{"n":{"type":"raw","data":1,"references":[]}}')
  })
})

describe('subscriptions', () => {
  test('batches are filtered by run, execution and workspaces', () => {
    store = new LogStore(file.path)
    const seen: Record<string, string[]> = { run: [], execution: [], workspaces: [], none: [] }
    const record = (name: string) => (logs: LogMessage[]) => seen[name]!.push(...logs.map((l) => `${l.executionId}@${l.workspaceId}`))
    store.subscribe({ run: 'R1' }, record('run'))
    store.subscribe({ run: 'R1', execution: 'R1:2:1' }, record('execution'))
    store.subscribe({ run: 'R1', workspaces: ['W2'] }, record('workspaces'))
    store.subscribe({ run: 'R1', workspaces: [] }, record('none'))
    store.append([
      entry({ runId: 'R1', executionId: 'R1:1:1', workspaceId: 'W1' }),
      entry({ runId: 'R1', executionId: 'R1:2:1', workspaceId: 'W2' }),
      entry({ runId: 'R2', executionId: 'R2:1:1', workspaceId: 'W1' }),
    ])
    store.flush()
    expect(seen).toEqual({
      run: ['R1:1:1@W1', 'R1:2:1@W2'],
      execution: ['R1:2:1@W2'],
      workspaces: ['R1:2:1@W2'],
      none: [],
    })
  })
})

describe('queries', () => {
  beforeEach(() => {
    store = new LogStore(file.path)
    store.append([
      entry({ timestamp: 100, executionId: 'RwD6:1:1', workspaceId: 'W1' }),
      entry({ timestamp: 200, executionId: 'RwD6:2:1', workspaceId: 'W2' }),
      entry({ timestamp: 300, executionId: 'RwD6:1:1', workspaceId: 'W1' }),
      entry({ timestamp: 400, executionId: 'RwD6:2:1', workspaceId: 'W2' }),
      entry({ runId: 'Other', timestamp: 150 }),
    ])
    store.flush()
  })

  const times = (logs: LogMessage[]): number[] => logs.map((l) => l.timestamp)

  test('filters', () => {
    expect(times(store.query({ run: 'RwD6' }).logs)).toEqual([100, 200, 300, 400])
    expect(times(store.query({ run: 'RwD6', execution: 'RwD6:2:1' }).logs)).toEqual([200, 400])
    expect(times(store.query({ run: 'RwD6', workspaces: ['W1'] }).logs)).toEqual([100, 300])
    expect(times(store.query({ run: 'RwD6', workspaces: ['W1', 'W2'] }).logs)).toEqual([100, 200, 300, 400])
    expect(times(store.query({ run: 'RwD6', workspaces: [] }).logs)).toEqual([])
    expect(times(store.query({ run: 'RwD6', from: 200 }).logs)).toEqual([200, 300, 400])
    expect(times(store.query({ run: 'RwD6', from: 201, execution: 'RwD6:2:1' }).logs)).toEqual([400])
  })
})

test('parseLogCursor', () => {
  expect(parseLogCursor(':1747400000123:57')).toEqual({ partition: '', timestamp: 1747400000123, id: 57 })
  expect(parseLogCursor('1747400000123:57')).toEqual({ partition: '', timestamp: 1747400000123, id: 57 })
  expect(parseLogCursor('E3:10:2')).toEqual({ partition: 'E3', timestamp: 10, id: 2 })
  expect(parseLogCursor('10:')).toBeNull()
})
