import type { ServerFrame } from '../protocol/worker.ts'
import type { ExecutionRecord, StepRecord, TagSet, SessionRecord } from '../store/types.ts'
import type { DeclaredTargets } from '../protocol/executor.ts'

/** A live worker connection, as the orchestrator sees it. */
export interface WorkerChannel {
  send(frame: ServerFrame): void
  close(code: number, reason: string): void
  /** our CBOR worker understands acknowledgement frames; 0.12 JSON workers don't */
  readonly supportsAcks: boolean
}

/** What changed, for topic subscribers. */
export type ChangeEvent =
  | { kind: 'run'; runId: number }
  | { kind: 'workspaces' }
  /** a service token was created or revoked (the `tokens` topic) */
  | { kind: 'tokens' }
  | { kind: 'queue'; workspaceId: number }
  | { kind: 'sessions'; workspaceId: number }
  | { kind: 'manifests'; workspaceId: number }
  | { kind: 'pools'; workspaceId: number }
  /** an input was created or answered, or the executions waiting on one changed */
  | { kind: 'inputs' }

/** Held-execution states of a session (heartbeat codes 0/1, plus finished-but-not-terminated). */
export type HeldState = 'starting' | 'executing' | 'finished'

/** An execution without a result that the scheduler tracks (queued or assigned). */
export interface LiveExecution {
  exec: ExecutionRecord
  step: StepRecord
  /** effective requires (§19.2) */
  requires: TagSet
  /** wait_for dependencies still pending (all-of) */
  waitingOn: Set<number>
  /** suspension gate (any-of); null when there is none or it is satisfied */
  gate: Set<number> | null
  /** inputs referenced by wait_for arguments that have no response yet (all-of) */
  waitingOnInputs: Set<number>
  /** unanswered inputs of the pending suspension gate (any-of, with `gate`); empty when `gate` is null */
  gateInputs: Set<number>
  deferKey: string | null
  sessionId: number | null
  assignedAt: number | null
  startedAt: number | null
  backstop: ReturnType<typeof setTimeout> | null
  /** lost-assignment bookkeeping (§20.6): when `execute` was last sent, misses seen since */
  lastSentAt: number
  misses: number
  resent: boolean
}

export interface LiveSession {
  record: SessionRecord
  channel: WorkerChannel | null
  targets: Set<string> | null
  declared: DeclaredTargets
  concurrency: number
  draining: boolean
  held: Map<number, HeldState>
  /** unacknowledged assignments (execute may have been lost) */
  unacknowledged: Set<number>
  /** frames queued while disconnected */
  outbox: ServerFrame[]
  expiry: ReturnType<typeof setTimeout> | null
  executed: number
  connectedAt: number | null
}

export type ResolvedHandle = { kind: 'execution'; id: number } | { kind: 'input'; id: number }

export interface Waiter {
  id: number
  sessionId: number
  callerId: number
  handles: ResolvedHandle[]
  suspend: boolean
  cancelRemaining: boolean
  timer: ReturnType<typeof setTimeout> | null
  watching: Set<number>
  /** unanswered inputs among its handles */
  watchingInputs: Set<number>
  /** the request's idempotency key: a re-sent select replaces its earlier waiter */
  key?: string
  reply: (value: unknown) => void
}

export function targetKey(type: 'task' | 'workflow', module: string, target: string): string {
  return `${type}\0${module}\0${target}`
}
