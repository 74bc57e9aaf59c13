/**
 * Runs, steps, executions and the edges between them (children, groups, provenance). One
 * aggregate because every query joins the three tables; longer than most files for that reason.
 */
import type { SqlDatabase } from './sql-database.ts'
import type { CacheConfig, TagSet } from '../protocol/api.ts'
import { executionIdOf, generateId } from '../protocol/ids.ts'
import type { ExecutionRecord, RunRecord, StepRecord } from './types.ts'

interface RunRow {
  id: number
  external_id: string
  parent_execution_id: number | null
  requires: string | null
  memo: number
  created_at: number
  created_by: number | null
}

interface StepRow {
  id: number
  run_id: number
  run_external_id: string
  number: number
  parent_execution_id: number | null
  module: string
  target: string
  type: number
  priority: number
  wait_for: string | null
  cache_config: string | null
  cache_key: Uint8Array | null
  defer_key: Uint8Array | null
  memo_key: Uint8Array | null
  retry_limit: number
  resume_limit: number
  concurrency_key: string | null
  concurrency_limit: number | null
  backoff_min: number
  backoff_max: number
  recurrent: number
  delay: number
  timeout: number
  requires: string | null
  arguments: string
  created_at: number
}

interface ExecutionRow {
  id: number
  step_id: number
  run_id: number
  run_external_id: string
  step_number: number
  attempt: number
  workspace_id: number
  execute_after: number | null
  created_at: number
  created_by: number | null
  module: string
  target: string
  type: number
}

const RUN_COLUMNS = 'id, external_id, parent_execution_id, requires, memo, created_at, created_by'
const STEP_COLUMNS =
  's.id, s.run_id, r.external_id AS run_external_id, s.number, s.parent_execution_id, s.module, s.target, s.type, ' +
  's.priority, s.wait_for, s.cache_config, s.cache_key, s.defer_key, s.memo_key, s.retry_limit, s.resume_limit, s.concurrency_key, s.concurrency_limit, s.backoff_min, ' +
  's.backoff_max, s.recurrent, s.delay, s.timeout, s.requires, s.arguments, s.created_at'
const EXECUTION_COLUMNS =
  'e.id, e.step_id, s.run_id, r.external_id AS run_external_id, s.number AS step_number, e.attempt, e.workspace_id, ' +
  'e.execute_after, e.created_at, e.created_by, s.module, s.target, s.type'
const EXECUTION_FROM = 'executions e JOIN steps s ON s.id = e.step_id JOIN runs r ON r.id = s.run_id'

function toRun(r: RunRow): RunRecord {
  return {
    id: r.id,
    externalId: r.external_id,
    parentExecutionId: r.parent_execution_id,
    requires: r.requires ? (JSON.parse(r.requires) as TagSet) : {},
    memo: r.memo === 1,
    createdAt: r.created_at,
    createdBy: r.created_by,
  }
}

function toStep(r: StepRow): StepRecord {
  return {
    id: r.id,
    runId: r.run_id,
    runExternalId: r.run_external_id,
    number: r.number,
    parentExecutionId: r.parent_execution_id,
    module: r.module,
    target: r.target,
    type: r.type === 1 ? 'workflow' : 'task',
    priority: r.priority,
    waitFor: r.wait_for ? (JSON.parse(r.wait_for) as number[]) : [],
    cacheConfig: r.cache_config ? (JSON.parse(r.cache_config) as CacheConfig) : null,
    cacheKey: r.cache_key,
    deferKey: r.defer_key,
    memoKey: r.memo_key,
    retryLimit: r.retry_limit,
    resumeLimit: r.resume_limit,
    concurrency: r.concurrency_key !== null && r.concurrency_limit !== null ? { limit: r.concurrency_limit, key: r.concurrency_key } : null,
    backoffMin: r.backoff_min,
    backoffMax: r.backoff_max,
    recurrent: r.recurrent === 1,
    delay: r.delay,
    timeout: r.timeout,
    requires: r.requires ? (JSON.parse(r.requires) as TagSet) : null,
    argumentIds: JSON.parse(r.arguments) as number[],
    createdAt: r.created_at,
  }
}

