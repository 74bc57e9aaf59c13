/**
 * Copying runs between epoch databases (semantics.md §23): at rotation, the live runs go from
 * the old active database into the new one **keeping their integer ids** (the new database
 * starts empty, so nothing can collide and the orchestrator's in-memory state stays valid);
 * on copy-on-reference, a run goes from an archive into the active database with **new** ids.
 *
 * A run travels with everything that belongs to it (steps, executions, assignments, results,
 * call edges, groups, provenance, suspension gates, inputs with responses and links, metric
 * definitions, asset links) plus the content-addressed helper rows it uses (values, prompts,
 * assets), and with its parent run. A `deferred`/`cached`/`spawned` result pointing into
 * another run either brings that run along (its resolution is pending, or is not a value) or
 * becomes a resolved-form result: the execution reference plus a copy of the value (§4.1).
 * References to rows that are not copied (provenance, links into other runs) are dropped.
 *
 * Rows are copied column by column as found (`SELECT *`), so columns added by later migrations
 * travel without changes here.
 */
import { dialectOf, type SqlDatabase } from './sql-database.ts'
import { executionIdOf } from '../protocol/ids.ts'
import { canonicalJson } from '../protocol/json.ts'
import { promptHash } from './inputs.ts'
import { RESULT_TYPE } from './types.ts'

type Row = Record<string, any>

/**
 * Tables whose rows belong to runs (copied per run). Every other table is configuration,
 * copied whole at rotation (workspaces, manifests, principals, tokens, sessions, pools,
 * workers, and whatever later migrations add).
 */
export const RUN_DATA_TABLES: ReadonlySet<string> = new Set([
  'runs',
  'steps',
  'executions',
  'assignments',
  'results',
  'children',
  'groups',
  'execution_dependencies',
  'suspension_gates',
  'inputs',
  'input_responses',
  'input_links',
  'metric_definitions',
  'asset_links',
  'value_store',
  'prompts',
  'assets',
  'asset_entries',
])

/** Result types whose successor continues the resolution (semantics.md §4.3). */
const FOLLOWED: ReadonlySet<number> = new Set([
  RESULT_TYPE.error,
  RESULT_TYPE.abandoned,
  RESULT_TYPE.timeout,
  RESULT_TYPE.suspended,
  RESULT_TYPE.recurred,
  RESULT_TYPE.deferred,
  RESULT_TYPE.cached,
  RESULT_TYPE.spawned,
])
const REDIRECTS: ReadonlySet<number> = new Set([RESULT_TYPE.deferred, RESULT_TYPE.cached, RESULT_TYPE.spawned])

/** Where a chain of results ends in one database. */
export type SourceResolution = { final: true; executionId: number; result: Row } | { final: false; executionId: number }

/** Follows successors within one database (semantics.md §4.3). */
export function resolveIn(db: SqlDatabase, executionId: number): SourceResolution {
  const get = db.query<Row, [number]>('SELECT * FROM results WHERE execution_id = ?')
  let id = executionId
  const seen = new Set<number>()
  for (;;) {
    seen.add(id)
    const result = get.get(id)
    if (!result) return { final: false, executionId: id }
    if (result.successor_id !== null && FOLLOWED.has(result.type) && !seen.has(result.successor_id)) {
      id = result.successor_id
      continue
    }
    return { final: true, executionId: id, result }
  }
}

/** A final result that carries a value: `value`, or a redirect in resolved form. */
export function isValueResult(result: Row): boolean {
  return result.type === RESULT_TYPE.value || (REDIRECTS.has(result.type) && result.successor_id === null && result.value_id !== null)
}

/** Inserts rows by column name, with one cached statement per (table, columns). */
class RowWriter {
  readonly #db: SqlDatabase
  readonly #statements = new Map<string, ReturnType<SqlDatabase['prepare']>>()

  constructor(db: SqlDatabase) {
    this.#db = db
  }

