import type { SqlDatabase } from './sql-database.ts'
import type { WorkflowManifest } from '../protocol/executor.ts'

/** Registered workflow manifests per workspace and module (http-api.md §9.4). */
export class ManifestStore {
  readonly #db: SqlDatabase
  readonly #forModule
  readonly #deleteTarget
  readonly #upsert
  readonly #deleteModule
  readonly #forWorkspace
  readonly #one

  constructor(db: SqlDatabase) {
    this.#db = db
    this.#forModule = db.query<{ target: string; definition: string }, [number, string]>(
      'SELECT target, definition FROM manifests WHERE workspace_id = ? AND module = ?',
    )
    this.#deleteTarget = db.query('DELETE FROM manifests WHERE workspace_id = ? AND module = ? AND target = ?')
    this.#upsert = db.query(
      'INSERT INTO manifests (workspace_id, module, target, definition, created_at) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (workspace_id, module, target) DO UPDATE SET definition = excluded.definition, created_at = excluded.created_at',
    )
    this.#deleteModule = db.query('DELETE FROM manifests WHERE workspace_id = ? AND module = ?')
    this.#forWorkspace = db.query<{ module: string; target: string; definition: string }, [number]>(
      'SELECT module, target, definition FROM manifests WHERE workspace_id = ? ORDER BY module, target',
    )
    this.#one = db.query<{ definition: string }, [number, string, string]>(
      'SELECT definition FROM manifests WHERE workspace_id = ? AND module = ? AND target = ?',
    )
  }

  /** Replaces each listed module's manifest as a whole; identical content is a no-op. Returns changed modules. */
  replace(workspaceId: number, modules: Record<string, Record<string, WorkflowManifest>>, now: number): string[] {
    const changed: string[] = []
    this.#db.transaction(() => {
      for (const [module, workflows] of Object.entries(modules)) {
        const existing = new Map(this.#forModule.all(workspaceId, module).map((r) => [r.target, r.definition]))
        let moduleChanged = false
        for (const [target, manifest] of Object.entries(workflows)) {
          const text = JSON.stringify(manifest)
          if (existing.get(target) !== text) {
            this.#upsert.run(workspaceId, module, target, text, now)
            moduleChanged = true
          }
          existing.delete(target)
        }
        for (const target of existing.keys()) {
          this.#deleteTarget.run(workspaceId, module, target)
          moduleChanged = true
        }
        if (moduleChanged) changed.push(module)
      }
    })()
    return changed
  }

  archiveModule(workspaceId: number, module: string): void {
    this.#deleteModule.run(workspaceId, module)
  }

  list(workspaceId: number): Record<string, Record<string, WorkflowManifest>> {
    const out: Record<string, Record<string, WorkflowManifest>> = {}
    for (const r of this.#forWorkspace.all(workspaceId)) {
      ;(out[r.module] ??= {})[r.target] = JSON.parse(r.definition) as WorkflowManifest
    }
    return out
  }

  get(workspaceId: number, module: string, target: string): WorkflowManifest | null {
    const r = this.#one.get(workspaceId, module, target)
    return r ? (JSON.parse(r.definition) as WorkflowManifest) : null
  }
}
