/**
 * The PostgreSQL migrations against a real PostgreSQL: each set applies in order, one
 * transaction per migration, into a fresh schema, and builds what the SQLite set builds in
 * bun:sqlite (tables, columns with their types, keys, defaults, named indexes).
 */
import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Migration } from '../../../internal/store/db.ts'
import { EPOCH_INDEX_MIGRATIONS } from '../../../internal/store/epoch-index.ts'
import { LOG_MIGRATIONS } from '../../../internal/store/logs.ts'
import { METRIC_MIGRATIONS } from '../../../internal/store/metrics.ts'
import { ORCHESTRATION_MIGRATIONS } from '../../../internal/store/migrations/index.ts'
import { PARTITION_INDEX_MIGRATIONS } from '../../../internal/store/partitions.ts'
import {
  PG_EPOCH_INDEX_MIGRATIONS,
  PG_LOG_MIGRATIONS,
  PG_METRIC_MIGRATIONS,
  PG_ORCHESTRATION_MIGRATIONS,
  PG_PARTITION_INDEX_MIGRATIONS,
} from '../../../internal/store/postgres/migrations/index.ts'
import { startPostgres } from '../../e2e/support/postgres.ts'
import { postgresShape, sqliteShape } from './support/schema-shape.ts'

const SETS: { name: string; sqlite: Migration[]; postgres: Migration[] }[] = [
  { name: 'orchestration', sqlite: ORCHESTRATION_MIGRATIONS.sqlite, postgres: PG_ORCHESTRATION_MIGRATIONS },
  { name: 'epoch_index', sqlite: EPOCH_INDEX_MIGRATIONS.sqlite, postgres: PG_EPOCH_INDEX_MIGRATIONS },
  { name: 'logs', sqlite: LOG_MIGRATIONS.sqlite, postgres: PG_LOG_MIGRATIONS },
  { name: 'metrics', sqlite: METRIC_MIGRATIONS.sqlite, postgres: PG_METRIC_MIGRATIONS },
  { name: 'partition_index', sqlite: PARTITION_INDEX_MIGRATIONS.sqlite, postgres: PG_PARTITION_INDEX_MIGRATIONS },
]

let sql: Bun.SQL

beforeAll(async () => {
  const pg = await startPostgres()
  // one connection: `search_path` is per session
  sql = new Bun.SQL(await pg.createDatabase(), { max: 1 })
})

afterAll(async () => {
  await sql?.close()
})

