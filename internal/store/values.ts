import type { SqlDatabase } from './sql-database.ts'
import { canonicalJson, parseJson, RawJson } from '../protocol/json.ts'
import type { ServerReference, ServerValue } from '../protocol/values.ts'

/** Only identities (plus a fragment's size) are stored for references (values.md §4.2); summaries are refilled on the way out. */
export function storedReference(ref: ServerReference): unknown[] {
  switch (ref[0]) {
    case 'execution':
      return ['execution', ref[1]]
    case 'input':
      return ['input', ref[1]]
    case 'asset':
      return ['asset', ref[1]]
    case 'fragment':
      return ['fragment', ref[1], ref[2], ref[3], ref[4]]
  }
}

const CACHE_SIZE = 20_000

interface ValueRow {
  id: number
  kind: number
  data: string | null
  blob_key: string | null
  size: number | null
  refs: string
}

/** De-duplicated storage of values by (content hash, reference identities). */
export class ValueStore {
  readonly #byHash
  readonly #insert
  readonly #get
  /** values are immutable: recently read ones are kept (arguments are read at every dispatch) */
  readonly #cache = new Map<number, ServerValue>()

  constructor(db: SqlDatabase) {
    this.#byHash = db.query<{ id: number }, [Uint8Array]>('SELECT id FROM value_store WHERE hash = ?')
    this.#insert = db.query<{ id: number }, [Uint8Array, number, string | null, string | null, number | null, string]>(
      'INSERT INTO value_store (hash, kind, data, blob_key, size, refs) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
    )
    this.#get = db.query<ValueRow, [number]>('SELECT id, kind, data, blob_key, size, refs FROM value_store WHERE id = ?')
  }

  /** Stores a value (or finds its twin) and returns its id. */
  put(value: ServerValue): number {
    const refs = value[0] === 'raw' ? value[2] : value[3]
    const refsText = canonicalJson(refs.map(storedReference))
    const hasher = new Bun.CryptoHasher('sha256')
    if (value[0] === 'raw') hasher.update('raw\0' + value[1].text)
    else hasher.update('blob\0' + value[1])
    hasher.update('\0' + refsText)
    const hash = hasher.digest() as Uint8Array
    const found = this.#byHash.get(hash)
    if (found) return found.id
    const row =
      value[0] === 'raw'
        ? this.#insert.get(hash, 0, value[1].text, null, null, refsText)
        : this.#insert.get(hash, 1, null, value[1], value[2], refsText)
    return row!.id
  }

  /** The stored value, with references as stored identities. */
  get(id: number): ServerValue | null {
    const cached = this.#cache.get(id)
    if (cached) return cached
    const row = this.#get.get(id)
    if (!row) return null
    const refs = parseJson(row.refs) as unknown as ServerReference[]
    const value: ServerValue = row.kind === 0 ? ['raw', new RawJson(row.data!), refs] : ['blob', row.blob_key!, row.size!, refs]
    if (this.#cache.size >= CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value!)
    this.#cache.set(id, value)
    return value
  }
}
