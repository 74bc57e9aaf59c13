import type { SqlDatabase } from './sql-database.ts'
import type { TagSet } from '../protocol/api.ts'
import { ID_ALPHABET, generateId } from '../protocol/ids.ts'
import type { SessionRecord } from './types.ts'

interface Row {
  id: number
  external_id: string
  secret_hash: Uint8Array
  workspace_id: number
  provides: string
  accepts: string
  worker_id: number | null
  activation_timeout: number
  reconnection_timeout: number
  created_at: number
  activated_at: number | null
  expired_at: number | null
}

function toRecord(r: Row): SessionRecord {
  return {
    id: r.id,
    externalId: r.external_id,
    secretHash: r.secret_hash,
    workspaceId: r.workspace_id,
    provides: JSON.parse(r.provides) as TagSet,
    accepts: JSON.parse(r.accepts) as TagSet,
    workerId: r.worker_id,
    activationTimeout: r.activation_timeout,
    reconnectionTimeout: r.reconnection_timeout,
    createdAt: r.created_at,
    activatedAt: r.activated_at,
    expiredAt: r.expired_at,
  }
}

/** Worker sessions (semantics.md §20.1). Only the SHA-256 of the secret is stored. */
export class SessionStore {
  readonly #insert
  readonly #byId
  readonly #byExternal
  readonly #live
  readonly #activate
  readonly #expire
  readonly #taken

  constructor(db: SqlDatabase) {
    this.#insert = db.query<Row, [string, Uint8Array, number, string, string, number | null, number, number, number]>(
      'INSERT INTO sessions (external_id, secret_hash, workspace_id, provides, accepts, worker_id, activation_timeout, reconnection_timeout, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *',
    )
    this.#byId = db.query<Row, [number]>('SELECT * FROM sessions WHERE id = ?')
    this.#byExternal = db.query<Row, [string]>('SELECT * FROM sessions WHERE external_id = ?')
    this.#live = db.query<Row, []>('SELECT * FROM sessions WHERE expired_at IS NULL')
    this.#activate = db.query('UPDATE sessions SET activated_at = ? WHERE id = ? AND activated_at IS NULL')
    this.#expire = db.query('UPDATE sessions SET expired_at = ? WHERE id = ? AND expired_at IS NULL')
    this.#taken = db.query<{ one: number }, [string]>('SELECT 1 AS one FROM sessions WHERE external_id = ?')
  }

  /** Creates a session and returns it with its token `<external id>.<secret>` (shown once). */
  create(
    input: { workspaceId: number; provides: TagSet; accepts: TagSet; workerId?: number | null; activationTimeout?: number; reconnectionTimeout?: number },
    now: number,
  ): { session: SessionRecord; token: string } {
    const externalId = generateId('', (id) => !!this.#taken.get(id), 13)
    const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url')
    const row = this.#insert.get(
      externalId,
      hashSecret(secret),
      input.workspaceId,
      JSON.stringify(input.provides),
      JSON.stringify(input.accepts),
      input.workerId ?? null,
      input.activationTimeout ?? 600_000,
      input.reconnectionTimeout ?? 30_000,
      now,
    )!
    return { session: toRecord(row), token: `${externalId}.${secret}` }
  }

  get(id: number): SessionRecord | null {
    const r = this.#byId.get(id)
    return r ? toRecord(r) : null
  }

  getByExternalId(externalId: string): SessionRecord | null {
    const r = this.#byExternal.get(externalId)
    return r ? toRecord(r) : null
  }

  /** Sessions that have not expired (start-up restore). */
  live(): SessionRecord[] {
    return this.#live.all().map(toRecord)
  }

  /** Verifies a session token in constant time; returns the live session or null. */
  authenticate(token: string): SessionRecord | null {
    const dot = token.indexOf('.')
    if (dot <= 0 || dot === token.length - 1) return null
    const externalId = token.slice(0, dot)
    if (externalId.length !== 13 || [...externalId].some((c) => !ID_ALPHABET.includes(c))) return null
    const session = this.getByExternalId(externalId)
    if (!session || session.expiredAt !== null) return null
    const presented = hashSecret(token.slice(dot + 1))
    return crypto.timingSafeEqual(presented, session.secretHash) ? session : null
  }

  activate(id: number, now: number): void {
    this.#activate.run(now, id)
  }

  expire(id: number, now: number): void {
    this.#expire.run(now, id)
  }
}

function hashSecret(secret: string): Uint8Array {
  return new Bun.CryptoHasher('sha256').update(secret).digest() as Uint8Array
}
