import type { SqlDatabase } from './sql-database.ts'
import { generateId } from '../protocol/ids.ts'
import {
  SCHEDULE_CATCH_UP,
  SCHEDULE_OUTCOMES,
  SCHEDULE_OVERLAP,
  SCHEDULE_SOURCES,
  type ScheduleCatchUp,
  type ScheduleOutcome,
  type ScheduleOverlap,
  type ScheduleSource,
} from '../protocol/schedules.ts'

/** A schedule's declaration as stored: arguments are JSON texts, as the user wrote them. */
export interface ScheduleDefinition {
  cron: string
  timezone: string
  arguments: string[]
  catchUp: ScheduleCatchUp
  overlap: ScheduleOverlap
}

export interface ScheduleRecord extends ScheduleDefinition {
  id: number
  externalId: string
  workspaceId: number
  module: string
  target: string
  source: ScheduleSource
  paused: boolean
  /** due times up to here are handled (started, skipped, or not owed) */
  handledUntil: number
  lastDueAt: number | null
  lastOutcome: ScheduleOutcome | null
  lastRunId: string | null
  lastError: string | null
  createdBy: number | null
  createdAt: number
  updatedAt: number
}

export interface NewSchedule extends ScheduleDefinition {
  workspaceId: number
  module: string
  target: string
  source: ScheduleSource
  createdBy: number | null
}

interface Row {
  id: number
  external_id: string
  workspace_id: number
  module: string
  target: string
  source: number
  cron: string
  timezone: string
  arguments: string
  catch_up: number
  overlap: number
  paused: number
  handled_until: number
  last_due_at: number | null
  last_outcome: number | null
  last_run_id: string | null
  last_error: string | null
  created_by: number | null
  created_at: number
  updated_at: number
}

// the wire numbers are the positions in the protocol's lists (the migration spells them out)
const code = <T extends string>(list: readonly T[], value: T): number => list.indexOf(value)

function toRecord(r: Row): ScheduleRecord {
  return {
    id: r.id,
    externalId: r.external_id,
    workspaceId: r.workspace_id,
    module: r.module,
    target: r.target,
    source: SCHEDULE_SOURCES[r.source]!,
    cron: r.cron,
    timezone: r.timezone,
    arguments: JSON.parse(r.arguments) as string[],
    catchUp: SCHEDULE_CATCH_UP[r.catch_up]!,
    overlap: SCHEDULE_OVERLAP[r.overlap]!,
    paused: r.paused !== 0,
    handledUntil: r.handled_until,
    lastDueAt: r.last_due_at,
    lastOutcome: r.last_outcome === null ? null : SCHEDULE_OUTCOMES[r.last_outcome]!,
    lastRunId: r.last_run_id,
    lastError: r.last_error,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}

/** Schedules per workspace (our improvement, issue 11). */
export class ScheduleStore {
  readonly #insert
  readonly #byId
  readonly #byExternal
  readonly #ofWorkspace
  readonly #unpaused
  readonly #define
  readonly #pause
  readonly #recordDue
  readonly #delete
  readonly #taken

  constructor(db: SqlDatabase) {
    this.#insert = db.query<Row, [string, number, string, string, number, string, string, string, number, number, number, number | null, number, number]>(
      'INSERT INTO schedules (external_id, workspace_id, module, target, source, cron, timezone, arguments, catch_up, overlap, handled_until, created_by, created_at, updated_at) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *',
    )
    this.#byId = db.query<Row, [number]>('SELECT * FROM schedules WHERE id = ?')
    this.#byExternal = db.query<Row, [string]>('SELECT * FROM schedules WHERE external_id = ?')
    this.#ofWorkspace = db.query<Row, [number]>('SELECT * FROM schedules WHERE workspace_id = ? ORDER BY module, target, id')
    this.#unpaused = db.query<Row, []>('SELECT * FROM schedules WHERE paused = 0 ORDER BY id')
    this.#define = db.query<Row, [string, string, string, number, number, number, number, number]>(
      'UPDATE schedules SET cron = ?, timezone = ?, arguments = ?, catch_up = ?, overlap = ?, handled_until = max(handled_until, ?), updated_at = ? WHERE id = ? RETURNING *',
    )
    this.#pause = db.query<Row, [number, number, number, number]>(
      'UPDATE schedules SET paused = ?, handled_until = max(handled_until, ?), updated_at = ? WHERE id = ? RETURNING *',
    )
    this.#recordDue = db.query<Row, [number, number, number, string | null, string | null, number, number]>(
      'UPDATE schedules SET handled_until = ?, last_due_at = ?, last_outcome = ?, last_run_id = coalesce(?, last_run_id), last_error = ?, updated_at = ? WHERE id = ? RETURNING *',
    )
    this.#delete = db.query('DELETE FROM schedules WHERE id = ?')
    this.#taken = db.query<{ one: number }, [string]>('SELECT 1 AS one FROM schedules WHERE external_id = ?')
  }

  /** A new schedule; due times count from `now` (nothing before its creation is owed). */
  create(input: NewSchedule, now: number): ScheduleRecord {
    const externalId = generateId('S', (id) => !!this.#taken.get(id))
    const row = this.#insert.get(
      externalId,
      input.workspaceId,
      input.module,
      input.target,
      code(SCHEDULE_SOURCES, input.source),
      input.cron,
      input.timezone,
      JSON.stringify(input.arguments),
      code(SCHEDULE_CATCH_UP, input.catchUp),
      code(SCHEDULE_OVERLAP, input.overlap),
      now,
      input.createdBy,
      now,
      now,
    )!
    return toRecord(row)
  }

  get(id: number): ScheduleRecord | null {
    const r = this.#byId.get(id)
    return r ? toRecord(r) : null
  }

  getByExternalId(externalId: string): ScheduleRecord | null {
    const r = this.#byExternal.get(externalId)
    return r ? toRecord(r) : null
  }

  /** The workspace's schedules, by module and target. */
  list(workspaceId: number): ScheduleRecord[] {
    return this.#ofWorkspace.all(workspaceId).map(toRecord)
  }

  /** Every schedule that is not paused, in every workspace. */
  unpaused(): ScheduleRecord[] {
    return this.#unpaused.all().map(toRecord)
  }

  /** Replaces the declaration; due times up to `handledFrom` are no longer owed (a new cron counts from now). */
  define(id: number, d: ScheduleDefinition, handledFrom: number, now: number): ScheduleRecord | null {
    const row = this.#define.get(
      d.cron,
      d.timezone,
      JSON.stringify(d.arguments),
      code(SCHEDULE_CATCH_UP, d.catchUp),
      code(SCHEDULE_OVERLAP, d.overlap),
      handledFrom,
      now,
      id,
    )
    return row ? toRecord(row) : null
  }

  /** Pauses or resumes; due times that passed while paused are not owed (`now` is handled). */
  setPaused(id: number, paused: boolean, now: number): ScheduleRecord | null {
    const row = this.#pause.get(paused ? 1 : 0, now, now, id)
    return row ? toRecord(row) : null
  }

  /**
   * Marks every due time up to `dueAt` handled with this outcome. Called in the transaction
   * that starts the due time's run, so the two are committed together or not at all.
   */
  recordDue(id: number, dueAt: number, outcome: ScheduleOutcome, runId: string | null, error: string | null, now: number): ScheduleRecord | null {
    const row = this.#recordDue.get(dueAt, dueAt, code(SCHEDULE_OUTCOMES, outcome), runId, error, now, id)
    return row ? toRecord(row) : null
  }

  delete(id: number): void {
    this.#delete.run(id)
  }
}
