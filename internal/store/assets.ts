import type { SqlDatabase } from './sql-database.ts'
import { canonicalJson } from '../protocol/json.ts'
import { generateId } from '../protocol/ids.ts'

export interface AssetEntry {
  blobKey: string
  size: number
  metadata: Record<string, unknown>
}

export interface AssetRecord {
  id: number
  externalId: string
  name: string | null
  totalCount: number
  totalSize: number
  createdAt: number
}

interface Row {
  id: number
  external_id: string
  name: string | null
  total_count: number
  total_size: number
  created_at: number
}

function toRecord(r: Row): AssetRecord {
  return { id: r.id, externalId: r.external_id, name: r.name, totalCount: r.total_count, totalSize: r.total_size, createdAt: r.created_at }
}

/**
 * Content-addressed assets (semantics.md §27): identical name + entries give the same asset.
 * Links record which executions produced (0) or used (1) an asset.
 */
export class AssetStore {
  readonly #db: SqlDatabase
  readonly #byHash
  readonly #byExternal
  readonly #byId
  readonly #insert
  readonly #insertEntry
  readonly #entries
  readonly #link
  readonly #linksOf
  readonly #taken
  readonly #linksOfRun
  readonly #workspacesOf
  /** whether an asset id is taken in an archived epoch (semantics.md §2) */
  readonly #takenInArchives: (id: string) => boolean

  constructor(db: SqlDatabase, takenInArchives: (id: string) => boolean = () => false) {
    this.#db = db
    this.#takenInArchives = takenInArchives
    this.#byHash = db.query<Row, [Uint8Array]>('SELECT * FROM assets WHERE hash = ?')
    this.#byExternal = db.query<Row, [string]>('SELECT * FROM assets WHERE external_id = ?')
    this.#byId = db.query<Row, [number]>('SELECT * FROM assets WHERE id = ?')
    this.#insert = db.query<Row, [string, Uint8Array, string | null, number, number, number]>(
      'INSERT INTO assets (external_id, hash, name, total_count, total_size, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
    )
    this.#insertEntry = db.query('INSERT INTO asset_entries (asset_id, path, blob_key, size, metadata) VALUES (?, ?, ?, ?, ?)')
    this.#entries = db.query<{ path: string; blob_key: string; size: number; metadata: string }, [number]>(
      'SELECT path, blob_key, size, metadata FROM asset_entries WHERE asset_id = ? ORDER BY path',
    )
    this.#link = db.query('INSERT OR IGNORE INTO asset_links (asset_id, execution_id, role) VALUES (?, ?, ?)')
    this.#linksOf = db.query<{ asset_id: number; role: number }, [number]>(
      'SELECT asset_id, role FROM asset_links WHERE execution_id = ?',
    )
    this.#taken = db.query<{ one: number }, [string]>('SELECT 1 AS one FROM assets WHERE external_id = ?')
    this.#linksOfRun = db.query<{ execution_id: number; asset_id: number; role: number }, [number]>(
      'SELECT l.execution_id, l.asset_id, l.role FROM asset_links l JOIN executions e ON e.id = l.execution_id JOIN steps s ON s.id = e.step_id WHERE s.run_id = ?',
    )
    this.#workspacesOf = db.query<{ workspace_id: number }, [number]>(
      'SELECT DISTINCT e.workspace_id FROM asset_links l JOIN executions e ON e.id = l.execution_id WHERE l.asset_id = ?',
    )
  }

  /** Finds or creates the asset for these entries and records the producer. */
  put(name: string | null, entries: Record<string, AssetEntry>, producerId: number, now: number): AssetRecord {
    const canonical = canonicalJson([name, Object.fromEntries(Object.entries(entries).map(([p, e]) => [p, [e.blobKey, e.size, e.metadata]]))])
    const hash = new Bun.CryptoHasher('sha256').update(canonical).digest() as Uint8Array
    return this.#db.transaction(() => {
      let row = this.#byHash.get(hash)
      if (!row) {
        const externalId = generateId('A', (id) => !!this.#taken.get(id) || this.#takenInArchives(id))
        const values = Object.values(entries)
        row = this.#insert.get(externalId, hash, name, values.length, values.reduce((s, e) => s + e.size, 0), now)!
        for (const [path, e] of Object.entries(entries)) {
          this.#insertEntry.run(row.id, path, e.blobKey, e.size, JSON.stringify(e.metadata))
        }
      }
      this.#link.run(row.id, producerId, 0)
      return toRecord(row)
    })()
  }

  getByExternalId(externalId: string): AssetRecord | null {
    const r = this.#byExternal.get(externalId)
    return r ? toRecord(r) : null
  }

  get(id: number): AssetRecord | null {
    const r = this.#byId.get(id)
    return r ? toRecord(r) : null
  }

  entries(assetId: number): Record<string, AssetEntry> {
    const out: Record<string, AssetEntry> = {}
    for (const r of this.#entries.all(assetId)) {
      out[r.path] = { blobKey: r.blob_key, size: r.size, metadata: JSON.parse(r.metadata) as Record<string, unknown> }
    }
    return out
  }

  recordUse(assetId: number, executionId: number): void {
    this.#link.run(assetId, executionId, 1)
  }

  /** Asset links of every execution of a run, keyed by execution id. */
  linksOfRun(runId: number): Map<number, { assetId: number; role: 'produced' | 'used' }[]> {
    const out = new Map<number, { assetId: number; role: 'produced' | 'used' }[]>()
    for (const r of this.#linksOfRun.all(runId)) {
      const list = out.get(r.execution_id) ?? []
      list.push({ assetId: r.asset_id, role: r.role === 0 ? 'produced' : 'used' })
      out.set(r.execution_id, list)
    }
    return out
  }

  /** Workspaces of the executions that produced or used the asset (read scoping, http-api.md §16.1). */
  workspaceIdsOf(assetId: number): number[] {
    return this.#workspacesOf.all(assetId).map((r) => r.workspace_id)
  }

  linksOf(executionId: number): { assetId: number; role: 'produced' | 'used' }[] {
    return this.#linksOf.all(executionId).map((r) => ({ assetId: r.asset_id, role: r.role === 0 ? 'produced' : 'used' }))
  }
}