function toExecution(r: ExecutionRow): ExecutionRecord {
  return {
    id: r.id,
    externalId: executionIdOf(r.run_external_id, r.step_number, r.attempt),
    stepId: r.step_id,
    runId: r.run_id,
    runExternalId: r.run_external_id,
    stepNumber: r.step_number,
    attempt: r.attempt,
    workspaceId: r.workspace_id,
    executeAfter: r.execute_after,
    createdAt: r.created_at,
    createdBy: r.created_by,
    module: r.module,
    target: r.target,
    type: r.type === 1 ? 'workflow' : 'task',
  }
}

/** What a new step is made of: a step record without what the store assigns. */
export type NewStep = Omit<StepRecord, 'id' | 'runExternalId' | 'number' | 'createdAt'>

export interface CacheCandidate {
  executionId: number
  stepId: number
  workspaceId: number
  createdAt: number
  resultType: number | null
  resultCreatedAt: number | null
}

/** Runs, steps, executions and the edges between them. */
const EXECUTION_CACHE_SIZE = 50_000
const RECORD_CACHE_SIZE = 20_000

/** Keeps a record read from the database, evicting the oldest beyond the cache size. */
function remember<T>(cache: Map<number, T>, id: number, record: T): T {
  if (cache.size >= RECORD_CACHE_SIZE) cache.delete(cache.keys().next().value!)
  cache.set(id, record)
  return record
}

export class RunStore {
  readonly #db: SqlDatabase
  readonly q
  /** execution records never change once created: recent ones are kept by id and external id */
  readonly #executions = new Map<number, ExecutionRecord>()
  readonly #executionsByExternal = new Map<string, ExecutionRecord>()
  /** run and step records never change either (steps and executions are read on every dispatch) */
  readonly #runs = new Map<number, RunRecord>()
  readonly #steps = new Map<number, StepRecord>()
  /** whether a run id is taken in an archived epoch (semantics.md §2: ids unique across epochs) */
  readonly #takenInArchives: (id: string) => boolean

