/**
 * Project leases (several servers on one PostgreSQL): each project is served by the one server
 * holding its lease, a row in `coflux.leases` that it renews; when it stops renewing, another
 * takes it. PostgreSQL's clock decides expiry, so the servers' clocks need not agree.
 *
 * Fencing: every lease taken gets a new `token`, and every top-level transaction of the
 * holder's project databases begins with `coflux.fence(…)` (sent with its BEGIN, no round trip of
 * its own), which reads its row `FOR KEY SHARE` and fails
 * unless the holder and token are still its own. A taker locks the row `FOR UPDATE` first, so it
 * waits for such a transaction to end, and any later one of the old holder's fails: a paused or
 * partitioned old owner cannot write after losing the lease, whatever its clock says. Renewal is
 * a plain UPDATE (a no-key update), which such a transaction does not block: the holder renews
 * while its own write batch is open. (A holder paused inside a transaction is
 * cut off by PostgreSQL's idle-in-transaction timeout, which ends the wait.)
 */
import { PostgresDatabase } from './database.ts'
import { CATALOG_SCHEMA, ensureCatalog } from './host.ts'

export interface Lease {
  project: string
  token: number
}

export interface LeaseOwner {
  holder: string
  /** where clients reach the holder (`host:port`) */
  address: string
  expired: boolean
}

/** What the fence raises when the lease is gone (a class of our own: "CF") */
export const FENCE_SQLSTATE = 'CF001'

/** `'text'` as a PostgreSQL string literal (standard_conforming_strings, the default since 9.1). */
function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`
}

/** The lease of this project is no longer this server's: nothing more may be written for it. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError'
  constructor(readonly project: string) {
    super(`this server no longer holds the lease of project ${project}`)
  }
}

export class LeaseTable {
  readonly #db: PostgresDatabase
  readonly #holder: string
  readonly #address: () => string
  readonly #ttlMs: number

  /** `holder`: this server process, unique; `address`: where clients reach it (known once it listens). */
  constructor(options: { url: string; holder: string; address: () => string; ttlMs: number }) {
    this.#holder = options.holder
    this.#address = options.address
    this.#ttlMs = options.ttlMs
    // a takeover waits for the old holder's transaction to end: never long, and never the event loop's whole turn
    this.#db = new PostgresDatabase({ url: options.url, schema: CATALOG_SCHEMA, statementTimeoutMs: 5_000 })
    ensureCatalog(this.#db)
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS leases (
        project TEXT COLLATE "C" PRIMARY KEY,
        holder TEXT COLLATE "C" NOT NULL,
        address TEXT COLLATE "C" NOT NULL,
        token BIGINT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL
      )`)
    // a function, so that the fence is one statement without parameters, sent with BEGIN
    this.#db.transaction(() => {
      this.#db.query('SELECT pg_advisory_xact_lock(70002)').get()
      this.#db.exec(`
        CREATE OR REPLACE FUNCTION fence(p TEXT, h TEXT, t BIGINT) RETURNS VOID LANGUAGE plpgsql AS $fence$
        BEGIN
          PERFORM 1 FROM ${CATALOG_SCHEMA}.leases WHERE project = p AND holder = h AND token = t FOR KEY SHARE;
          IF NOT FOUND THEN
            RAISE EXCEPTION 'the lease of project % is no longer this server''s', p USING ERRCODE = '${FENCE_SQLSTATE}';
          END IF;
        END
        $fence$`)
    })()
    this.#db.exec("SET lock_timeout = '1s'")
  }

  get holder(): string {
    return this.#holder
  }

  /** Takes the project's lease if nobody holds it, it expired, or it is already ours; null when another server holds it. */
  acquire(project: string): Lease | null {
    try {
      const row = this.#db.transaction(() => {
        // waits (up to lock_timeout) for the holder's fenced transactions to end
        this.#db.query<unknown, [string]>('SELECT 1 FROM leases WHERE project = ? FOR UPDATE').all(project)
        return this.#db
          .query<{ token: number }, [string, string, string, number]>(
            `INSERT INTO leases (project, holder, address, token, expires_at)
             VALUES (?, ?, ?, 1, clock_timestamp() + make_interval(secs => ? / 1000.0))
             ON CONFLICT (project) DO UPDATE SET holder = excluded.holder, address = excluded.address,
               token = leases.token + 1, expires_at = excluded.expires_at
             WHERE leases.expires_at < clock_timestamp() OR leases.holder = excluded.holder
             RETURNING token`,
          )
          .get(project, this.#holder, this.#address(), this.#ttlMs)
      })()
      return row ? { project, token: row.token } : null
    } catch (err) {
      // the old holder is inside a transaction (lock_timeout): try again on the next round
      if ((err as { code?: string }).code === '55P03') return null
      throw err
    }
  }

  /** Extends our lease; false when it is no longer ours. */
  renew(lease: Lease): boolean {
    return (
      this.#db
        .query<unknown, [number, string, string, number]>(
          'UPDATE leases SET expires_at = clock_timestamp() + make_interval(secs => ? / 1000.0) WHERE project = ? AND holder = ? AND token = ?',
        )
        .run(this.#ttlMs, lease.project, this.#holder, lease.token).changes > 0
    )
  }

  /** Gives the lease up now (a graceful stop): a standby need not wait for it to expire. */
  release(lease: Lease): void {
    this.#db
      .query<unknown, [string, string, number]>("UPDATE leases SET expires_at = clock_timestamp() - interval '1 second' WHERE project = ? AND holder = ? AND token = ?")
      .run(lease.project, this.#holder, lease.token)
  }

  /** Who holds the project's lease, if anyone ever did. */
  owner(project: string): LeaseOwner | null {
    return (
      this.#db
        .query<LeaseOwner, [string]>('SELECT holder, address, expires_at < clock_timestamp() AS expired FROM leases WHERE project = ?')
        .get(project) ?? null
    )
  }

  /** Projects whose lease has expired (or was released): candidates for a takeover. */
  expired(): string[] {
    return this.#db
      .query<{ project: string }, []>('SELECT project FROM leases WHERE expires_at < clock_timestamp() ORDER BY project')
      .all()
      .map((r) => r.project)
  }

  /**
   * The fence of a holder's transactions (see the header): a statement for the start of each
   * transaction on the project's databases, which fails with FENCE_SQLSTATE unless the lease is
   * still this holder's, under this token.
   */
  fenceStatement(lease: Lease): string {
    return `SELECT ${CATALOG_SCHEMA}.fence(${quoteLiteral(lease.project)}, ${quoteLiteral(this.#holder)}, ${Math.trunc(lease.token)})`
  }

  close(): void {
    this.#db.close()
  }
}
