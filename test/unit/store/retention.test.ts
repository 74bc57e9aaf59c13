/**
 * Retention (semantics.md §23.3): archives archived before a cutoff are deleted — the file, its
 * index row, its filters — for orchestration epochs and for log/metric partitions alike; runs
 * only there become unknown, newer archives and the active store are untouched, and a reopened
 * store does not bring the deleted archives back.
 */
import { Database } from 'bun:sqlite'
import type { SqlDatabase } from '../../../internal/store/sql-database.ts'
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RawJson } from '../../../internal/protocol/json.ts'
import type { Migration } from '../../../internal/store/db.ts'
import { OrchestrationStore } from '../../../internal/store/index.ts'
import { PartitionFile, Partitions } from '../../../internal/store/partitions.ts'

const DAY_MS = 86_400_000
const T0 = Date.UTC(2026, 0, 10, 12)
let dir: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'coflux-retention-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const files = (sub: string) => readdirSync(join(dir, sub)).filter((f) => /^\d{8}_\d{4}\.sqlite$/.test(f)).sort()

/** A finished run in the active epoch: its external id. */
function finishedRun(store: OrchestrationStore, ws: number, now: number): string {
  const run = store.runs.createRun({ parentExecutionId: null, requires: {}, memo: false, idempotencyKey: null, createdBy: null }, now)
  const arg = store.values.put(['raw', new RawJson('1'), []])
  const step = store.runs.createStep(
    {
      runId: run.id, parentExecutionId: null, module: 'app', target: 'main', type: 'workflow', priority: 0, waitFor: [], cacheConfig: null,
      cacheKey: null, deferKey: null, memoKey: null, retryLimit: 0, resumeLimit: 0, concurrency: null, backoffMin: 0, backoffMax: 0,
      recurrent: false, delay: 0, timeout: 0, requires: null, argumentIds: [arg],
    },
    now,
  )
  const exec = store.runs.createExecution(step.id, ws, null, now)
  store.results.record(exec.id, { type: 'value', valueId: store.values.put(['raw', new RawJson('2'), []]) }, now)
  return run.externalId
}

test('orchestration epochs: the old archive goes, its runs become unknown; the newer one stays', async () => {
  const path = join(dir, 'orchestration.sqlite')
  let store = new OrchestrationStore(path)
  const ws = store.workspaces.create('main', null, T0).id
  const old = finishedRun(store, ws, T0)
  const oldEpoch = store.epochs!.rotate(T0)
  const recent = finishedRun(store, ws, T0 + 20 * DAY_MS)
  const recentEpoch = store.epochs!.rotate(T0 + 20 * DAY_MS)
  const live = finishedRun(store, ws, T0 + 21 * DAY_MS)
  await store.epochs!.indexed()
  expect(store.findRun(old)?.epochId).toBe(oldEpoch)

  // 30 days' retention, seen 31 days after the first rotation
  const cutoff = T0 + 31 * DAY_MS - 30 * DAY_MS
  expect(store.epochs!.deleteArchivedBefore(cutoff)).toEqual([oldEpoch])
  expect(files('orchestration')).toEqual([`${recentEpoch}.sqlite`])
  expect(store.findRun(old)).toBeNull()
  expect(store.epochs!.runIdTaken(old)).toBe(false)
  expect(store.findRun(recent)?.epochId).toBe(recentEpoch)
  expect(store.runs.getRunByExternalId(live)).not.toBeNull()
  expect(store.epochs!.list().map((e) => e.id)).toEqual([recentEpoch])
  // nothing more to delete; the index no longer lists it after a reopen
  expect(store.epochs!.deleteArchivedBefore(cutoff)).toEqual([])
  store.close()
  store = new OrchestrationStore(path)
  expect(store.epochs!.list().map((e) => e.id)).toEqual([recentEpoch])
  expect(store.findRun(old)).toBeNull()
  store.close()
})

test('a deleted archive is not indexed; the others are', async () => {
  const store = new OrchestrationStore(join(dir, 'orchestration.sqlite'))
  const ws = store.workspaces.create('main', null, T0).id
  finishedRun(store, ws, T0)
  store.epochs!.rotate(T0)
  const kept = finishedRun(store, ws, T0 + 2 * DAY_MS)
  const keptEpoch = store.epochs!.rotate(T0 + 2 * DAY_MS)
  store.epochs!.deleteArchivedBefore(T0 + DAY_MS)
  await store.epochs!.indexed()
  expect(store.epochs!.list()).toEqual([{ id: keptEpoch, archivedAt: T0 + 2 * DAY_MS, indexed: true }])
  expect(store.findRun(kept)?.epochId).toBe(keptEpoch)
  store.close()
})

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `CREATE TABLE rows (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, stamp INTEGER NOT NULL) STRICT;
          CREATE TABLE runs (run_id TEXT PRIMARY KEY) STRICT, WITHOUT ROWID;`,
  },
]

class Rows extends PartitionFile {
  constructor(id: string, db: SqlDatabase, after: number) {
    super(id, db, 'rows', 'stamp', after)
  }

  insert(run: string, stamp: number): void {
    const insert = this.db.query('INSERT INTO rows (id, run_id, stamp) VALUES (?, ?, ?)')
    this.write([{ runId: run }], (row, id) => insert.run(id, row.runId, stamp))
  }
}

test('log and metric partitions: archives before the cutoff are deleted, reads skip them', () => {
  const path = join(dir, 'logs.sqlite')
  const open = () => new Partitions<Rows>(path, { sqlite: MIGRATIONS, postgres: [] }, (id, db, after) => new Rows(id, db, after))
  let p = open()
  p.active.insert('R1', 1)
  const first = p.rotate(T0)
  p.active.insert('R2', 2)
  const second = p.rotate(T0 + 10 * DAY_MS)
  p.active.insert('R3', 3)

  expect(p.deleteArchivedBefore(T0 + DAY_MS)).toEqual([first])
  expect(files('logs')).toEqual([`${second}.sqlite`])
  expect(existsSync(join(dir, 'logs', `${first}.sqlite`))).toBe(false)
  expect([...p.readOrder(null, null)].map(({ partition }) => partition.id)).toEqual([second, ''])
  p.close()
  p = open()
  expect(p.list().map((a) => a.id)).toEqual([second])
  p.close()
})
