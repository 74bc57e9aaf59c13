import type { SqlDatabase } from './sql-database.ts'
import type { Principal } from '../protocol/api.ts'

/**
 * Who did something (cli.md §7.2): a Studio user (JWT `sub`) or a service token. Rows are
 * created on first use, so a read never writes one.
 */
export class PrincipalStore {
  readonly #insert
  readonly #find
  readonly #byId

  constructor(db: SqlDatabase) {
    this.#insert = db.query('INSERT INTO principals (type, external_id) VALUES (?, ?) ON CONFLICT (type, external_id) DO NOTHING')
    this.#find = db.query<{ id: number }, [string, string]>('SELECT id FROM principals WHERE type = ? AND external_id = ?')
    this.#byId = db.query<{ type: string; external_id: string }, [number]>('SELECT type, external_id FROM principals WHERE id = ?')
  }

  /** The row id of this principal, inserting it the first time. */
  ensure(principal: Principal): number {
    this.#insert.run(principal.type, principal.externalId)
    return this.#find.get(principal.type, principal.externalId)!.id
  }

  /** The id of an existing principal, or null (never writes). */
  find(principal: Principal): number | null {
    return this.#find.get(principal.type, principal.externalId)?.id ?? null
  }

  get(id: number): Principal | null {
    const r = this.#byId.get(id)
    return r ? { type: r.type as Principal['type'], externalId: r.external_id } : null
  }
}
