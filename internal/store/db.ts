import { Database } from 'bun:sqlite'
import { chmodSync, existsSync } from 'node:fs'
import { dialectOf, type SqlDatabase } from './sql-database.ts'

export interface Migration {
  version: number
  name: string
  sql: string
}

/** One database's migrations, numbered alike in both dialects (postgres/migrations/index.ts). */
export interface MigrationSet {
  sqlite: Migration[]
  postgres: Migration[]
}

/**
 * Opens a SQLite file for a store: WAL with synchronous=NORMAL (≈48k commits/s here, never
 * corrupt on power loss, notes/toolchain.md §3), foreign keys, and a busy timeout.
 */
export function openDatabase(path: string): Database {
  const isNew = !existsSync(path)
  const db = new Database(path, { create: true, strict: true })
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = NORMAL')
  db.exec('PRAGMA foreign_keys = ON')
  db.exec('PRAGMA busy_timeout = 5000')
  if (isNew) {
    try {
      chmodSync(path, 0o600)
    } catch {
      // not fatal: the directory is already 0700
    }
  }
  return db
}

/** Applies the missing migrations of the database's dialect in order, each in its own transaction. */
export function migrate(db: SqlDatabase, set: MigrationSet): void {
  const postgres = dialectOf(db) === 'postgres'
  const migrations = postgres ? set.postgres : set.sqlite
  db.exec(
    postgres
      ? 'CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)'
      : 'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
  )
  const applied = new Set(
    db.query<{ version: number }, []>('SELECT version FROM schema_migrations').all().map((r) => r.version),
  )
  const record = db.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue
    db.transaction(() => {
      db.exec(m.sql)
      record.run(m.version, m.name, Date.now())
    })()
  }
}

/** `db` with the migrations applied, or closed when they fail. */
export function migrated<D extends SqlDatabase>(db: D, set: MigrationSet): D {
  try {
    migrate(db, set)
    return db
  } catch (err) {
    db.close()
    throw err
  }
}

/**
 * Opens an archived database read-only. First, one written by an older version gets the later
 * migrations, and one still in WAL mode (its rotation could not switch it) leaves it; a file
 * already up to date is not opened for writing at all.
 */
export function openArchiveDatabase(path: string, migrations: MigrationSet): Database {
  if (!isReadyToRead(path, migrations)) {
    const db = new Database(path, { strict: true })
    try {
      migrate(db, migrations)
      db.exec('PRAGMA journal_mode = DELETE')
    } finally {
      db.close()
    }
  }
  return new Database(path, { readonly: true, strict: true })
}

function isReadyToRead(path: string, migrations: MigrationSet): boolean {
  try {
    const probe = new Database(path, { readonly: true, strict: true })
    try {
      const applied = new Set(probe.query<{ version: number }, []>('SELECT version FROM schema_migrations').all().map((r) => r.version))
      const mode = probe.query<{ journal_mode: string }, []>('PRAGMA journal_mode').get()?.journal_mode
      return mode !== 'wal' && migrations.sqlite.every((m) => applied.has(m.version))
    } finally {
      probe.close()
    }
  } catch {
    // not readable as it is: upgraded first
    return false
  }
}

/** Folds the WAL back into the file, then closes it. */
export function closeDatabase(db: SqlDatabase): void {
  try {
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
  } catch {
    // best effort: the WAL is replayed on the next open anyway
  }
  db.close()
}
