import type { SqlDatabase } from './sql-database.ts'
import {
  RESULT_TYPE,
  RESULT_TYPE_NAME,
  type AssignmentRecord,
  type ErrorInfo,
  type ResultRecord,
  type ResultTypeName,
} from './types.ts'

interface ResultRow {
  execution_id: number
  type: number
  value_id: number | null
  error: string | null
  retryable: number | null
  successor_id: number | null
  successor_ref?: string | null
  created_at: number
  created_by: number | null
}

function toResult(r: ResultRow): ResultRecord {
  return {
    executionId: r.execution_id,
    type: RESULT_TYPE_NAME[r.type]!,
    valueId: r.value_id,
    error: r.error ? (JSON.parse(r.error) as ErrorInfo) : null,
    retryable: r.retryable === null ? null : r.retryable === 1,
    successorId: r.successor_id,
    successorRef: r.successor_ref ?? null,
    createdAt: r.created_at,
    createdBy: r.created_by,
  }
}

interface AssignmentRow {
  execution_id: number
  session_id: number
  assigned_at: number
  acknowledged_at: number | null
  started_at: number | null
}

function toAssignment(r: AssignmentRow): AssignmentRecord {
  return {
    executionId: r.execution_id,
    sessionId: r.session_id,
    assignedAt: r.assigned_at,
    acknowledgedAt: r.acknowledged_at,
    startedAt: r.started_at,
  }
}

export interface NewResult {
  type: ResultTypeName
  valueId?: number | null
  error?: ErrorInfo | null
  retryable?: boolean | null
  successorId?: number | null
  /** resolved-form redirects (semantics.md §4.1): the external id of the execution it points at */
  successorRef?: string | null
  createdBy?: number | null
}

/** Results (first write wins) and assignments of executions to sessions. */
export class ResultStore {
  readonly #insert
  readonly #get
  readonly #predecessor
  readonly #assign
  readonly #unassign
  readonly #assignment
  readonly #assignmentsOfSession
  readonly #ack
  readonly #started
  readonly #openAssignments
  readonly #resultsOfRun
  readonly #assignmentsOfRun

  constructor(db: SqlDatabase) {
    this.#insert = db.query(
      'INSERT OR IGNORE INTO results (execution_id, type, value_id, error, retryable, successor_id, successor_ref, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    this.#get = db.query<ResultRow, [number]>('SELECT * FROM results WHERE execution_id = ?')
    this.#predecessor = db.query<{ execution_id: number }, [number]>(
      'SELECT execution_id FROM results WHERE successor_id = ? LIMIT 1',
    )
    this.#assign = db.query(
      'INSERT INTO assignments (execution_id, session_id, assigned_at) VALUES (?, ?, ?) ON CONFLICT (execution_id) DO UPDATE SET session_id = excluded.session_id, assigned_at = excluded.assigned_at, acknowledged_at = NULL, started_at = NULL',
    )
    this.#unassign = db.query('DELETE FROM assignments WHERE execution_id = ?')
    this.#assignment = db.query<AssignmentRow, [number]>('SELECT * FROM assignments WHERE execution_id = ?')
    this.#assignmentsOfSession = db.query<AssignmentRow, [number]>('SELECT * FROM assignments WHERE session_id = ?')
    this.#ack = db.query('UPDATE assignments SET acknowledged_at = ? WHERE execution_id = ? AND acknowledged_at IS NULL')
    this.#started = db.query('UPDATE assignments SET started_at = ?, acknowledged_at = COALESCE(acknowledged_at, ?) WHERE execution_id = ?')
    this.#resultsOfRun = db.query<ResultRow, [number]>(
      'SELECT r.* FROM results r JOIN executions e ON e.id = r.execution_id JOIN steps s ON s.id = e.step_id WHERE s.run_id = ?',
    )
    this.#assignmentsOfRun = db.query<AssignmentRow, [number]>(
      'SELECT a.* FROM assignments a JOIN executions e ON e.id = a.execution_id JOIN steps s ON s.id = e.step_id WHERE s.run_id = ?',
    )
    this.#openAssignments = db.query<AssignmentRow, []>(
      'SELECT a.* FROM assignments a LEFT JOIN results r ON r.execution_id = a.execution_id WHERE r.execution_id IS NULL',
    )
  }

  /** Records a result unless one exists; returns whether this call wrote it. */
  record(executionId: number, result: NewResult, now: number): boolean {
    const changes = this.#insert.run(
      executionId,
      RESULT_TYPE[result.type],
      result.valueId ?? null,
      result.error ? JSON.stringify(result.error) : null,
      result.retryable === undefined || result.retryable === null ? null : result.retryable ? 1 : 0,
      result.successorId ?? null,
      result.successorRef ?? null,
      now,
      result.createdBy ?? null,
    ).changes
    return changes > 0
  }

  get(executionId: number): ResultRecord | null {
    const r = this.#get.get(executionId)
    return r ? toResult(r) : null
  }

  /** The execution whose result points at this one (retry, redirect…), if any. */
  predecessorOf(executionId: number): number | null {
    return this.#predecessor.get(executionId)?.execution_id ?? null
  }

  assign(executionId: number, sessionId: number, now: number): void {
    this.#assign.run(executionId, sessionId, now)
  }

  unassign(executionId: number): void {
    this.#unassign.run(executionId)
  }

  assignment(executionId: number): AssignmentRecord | null {
    const r = this.#assignment.get(executionId)
    return r ? toAssignment(r) : null
  }

  assignmentsOfSession(sessionId: number): AssignmentRecord[] {
    return this.#assignmentsOfSession.all(sessionId).map(toAssignment)
  }

  /** Results and assignments of every execution of a run, keyed by execution id. */
  ofRun(runId: number): { results: Map<number, ResultRecord>; assignments: Map<number, AssignmentRecord> } {
    return {
      results: new Map(this.#resultsOfRun.all(runId).map((r) => [r.execution_id, toResult(r)])),
      assignments: new Map(this.#assignmentsOfRun.all(runId).map((r) => [r.execution_id, toAssignment(r)])),
    }
  }

  /** Assignments whose execution has no result yet (start-up). */
  openAssignments(): AssignmentRecord[] {
    return this.#openAssignments.all().map(toAssignment)
  }

  acknowledge(executionId: number, now: number): void {
    this.#ack.run(now, executionId)
  }

  markStarted(executionId: number, now: number): void {
    this.#started.run(now, now, executionId)
  }
}
