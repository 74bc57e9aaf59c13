/** The partition machinery under the log and metric stores: files, the index, filters, recovery. */
import { Database } from 'bun:sqlite'
import type { SqlDatabase } from '../../../internal/store/sql-database.ts'
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Migration } from '../../../internal/store/db.ts'
import { PartitionFile, Partitions } from '../../../internal/store/partitions.ts'

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `CREATE TABLE rows (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, stamp INTEGER NOT NULL) STRICT;
          CREATE TABLE runs (run_id TEXT PRIMARY KEY) STRICT, WITHOUT ROWID;`,
  },
]

/** A partition of bare rows: (id, run, stamp). */
class Rows extends PartitionFile {
  constructor(id: string, db: SqlDatabase, after: number) {
    super(id, db, 'rows', 'stamp', after)
  }

  insert(runs: string[], stamp: number): number[] {
    const insert = this.db.query('INSERT INTO rows (id, run_id, stamp) VALUES (?, ?, ?)')
    return this.write(
      runs.map((runId) => ({ runId })),
      (row, id) => {
        insert.run(id, row.runId, stamp)
        return id
      },
    )
  }

  ids(run: string): number[] {
    return this.db.query<{ id: number }, [string]>('SELECT id FROM rows WHERE run_id = ? ORDER BY id').all(run).map((r) => r.id)
  }
}

const DAY = Date.UTC(2025, 4, 16)
let dir: string
let path: string
let partitions: Partitions<Rows> | null
/** ids of the archives opened, in order */
let opened: string[]

function open(): Partitions<Rows> {
  partitions?.close()
  return (partitions = new Partitions(path, { sqlite: MIGRATIONS, postgres: [] }, (id, db, after) => {
    if (id !== '') opened.push(id)
    return new Rows(id, db, after)
  }))
}

/** What a page for `run` reads: [partition id, ids] for each partition visited. */
function read(p: Partitions<Rows>, run: string | null): [string, number[]][] {
  return [...p.readOrder(null, run)].map(({ partition }) => [partition.id, run === null ? [] : partition.ids(run)])
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'coflux-partitions-'))
  path = join(dir, 'logs.sqlite')
  partitions = null
  opened = []
})
afterEach(() => {
  partitions?.close()
  rmSync(dir, { recursive: true, force: true })
})

