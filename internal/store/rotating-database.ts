/**
 * A store's SQLite database that rotates, with its archives beside it (semantics.md §23 for the
 * orchestration store's epochs, §24 for the log and metric stores' partitions):
 *
 *     <project>/<name>.sqlite                   the active database: one handle, swapped at rotation
 *     <project>/<name>/<YYYYMMDD_NNNN>.sqlite   archives, opened read-only on first use
 *     <project>/<name>/index.sqlite             the index of the archives, with its own migrations
 *     <project>/<name>/next.sqlite              the next active database while a rotation builds it
 *
 * `RotatingDatabase` is the one owner of these files and of the handles open on them. The
 * orchestration store (`epochs.ts`) and the log and metric stores (`partitions.ts`) each keep one:
 * they say how a handle wraps a database and what an index row holds (last ids, Bloom filters);
 * the ids, the index file, the moves of a rotation and their recovery after a crash are here.
 *
 * Rotation registers the archive in the index, takes the active database out of WAL mode (so the
 * archive opens read-only without side files), closes it, moves its file into the archive
 * directory and opens the new active database in its place: the one built at `next.sqlite`, or an
 * empty one.
 *
 * The databases are files (SQLite) or schemas (PostgreSQL): every move goes through the
 * `DatabaseHost` (database-host.ts).
 */
import type { SqlDatabase } from './sql-database.ts'
import { basename, dirname, join } from 'node:path'
import { sqliteHost, type DatabaseHost } from './database-host.ts'
import type { MigrationSet } from './db.ts'

const INDEX_FILE = 'index.sqlite'
const NEXT_FILE = 'next.sqlite'
const ARCHIVE_ID = /^\d{8}_\d{4}$/

/** An archive as its index registers it; each store adds its own fields. */
export interface ArchiveEntry {
  /** `YYYYMMDD_NNNN` */
  readonly id: string
  /** the file's name in the archive directory */
  readonly file: string
  readonly archivedAt: number
}

/** A store's queries over its (migrated) index database. */
export interface ArchiveIndex<E extends ArchiveEntry> {
  /** every registered archive, in any order */
  list(): E[]
  register(entry: E): void
  forget(id: string): void
}

interface Closable {
  close(): void
}

/** The handle on the active database: rotation checkpoints and closes it. */
export interface ActiveHandle extends Closable {
  readonly db: SqlDatabase
}

export interface RotatingDatabaseOptions<Active, Archived, E extends ArchiveEntry, I> {
  /** the migrations of the active database (and of archives written by older versions) */
  migrations: MigrationSet
  /** the index's own migrations, and its queries */
  indexMigrations: MigrationSet
  openIndex(db: SqlDatabase): I
  /** the handle on the active database, migrated; `newest` is the newest archive */
  openActive(db: SqlDatabase, newest: E | null): Active
  /** the handle on an archive, opened read-only at its first use */
  openArchive(path: string, entry: E): Archived
  /** an entry for an archive file whose registration was lost, read from the file itself */
  recoverEntry(id: string, file: string, path: string): E
  /** where the databases live; SQLite files when absent */
  host?: DatabaseHost
}

/** `YYYYMMDD_NNNN`: the UTC day, never before the newest existing id's, and a counter within it. */
export function nextArchiveId(now: number, existing: Iterable<string>): string {
  const ids = [...existing]
  const newest = ids.reduce<string | null>((max, id) => (max === null || id > max ? id : max), null)
  const newestDay = newest ? Date.UTC(Number(newest.slice(0, 4)), Number(newest.slice(4, 6)) - 1, Number(newest.slice(6, 8))) : 0
  const day = new Date(Math.max(now, newestDay)).toISOString().slice(0, 10).replaceAll('-', '')
  let max = 0
  for (const id of ids) if (id.startsWith(`${day}_`)) max = Math.max(max, Number(id.slice(9)))
  return `${day}_${String(max + 1).padStart(4, '0')}`
}

function archiveDirOf(activePath: string): string {
  return join(dirname(activePath), basename(activePath, '.sqlite'))
}

/**
 * Finishes a rotation interrupted by a crash, before the active database is opened: a new
 * database that never replaced the active one is discarded, unless the active file is already
 * in the archive (then it takes its place).
 */
export function recoverRotation(activePath: string, host: DatabaseHost = sqliteHost): void {
  const next = join(archiveDirOf(activePath), NEXT_FILE)
  if (!host.exists(next)) return
  if (host.exists(activePath)) host.remove(next)
  else host.move(next, activePath)
}

/** One archived file: its index entry, and its handle once opened. */
export class Archive<Archived extends Closable, E extends ArchiveEntry> {
  readonly entry: E
  readonly path: string
  readonly #open: () => Archived
  #handle: Archived | null = null

  constructor(entry: E, path: string, open: () => Archived) {
    this.entry = entry
    this.path = path
    this.#open = open
  }

  /** Opened read-only on first use. */
  get handle(): Archived {
    return (this.#handle ??= this.#open())
  }

  close(): void {
    this.#handle?.close()
    this.#handle = null
  }
}

/** The active database of one store, its archives and their index. */
export class RotatingDatabase<Active extends ActiveHandle, Archived extends Closable, E extends ArchiveEntry, I extends ArchiveIndex<E>> {
  readonly #activePath: string
  readonly #dir: string
  readonly #options: RotatingDatabaseOptions<Active, Archived, E, I>
  readonly #host: DatabaseHost
  #index: { db: SqlDatabase; queries: I } | null = null
  /** oldest first */
  readonly #archives: Archive<Archived, E>[] = []
  #active: Active
  #closed = false

