/**
 * Where a store's databases live. The stores name a database by the path of its SQLite file
 * (`<data>/projects/<id>/orchestration.sqlite`, archives beside it); the host decides what that
 * path means:
 *
 * - `sqliteHost`: the file itself (the embedded default);
 * - `PostgresHost` (postgres/host.ts): a schema in one PostgreSQL database, found through a
 *   catalog by the path relative to the data directory, so servers with different data
 *   directories share it.
 *
 * Rotation (rotating-database.ts) moves and deletes databases only through the host.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { migrated, openArchiveDatabase, openDatabase, type MigrationSet } from './db.ts'
import type { SqlDatabase, SqlDialect } from './sql-database.ts'

export interface DatabaseHost {
  readonly dialect: SqlDialect
  /** The database at `path`, created when absent and migrated. */
  open(path: string, migrations: MigrationSet): SqlDatabase
  /** An archived database, read-only; brought up to date first if an older version wrote it. */
  openArchive(path: string, migrations: MigrationSet): SqlDatabase
  exists(path: string): boolean
  /** Moves a database (closed) to a path where none is. */
  move(from: string, to: string): void
  /** Deletes a database (closed), if there. */
  remove(path: string): void
  /** The names of the databases directly in `dir` (`<name>.sqlite`). */
  list(dir: string): string[]
  /** The subdirectories of `dir` that hold a database named `file` (projects). */
  directoriesWith(dir: string, file: string): string[]
  /** Makes `dir` ready to hold databases. */
  makeDirectory(dir: string): void
  /** Bytes the database takes (the rotation threshold, semantics.md §23.1, §24). */
  sizeBytes(path: string, db: SqlDatabase): number
  /** Prepares an open database to become an archive (its owner closes it next). */
  retire(db: SqlDatabase): void
  /** Releases what the host itself holds (the PostgreSQL catalog's connection). */
  close(): void
}

const SIDE_FILES = ['-wal', '-shm', '-journal']

export const sqliteHost: DatabaseHost = {
  dialect: 'sqlite',
  open: (path, migrations) => migrated(openDatabase(path), migrations),
  openArchive: (path, migrations) => openArchiveDatabase(path, migrations),
  exists: (path) => existsSync(path),
  move(from, to) {
    renameSync(from, to)
    for (const suffix of ['-wal', '-shm']) {
      if (existsSync(from + suffix)) renameSync(from + suffix, to + suffix)
    }
  },
  remove(path) {
    for (const suffix of ['', ...SIDE_FILES]) rmSync(path + suffix, { force: true })
  },
  list: (dir) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.sqlite')) : []),
  directoriesWith: (dir, file) => (existsSync(dir) ? [...new Bun.Glob(`*/${file}`).scanSync({ cwd: dir })].map((e) => e.split('/')[0]!) : []),
  makeDirectory: (dir) => mkdirSync(dir, { recursive: true, mode: 0o700 }),
  sizeBytes(path) {
    // the file and its WAL: what the disk holds
    let total = 0
    for (const file of [path, `${path}-wal`]) {
      try {
        total += statSync(file).size
      } catch {
        // no such file yet
      }
    }
    return total
  },
  retire(db) {
    try {
      // out of WAL mode, so the archive opens read-only without side files
      db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
      db.exec('PRAGMA journal_mode = DELETE')
    } catch {
      // still readable: an archive in WAL mode leaves it when opened
    }
  },
  close() {},
}