test('rotation moves the active file into the archive directory, read-only and out of WAL mode', () => {
  const p = open()
  expect(existsSync(join(dir, 'logs'))).toBe(false)
  p.active.insert(['A'], 10)
  expect(p.rotate(DAY)).toBe('20250516_0001')
  expect(readdirSync(dir).sort()).toEqual(['logs', 'logs.sqlite', 'logs.sqlite-shm', 'logs.sqlite-wal'])
  expect(readdirSync(join(dir, 'logs')).sort()).toEqual(['20250516_0001.sqlite', 'index.sqlite', 'index.sqlite-shm', 'index.sqlite-wal'])
  const archive = join(dir, 'logs', '20250516_0001.sqlite')
  expect(statSync(archive).mode & 0o777).toBe(0o600)
  const db = new Database(archive, { readonly: true })
  expect(db.query('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'delete' })
  db.close()
  // ids go on from the archive's
  expect(p.active.insert(['A'], 20)).toEqual([2])
  expect(read(p, 'A')).toEqual([
    ['20250516_0001', [1]],
    ['', [2]],
  ])
  expect(() => [...p.readOrder(null, 'A')][0]!.partition.insert(['A'], 30)).toThrow(/readonly/)
})

test('the run filters skip archives without the run, without opening them', () => {
  let p = open()
  p.active.insert(['A', 'B'], 1)
  p.rotate(DAY)
  p.active.insert(['B'], 2)
  p.rotate(DAY)
  p.active.insert(['C'], 3)
  p.rotate(DAY)
  p = open()
  expect(read(p, 'C')).toEqual([
    ['20250516_0003', [4]],
    ['', []],
  ])
  expect(opened).toEqual(['20250516_0003'])
  // a run in no archive opens none (a false positive at 5 % is unlikely for three keys)
  expect(read(p, 'nothing')).toEqual([['', []]])
  expect(opened).toEqual(['20250516_0003'])
  expect(read(p, 'A')).toEqual([
    ['20250516_0001', [1]],
    ['', []],
  ])
  // a read for every run opens every archive
  expect(read(p, null).map(([id]) => id)).toEqual(['20250516_0001', '20250516_0002', '20250516_0003', ''])
})

test('archive ids count within a day and never go back with the clock', () => {
  const p = open()
  expect(p.rotate(DAY)).toBe('20250516_0001')
  expect(p.rotate(DAY + 3600_000)).toBe('20250516_0002')
  expect(p.rotate(DAY + 86_400_000)).toBe('20250517_0001')
  expect(p.rotate(DAY)).toBe('20250517_0002')
  expect(p.list().map((a) => a.id)).toEqual(['20250516_0001', '20250516_0002', '20250517_0001', '20250517_0002'])
})

test('the newest stamp survives a rotation and a restart with an empty active partition', () => {
  let p = open()
  p.active.insert(['A'], 5000)
  p.rotate(DAY)
  p = open()
  expect(p.lastStamp()).toBe(5000)
  expect(p.active.newest()).toBeNull()
  expect(p.active.insert(['A'], 6000)).toEqual([2])
})

test('a crash between registering an archive and moving its file leaves no trace', () => {
  let p = open()
  p.active.insert(['A'], 1)
  p.rotate(DAY)
  p.close()
  partitions = null
  // as if the move had never happened: the file back in place, its registration kept
  renameSync(join(dir, 'logs', '20250516_0001.sqlite'), path)
  p = open()
  expect(p.list()).toEqual([])
  expect(read(p, 'A')).toEqual([['', [1]]])
  expect(p.rotate(DAY)).toBe('20250516_0001')
})

test('an archive file without a registration is registered from its contents', () => {
  let p = open()
  p.active.insert(['A', 'B'], 7)
  p.rotate(DAY)
  p.active.insert(['B'], 8)
  p.close()
  partitions = null
  // lose the index: the archive is described again from the file
  for (const f of readdirSync(join(dir, 'logs'))) if (f.startsWith('index.sqlite')) rmSync(join(dir, 'logs', f))
  writeFileSync(join(dir, 'logs', 'index.sqlite'), '')
  p = open()
  expect(p.list().map((a) => a.id)).toEqual(['20250516_0001'])
  expect(p.lastStamp()).toBe(8)
  expect(read(p, 'A')).toEqual([
    ['20250516_0001', [1]],
    ['', []],
  ])
  expect(read(p, 'B')).toEqual([
    ['20250516_0001', [2]],
    ['', [3]],
  ])
  // cursors of the active store before the rotation still find the archive by id
  const [first] = [...p.readOrder({ partition: '', timestamp: 7, id: 1 }, 'B')]
  expect(first!.partition.id).toBe('20250516_0001')
  expect(p.active.insert(['B'], 9)).toEqual([4])
})

test('an index written before it had migrations is taken over as it is', () => {
  let p = open()
  p.active.insert(['A'], 1)
  p.rotate(DAY)
  p.close()
  partitions = null
  // as the index was created before its table moved into migrations: no schema_migrations
  const index = new Database(join(dir, 'logs', 'index.sqlite'))
  index.exec('DROP TABLE schema_migrations')
  index.close()
  p = open()
  expect(p.list().map((a) => a.id)).toEqual(['20250516_0001'])
  expect(read(p, 'A')).toEqual([
    ['20250516_0001', [1]],
    ['', []],
  ])
  const reopened = new Database(join(dir, 'logs', 'index.sqlite'), { readonly: true })
  expect(reopened.query('SELECT version, name FROM schema_migrations').all()).toEqual([{ version: 1, name: 'initial' }])
  reopened.close()
})
