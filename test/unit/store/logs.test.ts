import { Database } from 'bun:sqlite'
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseJson, stringifyJson } from '../../../internal/protocol/json.ts'
import { parseLogValues } from '../../../internal/protocol/values.ts'
import {
  InvalidLogCursorError,
  LogStore,
  parseLogCursor,
  type LogMessage,
  type NewLogEntry,
} from '../../../internal/store/logs.ts'

let dir: string
let path: string
let store: LogStore

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coflux-logs-'))
  path = join(dir, 'logs.sqlite')
})

afterEach(async () => {
  store?.close()
  await rm(dir, { recursive: true, force: true })
})

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

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await Bun.sleep(5)
  }
}

describe('writing and reading', () => {
  test('the http-api.md §12 example round-trips exactly', () => {
    store = new LogStore(path)
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
    store = new LogStore(path)
    expect(store.query({ run: 'nothing' })).toEqual({ logs: [], cursor: null })
  })

  test('entries come back in (timestamp, id) order', () => {
    store = new LogStore(path)
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
    store = new LogStore(path)
    store.append(Array.from({ length: 5 }, (_, i) => entry({ timestamp: i, template: 'line {i}' })))
    store.flush()
    store.append([entry({ template: 'line {i}' }), entry({ template: 'other' })])
    store.flush()
    store.close()
    const db = new Database(path, { readonly: true })
    expect(db.query('SELECT count(*) AS n FROM templates').get()).toEqual({ n: 2 })
    expect(db.query('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 7 })
    db.close()
    store = new LogStore(path)
    expect(store.query({ run: 'RwD6' }).logs.filter((l) => l.template === 'line {i}')).toHaveLength(6)
  })

  test('the file is migrated once, strict, indexed and private', async () => {
    store = new LogStore(path)
    store.close()
    store = new LogStore(path)
    store.close()
    const db = new Database(path, { readonly: true })
    expect(db.query('SELECT version, name FROM schema_migrations').all()).toEqual([{ version: 1, name: 'initial' }])
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
    expect((await stat(path)).mode & 0o777).toBe(0o600)
  })
})

describe('buffering', () => {
  test('entries are flushed after the interval', async () => {
    store = new LogStore(path, { flushIntervalMs: 20 })
    const batches: LogMessage[][] = []
    store.subscribe({ run: 'RwD6' }, (logs) => batches.push(logs))
    store.append([entry(), entry()])
    expect(batches).toEqual([])
    await until(() => batches.length > 0)
    expect(batches).toHaveLength(1)
    expect(batches[0]).toHaveLength(2)
  })

  test('a full buffer is flushed at once, in one batch', () => {
    store = new LogStore(path, { flushSize: 3, flushIntervalMs: 60_000 })
    const batches: LogMessage[][] = []
    store.subscribe({ run: 'RwD6' }, (logs) => batches.push(logs))
    store.append([entry(), entry()])
    expect(batches).toHaveLength(0)
    store.append([entry()])
    expect(batches.map((b) => b.length)).toEqual([3])
  })

  test('a query sees entries still in the buffer', () => {
    store = new LogStore(path, { flushIntervalMs: 60_000 })
    store.append([entry()])
    expect(store.query({ run: 'RwD6' }).logs).toHaveLength(1)
  })

  test('close persists everything', () => {
    store = new LogStore(path, { flushIntervalMs: 60_000 })
    store.append(Array.from({ length: 10 }, (_, i) => entry({ timestamp: i })))
    store.close()
    expect(() => store.append([entry()])).toThrow(/closed/)
    store = new LogStore(path)
    expect(store.query({ run: 'RwD6' }).logs).toHaveLength(10)
  })

  test('values are captured when appended', () => {
    store = new LogStore(path, { flushIntervalMs: 60_000 })
    const values = parseLogValues({ n: { type: 'raw', data: 1, references: [] } })
    store.append([entry({ values })])
    delete values.n
    expect(store.query({ run: 'RwD6' }).logs[0]!.values.text).toBe('{"n":{"type":"raw","data":1,"references":[]}}')
  })
})

describe('subscriptions', () => {
  test('batches are filtered by run, execution and workspaces', () => {
    store = new LogStore(path)
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

  test('unsubscribing stops delivery; a failing subscriber does not stop the others', () => {
    const errors: unknown[] = []
    store = new LogStore(path, { onError: (err) => errors.push(err) })
    let count = 0
    const stop = store.subscribe({ run: 'RwD6' }, () => count++)
    store.subscribe({ run: 'RwD6' }, () => {
      throw new Error('client went away')
    })
    let after = 0
    store.subscribe({ run: 'RwD6' }, () => after++)
    store.append([entry()])
    store.flush()
    stop()
    store.append([entry()])
    store.flush()
    expect(count).toBe(1)
    expect(after).toBe(2)
    expect(errors).toHaveLength(2)
  })

  test('query then subscribe in one tick neither misses nor repeats', () => {
    store = new LogStore(path, { flushIntervalMs: 60_000 })
    store.append([entry({ timestamp: 1 })])
    const first = store.query({ run: 'RwD6' }).logs
    const later: LogMessage[] = []
    store.subscribe({ run: 'RwD6' }, (logs) => later.push(...logs))
    store.append([entry({ timestamp: 2 })])
    store.flush()
    expect(first.map((l) => l.timestamp)).toEqual([1])
    expect(later.map((l) => l.timestamp)).toEqual([2])
  })
})

describe('queries', () => {
  beforeEach(() => {
    store = new LogStore(path)
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

  test('paging with cursors', () => {
    const first = store.query({ run: 'RwD6', limit: 3 })
    expect(times(first.logs)).toEqual([100, 200, 300])
    expect(first.cursor).toMatch(/^:300:\d+$/)
    const second = store.query({ run: 'RwD6', limit: 3, after: first.cursor })
    expect(times(second.logs)).toEqual([400])
    const third = store.query({ run: 'RwD6', limit: 3, after: second.cursor })
    expect(third).toEqual({ logs: [], cursor: null })
    // the older form without a partition
    expect(times(store.query({ run: 'RwD6', after: first.cursor!.slice(1) }).logs)).toEqual([400])
    // a cursor into an (archived) partition: everything in the active one follows it
    expect(times(store.query({ run: 'RwD6', after: 'E1:999:1' }).logs)).toEqual([100, 200, 300, 400])
  })

  test('entries with equal timestamps page by id', () => {
    store.append(Array.from({ length: 5 }, (_, i) => entry({ runId: 'Same', timestamp: 7, template: `m${i}` })))
    const seen: string[] = []
    let after: string | null = null
    for (;;) {
      const page = store.query({ run: 'Same', limit: 2, after })
      if (page.cursor === null) break
      seen.push(...page.logs.map((l) => l.template!))
      after = page.cursor
    }
    expect(seen).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
  })

  test('bad cursors are refused', () => {
    for (const bad of ['x', '1', ':a:1', '::', '1:2:3:4']) {
      expect(() => store.query({ run: 'RwD6', after: bad })).toThrow(InvalidLogCursorError)
    }
  })

  test('limit: default 1000, at most 10000', () => {
    store.append(Array.from({ length: 10_050 }, (_, i) => entry({ runId: 'Big', timestamp: i, template: null })))
    expect(store.query({ run: 'Big' }).logs).toHaveLength(1000)
    expect(store.query({ run: 'Big', limit: 50_000 }).logs).toHaveLength(10_000)
    expect(store.query({ run: 'Big', limit: 0 }).logs).toHaveLength(1)
    expect(store.query({ run: 'Big', limit: Number.NaN }).logs).toHaveLength(1000)
  })
})

test('parseLogCursor', () => {
  expect(parseLogCursor(':1747400000123:57')).toEqual({ partition: '', timestamp: 1747400000123, id: 57 })
  expect(parseLogCursor('1747400000123:57')).toEqual({ partition: '', timestamp: 1747400000123, id: 57 })
  expect(parseLogCursor('E3:10:2')).toEqual({ partition: 'E3', timestamp: 10, id: 2 })
  expect(parseLogCursor('10:')).toBeNull()
})