  /** The new row's id (PostgreSQL has no last-insert rowid: the row comes back instead). */
  insert(table: string, row: Row, mode: 'plain' | 'or ignore' = 'plain'): number {
    const columns = Object.keys(row)
    const key = `${mode}\0${table}\0${columns.join(',')}`
    const postgres = dialectOf(this.#db) === 'postgres'
    let statement = this.#statements.get(key)
    if (!statement) {
      const verb = mode === 'or ignore' ? 'INSERT OR IGNORE' : 'INSERT'
      const returning = postgres ? ' RETURNING *' : ''
      statement = this.#db.prepare(`${verb} INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})${returning}`)
      this.#statements.set(key, statement)
    }
    const values = columns.map((c) => row[c]) as any[]
    if (postgres) return Number((statement.get(...values) as { id?: number } | null)?.id ?? 0)
    return Number(statement.run(...values).lastInsertRowid)
  }

  finalize(): void {
    for (const s of this.#statements.values()) s.finalize()
    this.#statements.clear()
  }
}

/** Copies every configuration table whole (rotation; the target is empty and migrated). */
export function copyConfiguration(source: SqlDatabase, target: SqlDatabase): void {
  const tables = (db: SqlDatabase) =>
    new Set(
      db
        .query<{ name: string }, []>(
          dialectOf(db) === 'postgres'
            ? "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .all()
        .map((r) => r.name),
    )
  const inTarget = tables(target)
  const writer = new RowWriter(target)
  try {
    for (const table of tables(source)) {
      if (table === 'schema_migrations' || RUN_DATA_TABLES.has(table) || !inTarget.has(table)) continue
      for (const row of source.query<Row, []>(`SELECT * FROM "${table}"`).iterate()) writer.insert(table, row)
    }
  } finally {
    writer.finalize()
  }
}

export interface KeepLive {
  /** executions the orchestrator still refers to (held by sessions, watched by waiters…) */
  executions?: Iterable<number>
  /** inputs someone is waiting on */
  inputs?: Iterable<number>
}

/**
 * §23.1: the runs that must stay live at rotation — every run with an execution without a
 * result, every run whose resolution chain ends in one (a `cached` call waiting on another
 * run), the runs referenced by pending executions (arguments, suspension gates) and the ones
 * the orchestrator asks for. `RunCopier.plan` adds parents and redirect targets.
 */
export function liveRunIds(db: SqlDatabase, keep: KeepLive = {}): number[] {
  const runs = new Set<number>()
  const chained = db.query<{ run_id: number }, []>(
    `WITH RECURSIVE chain(id) AS (
       SELECT e.id FROM executions e LEFT JOIN results r ON r.execution_id = e.id WHERE r.execution_id IS NULL
       UNION
       SELECT r.execution_id FROM results r JOIN chain c ON r.successor_id = c.id
     )
     SELECT DISTINCT s.run_id FROM chain JOIN executions e ON e.id = chain.id JOIN steps s ON s.id = e.step_id`,
  )
  for (const r of chained.all()) runs.add(r.run_id)
  const runOfExecution = db.query<{ run_id: number }, [number]>('SELECT s.run_id FROM executions e JOIN steps s ON s.id = e.step_id WHERE e.id = ?')
  const runOfInput = db.query<{ run_id: number }, [number]>('SELECT run_id FROM inputs WHERE id = ?')
  for (const id of keep.executions ?? []) {
    const r = runOfExecution.get(id)
    if (r) runs.add(r.run_id)
  }
  for (const id of keep.inputs ?? []) {
    const r = runOfInput.get(id)
    if (r) runs.add(r.run_id)
  }
  // what pending executions will read: their arguments' references and their gates
  const pending = db.query<{ id: number; arguments: string }, []>(
    'SELECT e.id, s.arguments FROM executions e JOIN steps s ON s.id = e.step_id LEFT JOIN results r ON r.execution_id = e.id WHERE r.execution_id IS NULL',
  )
  const refsOf = db.query<{ refs: string }, [number]>('SELECT refs FROM value_store WHERE id = ?')
  const runByExternal = db.query<{ id: number }, [string]>('SELECT id FROM runs WHERE external_id = ?')
  const gates = db.query<{ dependency_id: number | null; input_id: number | null }, [number]>(
    'SELECT dependency_id, input_id FROM suspension_gates WHERE execution_id = ?',
  )
  for (const p of pending.all()) {
    for (const valueId of JSON.parse(p.arguments) as number[]) {
      const row = refsOf.get(valueId)
      if (!row) continue
      for (const ref of JSON.parse(row.refs) as unknown[][]) {
        if ((ref[0] !== 'execution' && ref[0] !== 'input') || typeof ref[1] !== 'string') continue
        const runExternalId = ref[1].split(ref[0] === 'execution' ? ':' : '/')[0]!
        const run = runByExternal.get(runExternalId)
        if (run) runs.add(run.id)
      }
    }
    for (const g of gates.all(p.id)) {
      const r = g.dependency_id !== null ? runOfExecution.get(g.dependency_id) : g.input_id !== null ? runOfInput.get(g.input_id) : null
      if (r) runs.add(r.run_id)
    }
  }
  return [...runs].sort((a, b) => a - b)
}

export interface CopiedRuns {
  /** the copied runs, with their ids in the target */
  runs: { id: number; externalId: string }[]
  /** target ids of copied executions without a result */
  pending: number[]
}

/**
 * Copies runs from `source` into `target`. `keep` mode reuses every id (the target must not
 * hold any of them: rotation into a fresh database); `remap` mode allocates new ids and looks
 * rows the target already has up by their external id or content hash.
 */
export class RunCopier {
  readonly #src: SqlDatabase
  readonly #dst: SqlDatabase
  readonly #keep: boolean
  readonly #writer: RowWriter
  readonly #runs = new Map<number, number>()
  readonly #steps = new Map<number, number>()
  readonly #executions = new Map<number, number>()
  readonly #inputs = new Map<number, number>()
  readonly #values = new Map<number, number | null>()
  readonly #prompts = new Map<number, number>()
  readonly #assets = new Map<number, number | null>()
  readonly #nextId = new Map<string, number>()
  readonly #s

  constructor(source: SqlDatabase, target: SqlDatabase, mode: 'keep' | 'remap') {
    this.#src = source
    this.#dst = target
    this.#keep = mode === 'keep'
    this.#writer = new RowWriter(target)
    const q = <T = Row, P extends any[] = [number]>(sql: string) => source.query<T, P>(sql)
    const OF_RUN = 'JOIN executions e ON e.id = x.execution_id JOIN steps s ON s.id = e.step_id WHERE s.run_id = ?'
    this.#s = {
      run: q('SELECT * FROM runs WHERE id = ?'),
      runByExternal: q<Row, [string]>('SELECT * FROM runs WHERE external_id = ?'),
      steps: q('SELECT * FROM steps WHERE run_id = ? ORDER BY number'),
      executions: q('SELECT e.* FROM executions e JOIN steps s ON s.id = e.step_id WHERE s.run_id = ? ORDER BY e.id'),
      executionPlace: q<{ run_id: number; external_id: string; number: number; attempt: number }>(
        'SELECT s.run_id, r.external_id, s.number, e.attempt FROM executions e JOIN steps s ON s.id = e.step_id JOIN runs r ON r.id = s.run_id WHERE e.id = ?',
      ),
      redirects: q<{ successor_id: number; target_run: number }>(
        'SELECT x.successor_id, s2.run_id AS target_run FROM results x JOIN executions e ON e.id = x.execution_id JOIN steps s ON s.id = e.step_id ' +
          'JOIN executions e2 ON e2.id = x.successor_id JOIN steps s2 ON s2.id = e2.step_id WHERE s.run_id = ? AND s2.run_id <> s.run_id',
      ),
      assignments: q(`SELECT x.* FROM assignments x ${OF_RUN}`),
      results: q(`SELECT x.* FROM results x ${OF_RUN}`),
      children: q('SELECT x.* FROM children x JOIN executions e ON e.id = x.parent_id JOIN steps s ON s.id = e.step_id WHERE s.run_id = ?'),
      groups: q(`SELECT x.* FROM groups x ${OF_RUN}`),
      dependencies: q(`SELECT x.* FROM execution_dependencies x ${OF_RUN}`),
      gates: q(`SELECT x.* FROM suspension_gates x ${OF_RUN}`),
      inputs: q('SELECT * FROM inputs WHERE run_id = ? ORDER BY number'),
      inputExternal: q<{ external_id: string }>('SELECT external_id FROM inputs WHERE id = ?'),
      response: q('SELECT * FROM input_responses WHERE input_id = ?'),
      inputLinks: q(`SELECT x.* FROM input_links x ${OF_RUN}`),
      metrics: q(`SELECT x.* FROM metric_definitions x ${OF_RUN}`),
      assetLinks: q(`SELECT x.* FROM asset_links x ${OF_RUN}`),
      value: q('SELECT * FROM value_store WHERE id = ?'),
      prompt: q('SELECT * FROM prompts WHERE id = ?'),
      asset: q('SELECT * FROM assets WHERE id = ?'),
      assetByExternal: q<{ id: number }, [string]>('SELECT id FROM assets WHERE external_id = ?'),
      assetEntries: q('SELECT * FROM asset_entries WHERE asset_id = ?'),
    }
  }

  /**
   * The runs to copy for these seeds: each seed, its parent runs, and the runs its redirects
   * point into unless the redirect already resolves to a value (then it is copied in resolved
   * form). Runs the target already holds (`inTarget`, by external id) are left out.
   */
  plan(seeds: Iterable<number>, inTarget: (runExternalId: string) => boolean): number[] {
    const planned = new Set<number>()
    const stack = [...seeds]
    while (stack.length > 0) {
      const runId = stack.pop()!
      if (planned.has(runId)) continue
      const run = this.#s.run.get(runId)
      if (!run || inTarget(run.external_id)) continue
      planned.add(runId)
      if (run.parent_execution_id !== null) {
        const parent = this.#s.executionPlace.get(run.parent_execution_id)
        if (parent) stack.push(parent.run_id)
      }
      for (const r of this.#s.redirects.all(runId)) {
        const resolution = resolveIn(this.#src, r.successor_id)
        if (!resolution.final || !isValueResult(resolution.result)) stack.push(r.target_run)
      }
    }
    return [...planned].sort((a, b) => a - b)
  }

  /** The source run id of a run external id, or null. */
  runIdOf(externalId: string): number | null {
    return this.#s.runByExternal.get(externalId)?.id ?? null
  }

  /** Copies the planned runs (call inside a transaction). */
  copy(runIds: number[]): CopiedRuns {
    const out: CopiedRuns = { runs: [], pending: [] }
    const data = runIds.map((runId) => {
      const run = this.#s.run.get(runId)!
      const steps = this.#s.steps.all(runId)
      const executions = this.#s.executions.all(runId)
      const inputs = this.#s.inputs.all(runId)
      this.#runs.set(runId, this.#allocate('runs', runId))
      for (const s of steps) this.#steps.set(s.id, this.#allocate('steps', s.id))
      for (const e of executions) this.#executions.set(e.id, this.#allocate('executions', e.id))
      for (const i of inputs) this.#inputs.set(i.id, this.#allocate('inputs', i.id))
      return { run, steps, executions, inputs }
    })
    for (const { run, steps, executions, inputs } of data) {
      const runId = run.id as number
      const id = this.#runs.get(runId)!
      this.#writer.insert('runs', { ...run, id, parent_execution_id: this.#execution(run.parent_execution_id) })
      out.runs.push({ id, externalId: run.external_id })
      for (const s of steps) {
        const args = (JSON.parse(s.arguments) as number[]).map((v) => this.#value(v))
        this.#writer.insert('steps', {
          ...s,
          id: this.#steps.get(s.id)!,
          run_id: id,
          parent_execution_id: this.#execution(s.parent_execution_id),
          arguments: JSON.stringify(args),
        })
      }
      for (const e of executions) this.#writer.insert('executions', { ...e, id: this.#executions.get(e.id)!, step_id: this.#steps.get(e.step_id)! })
      for (const i of inputs) {
        this.#writer.insert('inputs', {
          ...i,
          id: this.#inputs.get(i.id)!,
          run_id: id,
          prompt_id: this.#prompt(i.prompt_id),
          execution_id: this.#execution(i.execution_id),
        })
        const response = this.#s.response.get(i.id)
        if (response) this.#writer.insert('input_responses', { ...response, input_id: this.#inputs.get(i.id)! })
      }
      const results = new Map(this.#s.results.all(runId).map((r) => [r.execution_id as number, r]))
      for (const r of results.values()) this.#writer.insert('results', this.#result(r))
      for (const e of executions) if (!results.has(e.id)) out.pending.push(this.#executions.get(e.id)!)
      for (const a of this.#s.assignments.all(runId)) {
        // an execution without a result is queued again rather than left assigned (remap only)
        if (this.#keep || results.has(a.execution_id)) this.#writer.insert('assignments', { ...a, execution_id: this.#executions.get(a.execution_id)! })
      }
      for (const c of this.#s.children.all(runId)) {
        const parent = this.#execution(c.parent_id)
        const child = this.#execution(c.child_id)
        if (parent !== null && child !== null) this.#writer.insert('children', { ...c, parent_id: parent, child_id: child }, 'or ignore')
      }
      for (const g of this.#s.groups.all(runId)) this.#writer.insert('groups', { ...g, execution_id: this.#executions.get(g.execution_id)! }, 'or ignore')
      for (const d of this.#s.dependencies.all(runId)) {
        const dependency = this.#execution(d.dependency_id)
        if (dependency !== null) this.#writer.insert('execution_dependencies', { ...d, execution_id: this.#executions.get(d.execution_id)!, dependency_id: dependency }, 'or ignore')
      }
      for (const g of this.#s.gates.all(runId)) {
        const dependency = g.dependency_id !== null ? this.#execution(g.dependency_id) : null
        const input = g.input_id !== null ? this.#input(g.input_id) : null
        if (dependency === null && input === null) continue
        this.#writer.insert('suspension_gates', { ...g, execution_id: this.#executions.get(g.execution_id)!, dependency_id: dependency, input_id: input }, 'or ignore')
      }
      for (const l of this.#s.inputLinks.all(runId)) {
        const input = this.#input(l.input_id)
        if (input !== null) this.#writer.insert('input_links', { ...l, input_id: input, execution_id: this.#executions.get(l.execution_id)! }, 'or ignore')
      }
      for (const m of this.#s.metrics.all(runId)) this.#writer.insert('metric_definitions', { ...m, execution_id: this.#executions.get(m.execution_id)! }, 'or ignore')
      for (const l of this.#s.assetLinks.all(runId)) {
        const asset = this.#asset(l.asset_id)
        if (asset !== null) this.#writer.insert('asset_links', { ...l, asset_id: asset, execution_id: this.#executions.get(l.execution_id)! }, 'or ignore')
      }
    }
    return out
  }

  /** Copies an asset (with its entries) by external id; its id in the target, or null. */
  copyAsset(externalId: string): number | null {
    const found = this.#s.assetByExternal.get(externalId)
    return found ? this.#asset(found.id) : null
  }

  finalize(): void {
    this.#writer.finalize()
  }

  /** A result row for the target: ids mapped, and cross-run redirects to uncopied runs resolved. */
  #result(r: Row): Row {
    const row: Row = { ...r, execution_id: this.#executions.get(r.execution_id)!, value_id: this.#value(r.value_id) }
    if (r.successor_id === null) return row
    const successor = this.#execution(r.successor_id)
    if (successor !== null) return { ...row, successor_id: successor }
    // §4.1 resolved form: the reference plus a copy of the value it resolved to
    const place = this.#s.executionPlace.get(r.successor_id)
    const resolution = resolveIn(this.#src, r.successor_id)
    const valueId = resolution.final && isValueResult(resolution.result) ? this.#value(resolution.result.value_id) : null
    return {
      ...row,
      successor_id: null,
      successor_ref: place ? executionIdOf(place.external_id, place.number, place.attempt) : null,
      value_id: valueId,
    }
  }

  #allocate(table: string, sourceId: number): number {
    if (this.#keep) return sourceId
    let next = this.#nextId.get(table)
    if (next === undefined) next = (this.#dst.query<{ n: number | null }, []>(`SELECT MAX(id) AS n FROM "${table}"`).get()?.n ?? 0) + 1
    this.#nextId.set(table, next + 1)
    return next
  }

  /** The target id of a source execution: copied now, or already in the target (remap). */
  #execution(sourceId: number | null): number | null {
    if (sourceId === null) return null
    const mapped = this.#executions.get(sourceId)
    if (mapped !== undefined) return mapped
    if (this.#keep) return null
    const place = this.#s.executionPlace.get(sourceId)
    if (!place) return null
    const found = this.#dst
      .query<{ id: number }, [string, number, number]>(
        'SELECT e.id FROM executions e JOIN steps s ON s.id = e.step_id JOIN runs r ON r.id = s.run_id WHERE r.external_id = ? AND s.number = ? AND e.attempt = ?',
      )
      .get(place.external_id, place.number, place.attempt)
    return found?.id ?? null
  }

  #input(sourceId: number): number | null {
    const mapped = this.#inputs.get(sourceId)
    if (mapped !== undefined) return mapped
    if (this.#keep) return null
    const external = this.#s.inputExternal.get(sourceId)
    if (!external) return null
    return this.#dst.query<{ id: number }, [string]>('SELECT id FROM inputs WHERE external_id = ?').get(external.external_id)?.id ?? null
  }

  #value(sourceId: number | null): number | null {
    if (sourceId === null) return null
    const mapped = this.#values.get(sourceId)
    if (mapped !== undefined) return mapped
    const row = this.#s.value.get(sourceId)
    if (!row) {
      this.#values.set(sourceId, null)
      return null
    }
    let id: number
    if (this.#keep) {
      this.#writer.insert('value_store', row, 'or ignore')
      id = sourceId
    } else {
      const { id: _, ...rest } = row
      id =
        this.#dst.query<{ id: number }, [Uint8Array]>('SELECT id FROM value_store WHERE hash = ?').get(row.hash)?.id ??
        this.#writer.insert('value_store', rest)
    }
    this.#values.set(sourceId, id)
    // assets a value refers to are content-addressed helper rows: copied along
    for (const ref of JSON.parse(row.refs) as unknown[][]) {
      if (ref[0] === 'asset' && typeof ref[1] === 'string') this.copyAsset(ref[1])
    }
    return id
  }

  #prompt(sourceId: number): number {
    const mapped = this.#prompts.get(sourceId)
    if (mapped !== undefined) return mapped
    const row = this.#s.prompt.get(sourceId)!
    const placeholders: Record<string, number> = {}
    for (const [name, valueId] of Object.entries(JSON.parse(row.placeholders) as Record<string, number>)) {
      placeholders[name] = this.#value(valueId) ?? valueId
    }
    let id: number
    if (this.#keep) {
      this.#writer.insert('prompts', row, 'or ignore')
      id = sourceId
    } else {
      const hash = promptHash(row.template, placeholders)
      const { id: _, ...rest } = row
      id =
        this.#dst.query<{ id: number }, [Uint8Array]>('SELECT id FROM prompts WHERE hash = ?').get(hash)?.id ??
        this.#writer.insert('prompts', { ...rest, hash, placeholders: canonicalJson(placeholders) })
    }
    this.#prompts.set(sourceId, id)
    return id
  }

  #asset(sourceId: number): number | null {
    const mapped = this.#assets.get(sourceId)
    if (mapped !== undefined) return mapped
    const row = this.#s.asset.get(sourceId)
    if (!row) return null
    let id: number | null
    const existing = this.#dst.query<{ id: number }, [Uint8Array]>('SELECT id FROM assets WHERE hash = ?').get(row.hash)
    if (existing) id = existing.id
    else {
      const { id: _, ...rest } = row
      // ignored when the external id is taken by another asset (ids are unique across epochs)
      this.#writer.insert('assets', this.#keep ? row : rest, 'or ignore')
      id = this.#dst.query<{ id: number }, [Uint8Array]>('SELECT id FROM assets WHERE hash = ?').get(row.hash)?.id ?? null
      if (id !== null) {
        for (const entry of this.#s.assetEntries.all(sourceId)) this.#writer.insert('asset_entries', { ...entry, asset_id: id }, 'or ignore')
      }
    }
    this.#assets.set(sourceId, id)
    return id
  }
}