  constructor(activePath: string, options: RotatingDatabaseOptions<Active, Archived, E, I>) {
    this.#activePath = activePath
    this.#dir = archiveDirOf(activePath)
    this.#options = options
    this.#host = options.host ?? sqliteHost
    recoverRotation(activePath, this.#host)
    // nothing is created on read: the directory and its index appear with the first rotation
    if (this.#host.exists(join(this.#dir, INDEX_FILE))) this.#load()
    this.#active = this.#openActive()
  }

  /** The handle on the active database; a rotation replaces it. */
  get active(): Active {
    return this.#active
  }

  /** Archives, oldest first. */
  get archives(): readonly Archive<Archived, E>[] {
    return this.#archives
  }

  /** The index's queries; the first use creates the archive directory and the index. */
  get index(): I {
    if (!this.#index) {
      this.#host.makeDirectory(this.#dir)
      const db = this.#host.open(join(this.#dir, INDEX_FILE), this.#options.indexMigrations)
      try {
        this.#index = { db, queries: this.#options.openIndex(db) }
      } catch (err) {
        db.close()
        throw err
      }
    }
    return this.#index.queries
  }

  /**
   * Archives the active database and puts a new one in its place: the one `build` writes at the
   * path it is given (reading the active one, still open), or an empty one. `describe` makes the
   * archive's index entry. Synchronous: nothing else uses the handles meanwhile.
   */
  rotate(now: number, describe: (id: string, file: string, active: Active) => E, build?: (nextPath: string, active: Active) => void): E {
    if (this.#closed) throw new Error(`${basename(this.#activePath)} is closed`)
    const index = this.index
    const id = nextArchiveId(now, this.#archives.map((a) => a.entry.id))
    const file = `${id}.sqlite`
    const archivePath = join(this.#dir, file)
    const active = this.#active
    const nextPath = build ? this.#buildNext(build, active) : null
    const entry = describe(id, file, active)
    // registered before the move: a crash in between leaves an entry without a file, forgotten at load
    index.register(entry)
    this.#host.retire(active.db)
    active.close()
    try {
      this.#host.move(this.#activePath, archivePath)
      if (nextPath) this.#host.move(nextPath, this.#activePath)
    } catch (err) {
      // put the old active database back, whatever happened, before reporting
      if (!this.#host.exists(this.#activePath) && this.#host.exists(archivePath)) this.#host.move(archivePath, this.#activePath)
      index.forget(id)
      if (nextPath) this.#host.remove(nextPath)
      this.#active = this.#openActive()
      throw err
    }
    this.#archives.push(this.#archive(entry))
    this.#active = this.#openActive()
    return entry
  }

  /**
   * Retention (semantics.md §23.3): deletes the archives archived before `cutoff` and returns
   * their entries. Each file goes before its index row, so a crash in between leaves a row
   * without a file, which the next load forgets; the reverse would bring the file back as new.
   */
  deleteArchivedBefore(cutoff: number): E[] {
    if (this.#closed) return []
    const expired = this.#archives.filter((a) => a.entry.archivedAt < cutoff)
    for (const archive of expired) {
      archive.close()
      this.#host.remove(archive.path)
      this.index.forget(archive.entry.id)
      this.#archives.splice(this.#archives.indexOf(archive), 1)
    }
    return expired.map((a) => a.entry)
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const a of this.#archives) a.close()
    this.#active.close()
    this.#index?.db.close()
    this.#index = null
  }

  /** The next active database, written by `build`; nothing is left behind if it fails. */
  #buildNext(build: (nextPath: string, active: Active) => void, active: Active): string {
    const path = join(this.#dir, NEXT_FILE)
    this.#host.remove(path)
    try {
      build(path, active)
    } catch (err) {
      this.#host.remove(path)
      throw err
    }
    return path
  }

  #openActive(): Active {
    const db = this.#host.open(this.#activePath, this.#options.migrations)
    try {
      return this.#options.openActive(db, this.#archives.at(-1)?.entry ?? null)
    } catch (err) {
      db.close()
      throw err
    }
  }

  #archive(entry: E): Archive<Archived, E> {
    const path = join(this.#dir, entry.file)
    return new Archive(entry, path, () => this.#options.openArchive(path, entry))
  }

  #load(): void {
    const index = this.index
    const listed = new Set<string>()
    for (const entry of index.list()) {
      if (!this.#host.exists(join(this.#dir, entry.file))) {
        // registered by a rotation that never moved its file
        index.forget(entry.id)
        continue
      }
      listed.add(entry.file)
      this.#archives.push(this.#archive(entry))
    }
    // an archive in place whose registration was lost (copied in by hand) is registered again
    for (const file of this.#host.list(this.#dir).sort()) {
      const id = basename(file, '.sqlite')
      if (!file.endsWith('.sqlite') || listed.has(file) || !ARCHIVE_ID.test(id)) continue
      const entry = this.#options.recoverEntry(id, file, join(this.#dir, file))
      index.register(entry)
      this.#archives.push(this.#archive(entry))
    }
    this.#archives.sort((a, b) => (a.entry.id < b.entry.id ? -1 : 1))
  }
}