/** A fresh schema with `migrations` applied up to `upTo`, each in its own transaction. */
async function migratedSchema(schema: string, migrations: Migration[], upTo = Infinity): Promise<void> {
  await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}; SET search_path TO ${schema}`)
  for (const m of migrations) {
    if (m.version > upTo) break
    await sql.begin((tx) => tx.unsafe(m.sql)).catch((err: Error) => {
      throw new Error(`${schema} ${m.version}_${m.name}: ${err.message}`)
    })
  }
}

function sqliteMigrated(migrations: Migration[]): Database {
  const db = new Database(':memory:', { strict: true })
  for (const m of migrations) db.exec(m.sql)
  return db
}

describe.each(SETS)('$name', ({ name, sqlite, postgres }) => {
  test('same versions and names as the SQLite set', () => {
    expect(postgres.map((m) => `${m.version}_${m.name}`)).toEqual(sqlite.map((m) => `${m.version}_${m.name}`))
  })

  test('applies in order and builds the tables, columns, keys and indexes SQLite has', async () => {
    await migratedSchema(name, postgres)
    const db = sqliteMigrated(sqlite)
    try {
      const expected = sqliteShape(db)
      const actual = await postgresShape(sql, name)
      expect(Object.keys(actual.tables).sort()).toEqual(Object.keys(expected.tables).sort())
      expect(Object.keys(actual.indexes).sort()).toEqual(Object.keys(expected.indexes).sort())
      expect(actual).toEqual(expected)
    } finally {
      db.close()
    }
  })
})

describe('identity keys', () => {
  test('an insert without an id gets one; an explicit id is kept; the identity is reset past it', async () => {
    await migratedSchema('identity', PG_ORCHESTRATION_MIGRATIONS)
    const insert = async (id: number | null, externalId: string) => {
      const rows =
        id === null
          ? await sql`INSERT INTO workspaces (external_id, name, created_at) VALUES (${externalId}, 'w', 0) RETURNING id`
          : await sql`INSERT INTO workspaces (id, external_id, name, created_at) VALUES (${id}, ${externalId}, 'w', 0) RETURNING id`
      return Number(rows[0].id)
    }
    expect(await insert(null, 'a')).toBe(1)
    expect(await insert(40, 'b')).toBe(40)
    // unlike SQLite's rowid, the identity stays behind an explicit id until it is reset
    await sql`SELECT setval(pg_get_serial_sequence('workspaces', 'id'), max(id)) FROM workspaces`
    expect(await insert(null, 'c')).toBe(41)
  })

  test('a key that is a reference has no identity and must be given', async () => {
    await migratedSchema('reference_keys', PG_ORCHESTRATION_MIGRATIONS)
    await sql`INSERT INTO results (execution_id, type, created_at) VALUES (7, 0, 0)`
    await expect(sql`INSERT INTO results (type, created_at) VALUES (0, 0)`).rejects.toThrow(/null value in column "execution_id"/)
  })
})

describe('translated details', () => {
  test('log templates longer than a B-tree entry are unique all the same', async () => {
    await migratedSchema('templates', PG_LOG_MIGRATIONS)
    // incompressible, far past the ~2.7 kB a B-tree index entry can hold
    const text = Array.from(crypto.getRandomValues(new Uint8Array(20_000)), (b) => String.fromCharCode(33 + (b % 90))).join('')
    await sql`INSERT INTO templates (text) VALUES (${text})`
    await expect(sql`INSERT INTO templates (text) VALUES (${text})`).rejects.toThrow(/exclusion constraint/)
    expect(await sql`INSERT INTO templates (text) VALUES (${text}) ON CONFLICT DO NOTHING RETURNING id`).toHaveLength(0)
    expect(Number((await sql`SELECT count(*) AS n FROM templates WHERE text = ${text}`)[0].n)).toBe(1)
  })

  test.each([
    ['logs', PG_LOG_MIGRATIONS, 'messages', 'id, run_id, execution_id, workspace_id, timestamp, level, values_json', "(1, 'R1', 'R1:1:1', 'W', 0, 1, '{}')"],
    ['metrics', PG_METRIC_MIGRATIONS, 'points', 'id, run_id, execution_id, workspace_id, key, value, at, created_at', "(1, 'R1', 'R1:1:1', 'W', 'k', 1.5, 0.5, 0)"],
  ])('%s 0002 fills runs from the rows already there', async (schema, migrations, table, columns, row) => {
    await migratedSchema(`${schema}_runs`, migrations, 1)
    await sql.unsafe(`INSERT INTO ${table} (${columns}) VALUES ${row}, ${row.replace('(1,', '(2,')}`)
    await sql.begin((tx) => tx.unsafe(migrations[1]!.sql))
    expect(await sql`SELECT run_id FROM runs`).toEqual([{ run_id: 'R1' }])
  })

  test('a suspension gate names a dependency or an input, not both, not neither', async () => {
    await migratedSchema('gates', PG_ORCHESTRATION_MIGRATIONS)
    await sql`INSERT INTO suspension_gates (execution_id, dependency_id) VALUES (1, 2)`
    await sql`INSERT INTO suspension_gates (execution_id, input_id) VALUES (1, 3)`
    await expect(sql`INSERT INTO suspension_gates (execution_id) VALUES (1)`).rejects.toThrow(/check constraint/)
    await expect(sql`INSERT INTO suspension_gates (execution_id, dependency_id, input_id) VALUES (1, 4, 5)`).rejects.toThrow(/check constraint/)
    await expect(sql`INSERT INTO suspension_gates (execution_id, dependency_id) VALUES (1, 2)`).rejects.toThrow(/suspension_gates_execution/)
  })
})
