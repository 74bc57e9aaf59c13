import type { SqlDatabase } from './sql-database.ts'
import type { Principal } from '../protocol/api.ts'
import { generateId } from '../protocol/ids.ts'
import type { PrincipalStore } from './principals.ts'

/** A stored service token (http-api.md §6.3). Times are Unix **seconds**, as on the wire. */
export interface TokenRecord {
  id: number
  /** 13 characters of the id alphabet */
  externalId: string
  /** lowercase hex sha256 of the token's secret part; the token itself is never stored */
  tokenHash: string
  name: string | null
  /** workspace patterns; null = all */
  workspaces: string[] | null
  createdBy: Principal | null
  createdAt: number
  expiresAt: number | null
  revokedAt: number | null
}

export interface NewToken {
  tokenHash: string
  name: string | null
  workspaces: string[] | null
  createdBy: Principal | null
  expiresAt: number | null
}

interface Row {
  id: number
  external_id: string
  token_hash: string
  name: string | null
  workspaces: string | null
  created_at: number
  expires_at: number | null
  revoked_at: number | null
  principal_type: string | null
  principal_external_id: string | null
}

function toRecord(r: Row): TokenRecord {
  return {
    id: r.id,
    externalId: r.external_id,
    tokenHash: r.token_hash,
    name: r.name,
    workspaces: r.workspaces === null ? null : (JSON.parse(r.workspaces) as string[]),
    createdBy: r.principal_type === null ? null : { type: r.principal_type as Principal['type'], externalId: r.principal_external_id! },
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  }
}

const SELECT =
  'SELECT t.id, t.external_id, t.token_hash, t.name, t.workspaces, t.created_at, t.expires_at, t.revoked_at, ' +
  'p.type AS principal_type, p.external_id AS principal_external_id FROM tokens t LEFT JOIN principals p ON p.id = t.created_by'

/** Whether a token may still authenticate: neither revoked nor past its expiry. */
export function isTokenUsable(token: TokenRecord, nowSeconds: number): boolean {
  return token.revokedAt === null && (token.expiresAt === null || token.expiresAt > nowSeconds)
}

/** Service tokens (and legacy stored tokens), looked up by the hash of their secret. */
export class TokenStore {
  readonly #db: SqlDatabase
  readonly #principals: PrincipalStore
  readonly #insert
  readonly #byId
  readonly #byHash
  readonly #byExternal
  readonly #unrevoked
  readonly #revoke
  readonly #taken

  constructor(db: SqlDatabase, principals: PrincipalStore) {
    this.#db = db
    this.#principals = principals
    this.#insert = db.query<{ id: number }, [string, string, string | null, string | null, number | null, number, number | null]>(
      'INSERT INTO tokens (external_id, token_hash, name, workspaces, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id',
    )
    this.#byId = db.query<Row, [number]>(`${SELECT} WHERE t.id = ?`)
    this.#byHash = db.query<Row, [string]>(`${SELECT} WHERE t.token_hash = ?`)
    this.#byExternal = db.query<Row, [string]>(`${SELECT} WHERE t.external_id = ?`)
    this.#unrevoked = db.query<Row, []>(`${SELECT} WHERE t.revoked_at IS NULL ORDER BY t.id`)
    this.#revoke = db.query('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
    this.#taken = db.query<{ one: number }, [string]>('SELECT 1 AS one FROM tokens WHERE external_id = ?')
  }

  /** Stores a token (its creator's principal row is created on first use). */
  create(input: NewToken, nowSeconds: number): TokenRecord {
    return this.#db.transaction(() => {
      const createdBy = input.createdBy ? this.#principals.ensure(input.createdBy) : null
      const externalId = generateId('', (id) => !!this.#taken.get(id), 13)
      const workspaces = input.workspaces === null ? null : JSON.stringify(input.workspaces)
      const { id } = this.#insert.get(externalId, input.tokenHash, input.name, workspaces, createdBy, nowSeconds, input.expiresAt)!
      return toRecord(this.#byId.get(id)!)
    })()
  }

  findByHash(tokenHash: string): TokenRecord | null {
    const r = this.#byHash.get(tokenHash)
    return r ? toRecord(r) : null
  }

  getByExternalId(externalId: string): TokenRecord | null {
    const r = this.#byExternal.get(externalId)
    return r ? toRecord(r) : null
  }

  /** Tokens not revoked, oldest first; expired ones included (clients show them as expired). */
  listUnrevoked(): TokenRecord[] {
    return this.#unrevoked.all().map(toRecord)
  }

  /** Marks the token revoked; false when it already was. */
  revoke(id: number, nowSeconds: number): boolean {
    return this.#revoke.run(nowSeconds, id).changes > 0
  }
}
