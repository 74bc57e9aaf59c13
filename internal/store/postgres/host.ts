/**
 * Databases as PostgreSQL schemas (database-host.ts): the stores still name each database by
 * its SQLite path, and a catalog in the `coflux` schema maps that path, relative to the data
 * directory, to a schema `d<N>`:
 *
 *     coflux.databases(name, schema)   'projects/demo/orchestration.sqlite' → d1
 *                                      'projects/demo/orchestration/20261206_0001.sqlite' → d7
 *
 * So a rotation's moves are one catalog update each (transactional, unlike a rename of files),
 * deleting an archive drops its schema, and servers with different data directories share the
 * same names. Each database handle is a connection whose search_path is its schema.
 */
import { relative } from 'node:path'
import type { DatabaseHost } from '../database-host.ts'
import { migrated, type MigrationSet } from '../db.ts'
import type { SqlDatabase } from '../sql-database.ts'
import { PostgresDatabase, type Fence } from './database.ts'

export const CATALOG_SCHEMA = 'coflux'

export interface PostgresHostOptions {
  url: string
  /** the data directory: database paths are named relative to it */
  root: string
  /** runs first in every top-level transaction of the databases opened here (lease fence) */
  fence?: Fence
  /** a database opened here lost its connection inside a transaction (database.ts) */
  onBroken?: () => void
}

/** Creates the catalog once per database, whichever server comes first (an advisory lock orders them). */
export function ensureCatalog(catalog: SqlDatabase): void {
  catalog.transaction(() => {
    catalog.query('SELECT pg_advisory_xact_lock(70001)').get()
    catalog.exec(`
      CREATE TABLE IF NOT EXISTS databases (
        name TEXT COLLATE "C" PRIMARY KEY,
        schema TEXT COLLATE "C" NOT NULL UNIQUE,
        created_at BIGINT NOT NULL
      );
      CREATE SEQUENCE IF NOT EXISTS database_numbers;
    `)
  })()
}

export class PostgresHost implements DatabaseHost {
  readonly dialect = 'postgres' as const
  readonly #options: PostgresHostOptions
  readonly #catalog: PostgresDatabase

  constructor(options: PostgresHostOptions) {
    this.#options = options
    this.#catalog = new PostgresDatabase({ url: options.url, schema: CATALOG_SCHEMA })
    ensureCatalog(this.#catalog)
  }

  open(path: string, migrations: MigrationSet): SqlDatabase {
    return migrated(this.#connect(this.#schemaOf(path, { create: true })!), migrations)
  }

  openArchive(path: string, migrations: MigrationSet): SqlDatabase {
    const db = this.open(path, migrations)
    db.exec('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY')
    return db
  }

  exists(path: string): boolean {
    return this.#schemaOf(path, { create: false }) !== null
  }

  move(from: string, to: string): void {
    const moved = this.#catalog
      .query<unknown, [string, string]>('UPDATE databases SET name = ? WHERE name = ?')
      .run(this.#name(to), this.#name(from)).changes
    if (moved === 0) throw new Error(`no database at ${this.#name(from)}`)
  }

  remove(path: string): void {
    this.#catalog.transaction(() => {
      const schema = this.#schemaOf(path, { create: false })
      if (schema === null) return
      this.#catalog.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      this.#catalog.query<unknown, [string]>('DELETE FROM databases WHERE name = ?').run(this.#name(path))
    })()
  }

  list(dir: string): string[] {
    const prefix = `${this.#name(dir)}/`
    return this.#catalog
      .query<{ name: string }, [Record<string, string>]>(
        'SELECT name FROM databases WHERE left(name, length(CAST($prefix AS text))) = CAST($prefix AS text) ORDER BY name',
      )
      .all({ prefix })
      .map((r) => r.name.slice(prefix.length))
      .filter((rest) => !rest.includes('/') && rest.endsWith('.sqlite'))
  }

  directoriesWith(dir: string, file: string): string[] {
    const prefix = `${this.#name(dir)}/`
    return this.#catalog
      .query<{ name: string }, [Record<string, string>]>(
        'SELECT name FROM databases WHERE left(name, length(CAST($prefix AS text))) = CAST($prefix AS text) ORDER BY name',
      )
      .all({ prefix })
      .map((r) => r.name.slice(prefix.length).split('/'))
      .filter((parts) => parts.length === 2 && parts[1] === file)
      .map((parts) => parts[0]!)
  }

  makeDirectory(): void {
    // schemas need no directory
  }

  sizeBytes(_path: string, db: SqlDatabase): number {
    return (
      db
        .query<{ n: number }, []>(
          "SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0) AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = current_schema() AND c.relkind = 'r'",
        )
        .get()?.n ?? 0
    )
  }

  retire(): void {
    // a schema is archived as it is
  }

  close(): void {
    this.#catalog.close()
  }

  /** The catalog's name for a database path: relative to the data directory. */
  #name(path: string): string {
    const rel = relative(this.#options.root, path)
    return rel.startsWith('..') ? path : rel
  }

  #schemaOf(path: string, options: { create: boolean }): string | null {
    const name = this.#name(path)
    const find = () => this.#catalog.query<{ schema: string }, [string]>('SELECT schema FROM databases WHERE name = ?').get(name)?.schema ?? null
    const found = find()
    if (found !== null || !options.create) return found
    this.#catalog
      .query<unknown, [string, number]>("INSERT OR IGNORE INTO databases (name, schema, created_at) VALUES (?, 'd' || nextval('database_numbers'), ?)")
      .run(name, Date.now())
    return find()
  }

  #connect(schema: string): PostgresDatabase {
    return new PostgresDatabase({ url: this.#options.url, schema, fence: this.#options.fence, onBroken: this.#options.onBroken })
  }
}
