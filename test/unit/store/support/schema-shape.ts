/**
 * The shape of a schema read back from the database itself, in one vocabulary for SQLite and
 * PostgreSQL, so a test can check that the PostgreSQL migrations build what the SQLite ones do:
 * tables, columns (type, NOT NULL, default, identity), primary and unique keys, named indexes.
 * Constraint-backed indexes are compared as keys, not by name: their names are generated
 * (`sqlite_autoindex_t_1` against `t_pkey`).
 */
import type { Database } from 'bun:sqlite'

export interface ColumnShape {
  type: 'integer' | 'text' | 'blob' | 'real'
  notNull: boolean
  default: string | null
  /** assigned on an insert that leaves it out: SQLite's `id INTEGER PRIMARY KEY`, a PG identity */
  identity: boolean
}

export interface IndexShape {
  table: string
  columns: string[]
  unique: boolean
  partial: boolean
}

export interface SchemaShape {
  tables: Record<string, { columns: Record<string, ColumnShape>; primaryKey: string[]; uniqueKeys: string[] }>
  indexes: Record<string, IndexShape>
}

const SQLITE_TYPES: Record<string, ColumnShape['type']> = { INTEGER: 'integer', TEXT: 'text', BLOB: 'blob', REAL: 'real' }

export function sqliteShape(db: Database): SchemaShape {
  const shape: SchemaShape = { tables: {}, indexes: {} }
  const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all()
  for (const { name: table } of tables) {
    const info = db
      .query<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number }, []>(`PRAGMA table_info("${table}")`)
      .all()
    const primaryKey = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name)
    const columns: Record<string, ColumnShape> = {}
    for (const c of info) {
      const type = SQLITE_TYPES[c.type]
      if (!type) throw new Error(`${table}.${c.name}: unexpected SQLite type ${c.type}`)
      const isRowid = c.name === 'id' && type === 'integer' && primaryKey.length === 1 && c.pk === 1
      // a key column holds no NULL: PostgreSQL reports it NOT NULL, SQLite's pragma only when declared
      columns[c.name] = { type, notNull: c.notnull === 1 || c.pk > 0, default: c.dflt_value, identity: isRowid }
    }
    const uniqueKeys: string[] = []
    const indexList = db.query<{ name: string; unique: number; origin: string; partial: number }, []>(`PRAGMA index_list("${table}")`).all()
    for (const index of indexList) {
      const indexColumns = db
        .query<{ name: string }, []>(`PRAGMA index_info("${index.name}")`)
        .all()
        .map((r) => r.name)
      if (index.origin === 'u') uniqueKeys.push(indexColumns.join(','))
      if (index.origin === 'c') {
        shape.indexes[index.name] = { table, columns: indexColumns, unique: index.unique === 1, partial: index.partial === 1 }
      }
    }
    shape.tables[table] = { columns, primaryKey, uniqueKeys: uniqueKeys.sort() }
  }
  return shape
}

interface PgColumn {
  column_name: string
  data_type: string
  is_nullable: string
  column_default: string | null
  collation_name: string | null
  is_identity: string
}

const PG_TYPES: Record<string, ColumnShape['type']> = { bigint: 'integer', text: 'text', bytea: 'blob', 'double precision': 'real' }

/** The shape of one PostgreSQL schema; also checks every text column collates as "C". */
export async function postgresShape(sql: Bun.SQL, schema: string): Promise<SchemaShape> {
  const shape: SchemaShape = { tables: {}, indexes: {} }
  const tables: { table_name: string }[] = await sql`
    SELECT table_name FROM information_schema.tables WHERE table_schema = ${schema} AND table_type = 'BASE TABLE'`
  for (const { table_name: table } of tables) {
    const info: PgColumn[] = await sql`
      SELECT column_name, data_type, is_nullable, column_default, collation_name, is_identity
      FROM information_schema.columns WHERE table_schema = ${schema} AND table_name = ${table}`
    const columns: Record<string, ColumnShape> = {}
    for (const c of info) {
      // SQLite's implicit rowid, made explicit where the store orders by it (children, metric_definitions)
      if (c.column_name === 'rowid' && c.is_identity === 'YES') continue
      const type = PG_TYPES[c.data_type]
      if (!type) throw new Error(`${table}.${c.column_name}: unexpected PostgreSQL type ${c.data_type}`)
      if (type === 'text' && c.collation_name !== 'C') throw new Error(`${table}.${c.column_name}: collation ${c.collation_name}, not "C"`)
      columns[c.column_name] = { type, notNull: c.is_nullable === 'NO', default: c.column_default, identity: c.is_identity === 'YES' }
    }
    const keys: { contype: string; columns: string }[] = await sql`
      SELECT k.contype, string_agg(a.attname, ',' ORDER BY u.ord) AS columns
      FROM pg_constraint k
      JOIN pg_class t ON t.oid = k.conrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
      CROSS JOIN unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = u.attnum
      WHERE n.nspname = ${schema} AND t.relname = ${table} AND k.contype IN ('p', 'u', 'x')
      GROUP BY k.oid, k.contype`
    shape.tables[table] = {
      columns,
      primaryKey: keys.find((k) => k.contype === 'p')?.columns.split(',') ?? [],
      uniqueKeys: keys.filter((k) => k.contype !== 'p').map((k) => k.columns).sort(),
    }
  }
  const indexes: { name: string; table: string; columns: string; unique: boolean; partial: boolean }[] = await sql`
    SELECT c.relname AS name, t.relname AS table, i.indisunique AS unique, i.indpred IS NOT NULL AS partial,
      (SELECT string_agg(a.attname, ',' ORDER BY u.ord)
       FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = u.attnum) AS columns
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_class t ON t.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema}
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)`
  for (const i of indexes) shape.indexes[i.name] = { table: i.table, columns: i.columns.split(','), unique: i.unique, partial: i.partial }
  return shape
}
