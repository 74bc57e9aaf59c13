/** Domain records returned by the store (never raw rows). Times are Unix ms. */
import type { CacheConfig, TagSet } from '../protocol/api.ts'

export const RESULT_TYPE = {
  error: 0,
  value: 1,
  abandoned: 2,
  cancelled: 3,
  deferred: 4,
  cached: 5,
  suspended: 6,
  spawned: 7,
  timeout: 8,
  recurred: 9,
} as const
export type ResultTypeName = keyof typeof RESULT_TYPE
export type ResultTypeCode = (typeof RESULT_TYPE)[ResultTypeName]
export const RESULT_TYPE_NAME: Record<number, ResultTypeName> = Object.fromEntries(
  Object.entries(RESULT_TYPE).map(([k, v]) => [v, k]),
) as Record<number, ResultTypeName>

export const WORKSPACE_STATE = { active: 0, paused: 1, archived: 2 } as const
export type WorkspaceStateName = keyof typeof WORKSPACE_STATE
export const WORKSPACE_STATE_NAME: Record<number, WorkspaceStateName> = { 0: 'active', 1: 'paused', 2: 'archived' }

export interface WorkspaceRecord {
  id: number
  externalId: string
  name: string
  baseId: number | null
  state: WorkspaceStateName
  createdAt: number
}

export interface RunRecord {
  id: number
  externalId: string
  parentExecutionId: number | null
  requires: TagSet
  memo: boolean
  createdAt: number
  createdBy: number | null
}

export interface StepRecord {
  id: number
  runId: number
  runExternalId: string
  number: number
  parentExecutionId: number | null
  module: string
  target: string
  type: 'task' | 'workflow'
  priority: number
  waitFor: number[]
  cacheConfig: CacheConfig | null
  cacheKey: Uint8Array | null
  deferKey: Uint8Array | null
  memoKey: Uint8Array | null
  /** 0 none, -1 unlimited */
  retryLimit: number
  /** workflows: how many times an abandoned execution is resumed by a new attempt (0 for tasks) */
  resumeLimit: number
  /** at most `limit` executions with this key run at once in the workspace (null: no limit) */
  concurrency: { limit: number; key: string } | null
  backoffMin: number
  backoffMax: number
  recurrent: boolean
  delay: number
  timeout: number
  requires: TagSet | null
  argumentIds: number[]
  createdAt: number
}

export interface ExecutionRecord {
  id: number
  externalId: string
  stepId: number
  runId: number
  runExternalId: string
  stepNumber: number
  attempt: number
  workspaceId: number
  executeAfter: number | null
  createdAt: number
  createdBy: number | null
  module: string
  target: string
  type: 'task' | 'workflow'
}

export interface ErrorInfo {
  type: string
  message: string
  frames: [string, number, string, string | null][]
}

export interface ResultRecord {
  executionId: number
  type: ResultTypeName
  valueId: number | null
  error: ErrorInfo | null
  retryable: boolean | null
  successorId: number | null
  /**
   * Resolved-form `deferred`/`cached`/`spawned` (semantics.md §4.1, §23): the external id of the
   * execution it redirected to, in an archived epoch; `valueId` holds a copy of its value.
   */
  successorRef: string | null
  createdAt: number
  createdBy: number | null
}

export interface AssignmentRecord {
  executionId: number
  sessionId: number
  assignedAt: number
  acknowledgedAt: number | null
  startedAt: number | null
}

export interface SessionRecord {
  id: number
  externalId: string
  secretHash: Uint8Array
  workspaceId: number
  provides: TagSet
  accepts: TagSet
  workerId: number | null
  activationTimeout: number
  reconnectionTimeout: number
  createdAt: number
  activatedAt: number | null
  expiredAt: number | null
}