  constructor(db: SqlDatabase, takenInArchives: (id: string) => boolean = () => false) {
    this.#db = db
    this.#takenInArchives = takenInArchives
    this.q = {
      runTaken: db.query<{ one: number }, [string]>('SELECT 1 AS one FROM runs WHERE external_id = ?'),
      insertRun: db.query<RunRow, [string, number | null, string | null, number, Uint8Array | null, number, number | null]>(
        `INSERT INTO runs (external_id, parent_execution_id, requires, memo, idempotency_key, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ${RUN_COLUMNS}`,
      ),
      runById: db.query<RunRow, [number]>(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`),
      runByExternal: db.query<RunRow, [string]>(`SELECT ${RUN_COLUMNS} FROM runs WHERE external_id = ?`),
      runByIdempotency: db.query<RunRow, [Uint8Array, number]>(
        `SELECT ${RUN_COLUMNS} FROM runs WHERE idempotency_key = ? AND created_at >= ? ORDER BY id LIMIT 1`,
      ),
      runsForParent: db.query<RunRow, [number]>(`SELECT ${RUN_COLUMNS} FROM runs WHERE parent_execution_id = ?`),
      nextStepNumber: db.query<{ n: number | null }, [number]>('SELECT number AS n FROM steps WHERE run_id = ? ORDER BY number DESC LIMIT 1'),
      insertStep: db.query<{ id: number }, any[]>(
        'INSERT INTO steps (run_id, number, parent_execution_id, module, target, type, priority, wait_for, cache_config, cache_key, defer_key, memo_key, retry_limit, resume_limit, concurrency_key, concurrency_limit, backoff_min, backoff_max, recurrent, delay, timeout, requires, arguments, created_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
      ),
      stepById: db.query<StepRow, [number]>(`SELECT ${STEP_COLUMNS} FROM steps s JOIN runs r ON r.id = s.run_id WHERE s.id = ?`),
      stepByNumber: db.query<StepRow, [number, number]>(
        `SELECT ${STEP_COLUMNS} FROM steps s JOIN runs r ON r.id = s.run_id WHERE s.run_id = ? AND s.number = ?`,
      ),
      stepsOfRun: db.query<StepRow, [number]>(
        `SELECT ${STEP_COLUMNS} FROM steps s JOIN runs r ON r.id = s.run_id WHERE s.run_id = ? ORDER BY s.number`,
      ),
      insertExecution: db.query<{ id: number }, [number, number, number, number | null, number, number | null]>(
        'INSERT INTO executions (step_id, attempt, workspace_id, execute_after, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
      ),
      nextAttempt: db.query<{ n: number | null }, [number]>('SELECT MAX(attempt) AS n FROM executions WHERE step_id = ?'),
      executionById: db.query<ExecutionRow, [number]>(`SELECT ${EXECUTION_COLUMNS} FROM ${EXECUTION_FROM} WHERE e.id = ?`),
      executionByParts: db.query<ExecutionRow, [string, number, number]>(
        `SELECT ${EXECUTION_COLUMNS} FROM ${EXECUTION_FROM} WHERE r.external_id = ? AND s.number = ? AND e.attempt = ?`,
      ),
      executionsOfStep: db.query<ExecutionRow, [number]>(
        `SELECT ${EXECUTION_COLUMNS} FROM ${EXECUTION_FROM} WHERE e.step_id = ? ORDER BY e.attempt`,
      ),
      executionsOfRun: db.query<ExecutionRow, [number]>(
        `SELECT ${EXECUTION_COLUMNS} FROM ${EXECUTION_FROM} WHERE s.run_id = ? ORDER BY s.number, e.attempt`,
      ),
      unfinishedExecutions: db.query<ExecutionRow, []>(
        `SELECT ${EXECUTION_COLUMNS} FROM ${EXECUTION_FROM} LEFT JOIN results res ON res.execution_id = e.id WHERE res.execution_id IS NULL ORDER BY e.id`,
      ),
      insertChild: db.query('INSERT OR IGNORE INTO children (parent_id, child_id, group_id) VALUES (?, ?, ?)'),
      childrenOf: db.query<{ child_id: number; group_id: number | null }, [number]>(
        'SELECT child_id, group_id FROM children WHERE parent_id = ? ORDER BY rowid',
      ),
      stepsOfParent: db.query<{ id: number }, [number]>('SELECT id FROM steps WHERE parent_execution_id = ?'),
      insertGroup: db.query('INSERT OR IGNORE INTO groups (execution_id, group_id, name) VALUES (?, ?, ?)'),
      groupsOf: db.query<{ group_id: number; name: string | null }, [number]>(
        'SELECT group_id, name FROM groups WHERE execution_id = ? ORDER BY group_id',
      ),
      insertDependency: db.query('INSERT OR IGNORE INTO execution_dependencies (execution_id, dependency_id) VALUES (?, ?)'),
      dependenciesOf: db.query<{ dependency_id: number }, [number]>(
        'SELECT dependency_id FROM execution_dependencies WHERE execution_id = ?',
      ),
      insertGate: db.query('INSERT OR IGNORE INTO suspension_gates (execution_id, dependency_id, input_id) VALUES (?, ?, ?)'),
      gatesOf: db.query<{ dependency_id: number | null; input_id: number | null }, [number]>(
        'SELECT dependency_id, input_id FROM suspension_gates WHERE execution_id = ?',
      ),
      cacheCandidates: db.query<
        { id: number; step_id: number; workspace_id: number; created_at: number; type: number | null; result_at: number | null },
        [Uint8Array]
      >(
        'SELECT e.id, e.step_id, e.workspace_id, e.created_at, res.type, res.created_at AS result_at FROM steps s ' +
          'JOIN executions e ON e.step_id = s.id LEFT JOIN results res ON res.execution_id = e.id ' +
          'WHERE s.cache_key = ? ORDER BY e.created_at DESC, e.id DESC LIMIT 200',
      ),
      runsOfWorkflow: db.query<RunRow & { workspace_id: number }, [string, string, number, number]>(
        `SELECT r.id, r.external_id, r.parent_execution_id, r.requires, r.memo, r.created_at, r.created_by, e.workspace_id FROM runs r ` +
          `JOIN steps s ON s.run_id = r.id AND s.number = 1 JOIN executions e ON e.step_id = s.id AND e.attempt = 1 ` +
          `WHERE s.module = ? AND s.target = ? AND e.workspace_id = ? ORDER BY r.id DESC LIMIT ?`,
      ),
      originWorkspace: db.query<{ workspace_id: number }, [number]>(
        'SELECT e.workspace_id FROM steps s JOIN executions e ON e.step_id = s.id AND e.attempt = 1 WHERE s.run_id = ? AND s.number = 1',
      ),
      childrenOfRun: db.query<{ parent_id: number; child_id: number; group_id: number | null }, [number]>(
        'SELECT c.parent_id, c.child_id, c.group_id FROM children c JOIN executions e ON e.id = c.parent_id JOIN steps s ON s.id = e.step_id WHERE s.run_id = ? ORDER BY c.rowid',
      ),
      groupsOfRun: db.query<{ execution_id: number; group_id: number; name: string | null }, [number]>(
        'SELECT g.execution_id, g.group_id, g.name FROM groups g JOIN executions e ON e.id = g.execution_id JOIN steps s ON s.id = e.step_id WHERE s.run_id = ? ORDER BY g.group_id',
      ),
      dependenciesOfRun: db.query<{ execution_id: number; dependency_id: number }, [number]>(
        'SELECT d.execution_id, d.dependency_id FROM execution_dependencies d JOIN executions e ON e.id = d.execution_id JOIN steps s ON s.id = e.step_id WHERE s.run_id = ?',
      ),
      memoCandidates: db.query<{ id: number; workspace_id: number; created_at: number }, [number, Uint8Array]>(
        'SELECT e.id, e.workspace_id, e.created_at FROM steps s JOIN executions e ON e.step_id = s.id ' +
          'WHERE s.run_id = ? AND s.memo_key = ? ORDER BY e.created_at DESC, e.id DESC LIMIT 200',
      ),
    }
  }

  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)()
  }

  createRun(
    input: { parentExecutionId: number | null; requires: TagSet; memo: boolean; idempotencyKey: Uint8Array | null; createdBy: number | null },
    now: number,
    isTakenElsewhere: (id: string) => boolean = () => false,
  ): RunRecord {
    const externalId = generateId('R', (id) => !!this.q.runTaken.get(id) || isTakenElsewhere(id) || this.#takenInArchives(id))
    const requires = Object.keys(input.requires).length ? JSON.stringify(input.requires) : null
    return toRun(
      this.q.insertRun.get(externalId, input.parentExecutionId, requires, input.memo ? 1 : 0, input.idempotencyKey, now, input.createdBy)!,
    )
  }

  getRun(id: number): RunRecord | null {
    const cached = this.#runs.get(id)
    if (cached) return cached
    const r = this.q.runById.get(id)
    return r ? remember(this.#runs, id, toRun(r)) : null
  }

  getRunByExternalId(externalId: string): RunRecord | null {
    const r = this.q.runByExternal.get(externalId)
    return r ? toRun(r) : null
  }

  findRunByIdempotencyKey(key: Uint8Array, since: number): RunRecord | null {
    const r = this.q.runByIdempotency.get(key, since)
    return r ? toRun(r) : null
  }

  childRuns(parentExecutionId: number): RunRecord[] {
    return this.q.runsForParent.all(parentExecutionId).map(toRun)
  }

  createStep(step: NewStep, now: number): StepRecord {
    const number = (this.q.nextStepNumber.get(step.runId)?.n ?? 0) + 1
    const row = this.q.insertStep.get(
      step.runId,
      number,
      step.parentExecutionId,
      step.module,
      step.target,
      step.type === 'workflow' ? 1 : 0,
      step.priority,
      step.waitFor.length ? JSON.stringify(step.waitFor) : null,
      step.cacheConfig ? JSON.stringify(step.cacheConfig) : null,
      step.cacheKey,
      step.deferKey,
      step.memoKey,
      step.retryLimit,
      step.resumeLimit,
      step.concurrency?.key ?? null,
      step.concurrency?.limit ?? null,
      step.backoffMin,
      step.backoffMax,
      step.recurrent ? 1 : 0,
      step.delay,
      step.timeout,
      step.requires ? JSON.stringify(step.requires) : null,
      JSON.stringify(step.argumentIds),
      now,
    )!
    // built from what was written (a read-back would cost a query per call); not cached: the
    // surrounding transaction may still roll back and free the id
    const run = this.getRun(step.runId)!
    return { ...step, id: row.id, runExternalId: run.externalId, number, createdAt: now }
  }

  getStep(id: number): StepRecord | null {
    const cached = this.#steps.get(id)
    if (cached) return cached
    const r = this.q.stepById.get(id)
    return r ? remember(this.#steps, id, toStep(r)) : null
  }

  getStepByNumber(runId: number, number: number): StepRecord | null {
    const r = this.q.stepByNumber.get(runId, number)
    return r ? toStep(r) : null
  }

  stepsOfRun(runId: number): StepRecord[] {
    return this.q.stepsOfRun.all(runId).map(toStep)
  }

  /** Creates the next attempt of a step. */
  createExecution(
    stepId: number,
    workspaceId: number,
    executeAfter: number | null,
    now: number,
    createdBy: number | null = null,
    /** the step's record when the caller has it (saves a read) */
    known?: StepRecord,
  ): ExecutionRecord {
    const step = known?.id === stepId ? known : this.getStep(stepId)!
    const attempt = (this.q.nextAttempt.get(stepId)?.n ?? 0) + 1
    const row = this.q.insertExecution.get(stepId, attempt, workspaceId, executeAfter, now, createdBy)!
    // built from what was written; not cached: the surrounding transaction may still roll back
    return {
      id: row.id,
      externalId: `${step.runExternalId}:${step.number}:${attempt}`,
      stepId,
      runId: step.runId,
      runExternalId: step.runExternalId,
      stepNumber: step.number,
      attempt,
      workspaceId,
      executeAfter,
      createdAt: now,
      createdBy,
      module: step.module,
      target: step.target,
      type: step.type,
    }
  }

  getExecution(id: number): ExecutionRecord | null {
    const cached = this.#executions.get(id)
    if (cached) return cached
    const r = this.q.executionById.get(id)
    return r ? this.#remember(toExecution(r)) : null
  }

  getExecutionByParts(runExternalId: string, step: number, attempt: number): ExecutionRecord | null {
    const cached = this.#executionsByExternal.get(executionIdOf(runExternalId, step, attempt))
    if (cached) return cached
    const r = this.q.executionByParts.get(runExternalId, step, attempt)
    return r ? this.#remember(toExecution(r)) : null
  }

  /** Keeps a committed execution's record (the orchestrator tracks it: later frames name it). */
  remember(e: ExecutionRecord): void {
    if (!this.#executions.has(e.id)) this.#remember(e)
  }

  #remember(e: ExecutionRecord): ExecutionRecord {
    if (this.#executions.size >= EXECUTION_CACHE_SIZE) {
      const oldest = this.#executions.values().next().value!
      this.#executions.delete(oldest.id)
      this.#executionsByExternal.delete(oldest.externalId)
    }
    this.#executions.set(e.id, e)
    this.#executionsByExternal.set(e.externalId, e)
    return e
  }

  executionsOfStep(stepId: number): ExecutionRecord[] {
    return this.q.executionsOfStep.all(stepId).map(toExecution)
  }

  executionsOfRun(runId: number): ExecutionRecord[] {
    return this.q.executionsOfRun.all(runId).map(toExecution)
  }

  /** Every execution without a result (start-up rebuild of the scheduler's state). */
  unfinishedExecutions(): ExecutionRecord[] {
    return this.q.unfinishedExecutions.all().map(toExecution)
  }

  addChild(parentId: number, childId: number, groupId: number | null): void {
    this.q.insertChild.run(parentId, childId, groupId)
  }

  childrenOf(parentId: number): { childId: number; groupId: number | null }[] {
    return this.q.childrenOf.all(parentId).map((r) => ({ childId: r.child_id, groupId: r.group_id }))
  }

  /** Steps called by this execution (for cancellation cascades). */
  stepIdsCalledBy(executionId: number): number[] {
    return this.q.stepsOfParent.all(executionId).map((r) => r.id)
  }

  registerGroup(executionId: number, groupId: number, name: string | null): void {
    this.q.insertGroup.run(executionId, groupId, name)
  }

  groupsOf(executionId: number): Record<string, string | null> {
    const out: Record<string, string | null> = {}
    for (const r of this.q.groupsOf.all(executionId)) out[String(r.group_id)] = r.name
    return out
  }

  recordDependency(executionId: number, dependencyId: number): void {
    this.q.insertDependency.run(executionId, dependencyId)
  }

  dependenciesOf(executionId: number): number[] {
    return this.q.dependenciesOf.all(executionId).map((r) => r.dependency_id)
  }

  addSuspensionGate(executionId: number, dependencyId: number | null, inputId: number | null): void {
    this.q.insertGate.run(executionId, dependencyId, inputId)
  }

  suspensionGates(executionId: number): { executionId: number | null; inputId: number | null }[] {
    return this.q.gatesOf.all(executionId).map((r) => ({ executionId: r.dependency_id, inputId: r.input_id }))
  }

  cacheCandidates(cacheKey: Uint8Array): CacheCandidate[] {
    return this.q.cacheCandidates.all(cacheKey).map((r) => ({
      executionId: r.id,
      stepId: r.step_id,
      workspaceId: r.workspace_id,
      createdAt: r.created_at,
      resultType: r.type,
      resultCreatedAt: r.result_at,
    }))
  }

  /** Call edges, groups and provenance of every execution of a run, in three queries. */
  edgesOfRun(runId: number): {
    children: Map<number, { childId: number; groupId: number | null }[]>
    groups: Map<number, Record<string, string | null>>
    dependencies: Map<number, number[]>
  } {
    const children = new Map<number, { childId: number; groupId: number | null }[]>()
    for (const r of this.q.childrenOfRun.all(runId)) {
      const list = children.get(r.parent_id) ?? []
      list.push({ childId: r.child_id, groupId: r.group_id })
      children.set(r.parent_id, list)
    }
    const groups = new Map<number, Record<string, string | null>>()
    for (const r of this.q.groupsOfRun.all(runId)) {
      const entry = groups.get(r.execution_id) ?? {}
      entry[String(r.group_id)] = r.name
      groups.set(r.execution_id, entry)
    }
    const dependencies = new Map<number, number[]>()
    for (const r of this.q.dependenciesOfRun.all(runId)) {
      const list = dependencies.get(r.execution_id) ?? []
      list.push(r.dependency_id)
      dependencies.set(r.execution_id, list)
    }
    return { children, groups, dependencies }
  }

  /** The most recent runs of a workflow started in a workspace. */
  runsOfWorkflow(module: string, target: string, workspaceId: number, limit = 50): RunRecord[] {
    return this.q.runsOfWorkflow.all(module, target, workspaceId, limit).map(toRun)
  }

  /** The workspace of the run's first execution. */
  originWorkspace(runId: number): number | null {
    return this.q.originWorkspace.get(runId)?.workspace_id ?? null
  }

  memoCandidates(runId: number, memoKey: Uint8Array): { executionId: number; workspaceId: number }[] {
    return this.q.memoCandidates.all(runId, memoKey).map((r) => ({ executionId: r.id, workspaceId: r.workspace_id }))
  }
}
