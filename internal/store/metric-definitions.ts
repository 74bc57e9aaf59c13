import type { SqlDatabase } from './sql-database.ts'

/** How a metric is drawn (semantics.md §25), as run snapshots show it (cli.md §7.4). */
export interface MetricDefinition {
  group: string | null
  groupUnits: string | null
  groupLower: number | null
  groupUpper: number | null
  /** a named y-axis shared within the group; null = private */
  scale: string | null
  units: string | null
  /** render as progress towards `upper` */
  progress: boolean
  lower: number | null
  upper: number | null
}

interface Row {
  execution_id: number
  key: string
  group_name: string | null
  group_units: string | null
  group_lower: number | null
  group_upper: number | null
  scale: string | null
  units: string | null
  progress: number
  lower: number | null
  upper: number | null
}

function toDefinition(r: Row): MetricDefinition {
  return {
    group: r.group_name,
    groupUnits: r.group_units,
    groupLower: r.group_lower,
    groupUpper: r.group_upper,
    scale: r.scale,
    units: r.units,
    progress: r.progress === 1,
    lower: r.lower,
    upper: r.upper,
  }
}

/** Metric definitions per (execution, key); points are in the separate metric store. */
export class MetricDefinitionStore {
  readonly #insert
  readonly #ofExecution
  readonly #ofRun

  constructor(db: SqlDatabase) {
    // OR IGNORE: the first definition wins (a re-sent or conflicting one changes nothing)
    this.#insert = db.query<never, [number, string, string | null, string | null, number | null, number | null, string | null, string | null, number, number | null, number | null]>(
      `INSERT OR IGNORE INTO metric_definitions
         (execution_id, key, group_name, group_units, group_lower, group_upper, scale, units, progress, lower, upper)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#ofExecution = db.query<Row, [number]>('SELECT * FROM metric_definitions WHERE execution_id = ? ORDER BY rowid')
    this.#ofRun = db.query<Row, [number]>(
      'SELECT d.* FROM metric_definitions d JOIN executions e ON e.id = d.execution_id JOIN steps s ON s.id = e.step_id WHERE s.run_id = ? ORDER BY d.rowid',
    )
  }

  /** Stores the definition unless the key is already defined for the execution; true when stored. */
  define(executionId: number, key: string, d: MetricDefinition): boolean {
    const { changes } = this.#insert.run(
      executionId, key, d.group, d.groupUnits, d.groupLower, d.groupUpper, d.scale, d.units, d.progress ? 1 : 0, d.lower, d.upper,
    )
    return changes > 0
  }

  /** key → definition, in definition order. */
  ofExecution(executionId: number): Record<string, MetricDefinition> {
    const out: Record<string, MetricDefinition> = {}
    for (const r of this.#ofExecution.all(executionId)) out[r.key] = toDefinition(r)
    return out
  }

  /** execution id → key → definition, for every execution of a run in one query (snapshots). */
  ofRun(runId: number): Map<number, Record<string, MetricDefinition>> {
    const out = new Map<number, Record<string, MetricDefinition>>()
    for (const r of this.#ofRun.all(runId)) {
      let byKey = out.get(r.execution_id)
      if (!byKey) out.set(r.execution_id, (byKey = {}))
      byKey[r.key] = toDefinition(r)
    }
    return out
  }
}
