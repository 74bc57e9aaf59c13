/**
 * What the orchestrator's operations work with: the state owners and the few operations that
 * every rule needs (resolve a call, record a result, start tracking an execution, wake the
 * scheduler). `Orchestrator` implements it; the operation modules depend on this interface
 * only, so they never import orchestrator.ts and no import cycle forms.
 *
 * Who owns what:
 * - `queue`    (queue.ts):           queued and assigned executions, what they wait on
 * - `waiters`  (waiter-registry.ts): executions blocked in select, their handles and timeouts
 * - `sessions` (live-session.ts):    worker sessions, connections, capacity, held executions
 * - `replies`  (replies.ts):         remembered replies to keyed requests
 * - `pools`    (pool-registry.ts):   live pools and the workers they launched
 * - `schedules` (schedule-runner.ts): the timer that starts schedules' runs (on `Orchestrator`;
 *                                      no rule needs it, so it is not part of `Core`)
 * - `store`:                          everything durable
 */
import type { ServerValue } from '../protocol/values.ts'
import type { ExecutionRecord, NewResult, OrchestrationStore, ResultRecord, StepRecord } from '../store/index.ts'
import type { WorkerLauncher } from './worker-launcher.ts'
import type { SessionRegistry } from './live-session.ts'
import type { PoolRegistry } from './pool-registry.ts'
import type { ExecutionQueue, QueuedExecution } from './queue.ts'
import type { ReplyCache } from './replies.ts'
import type { ChangeEvent } from './types.ts'
import type { WaiterRegistry } from './waiter-registry.ts'

/** Where a call stands: its final result, or the execution still working on it. */
export type Resolution =
  | { final: true; executionId: number; result: ResultRecord }
  | { final: false; executionId: number }

/** Why a result is recorded, where it changes what follows. */
export interface ResultContext {
  /** abandoned because its worker died or lost its session: a workflow is resumed */
  workerLost?: boolean
}

export interface Core {
  readonly store: OrchestrationStore
  readonly queue: ExecutionQueue
  readonly waiters: WaiterRegistry
  readonly sessions: SessionRegistry
  readonly replies: ReplyCache
  readonly pools: PoolRegistry
  /** starts pool workers (semantics.md §21); null: pools launch nothing */
  readonly launcher: WorkerLauncher | null
  /** grace added to a timeout before the server records it itself (semantics.md §9) */
  readonly backstopGraceMs: number
  /** how long a new session waits for its worker to reconnect (semantics.md §20.1) */
  readonly reconnectionTimeoutMs: number
  now(): number
  /** Tells topic subscribers. */
  emit(event: ChangeEvent): void
  /** Schedules one scheduler pass at the end of this event-loop turn. */
  wake(): void
  /** Commits this turn's write batch now (before an epoch rotation, a shutdown). */
  commit(): void
  execution(id: number): ExecutionRecord | null
  executionByExternalId(externalId: string): ExecutionRecord | null
  /** Follows successors to the final result, or to the execution that is still pending. */
  resolve(executionId: number): Resolution
  /** Records a result unless one exists (first write wins); whether this call wrote it. */
  recordResult(executionId: number, input: NewResult, context?: ResultContext): boolean
  /** Starts tracking a result-less, unassigned execution. */
  track(exec: ExecutionRecord, step?: StepRecord): QueuedExecution
  /** A value's references with module/target and asset summaries filled in (to workers). */
  refillValue(value: ServerValue): ServerValue
}
