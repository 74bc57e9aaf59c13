/**
 * Shapes of the HTTP API and topics (cli.md §7, http-api.md §9–§13), defined once for the
 * server that sends them and the CLI that reads and prints them (STYLE §5). Value data is
 * lossless JSON (`Json` from json.ts) so numbers print exactly as stored.
 */
import type { Json } from './json.ts'
import type { LogMessage, LogPage as WireLogPage } from './logs.ts'
import type { AssetSummary, FrameObject, LogReference, ObjectValue, TopicReference } from './values.ts'

export type { AssetSummary, LogReference, TopicReference }

/** Routing tags (semantics.md §19): a tag name and the values it may take. */
export type TagSet = Record<string, string[]>

/** Who created something (cli.md §7.2); `createdBy` is null when no one is known. */
export interface Principal {
  type: 'user' | 'token'
  externalId: string
}

/** cli.md §7.1, as the client reads it (data parsed losslessly) */
export type Value = ObjectValue<TopicReference, Json>

export interface ExecutionRef {
  executionId: string
  module: string
  target: string
}

export type ErrorFrame = FrameObject

/** cli.md §7.3 */
export type Result =
  | { type: 'value'; createdBy: Principal | null; value: Value }
  | {
      type: 'error'
      createdBy: Principal | null
      error: { type: string; message: string; frames: ErrorFrame[] }
      retry: number | null
      retryable: boolean | null
    }
  | { type: 'abandoned' | 'timeout'; createdBy: Principal | null; retry: number | null }
  | { type: 'cancelled'; createdBy: Principal | null }
  | { type: 'suspended' | 'recurred'; createdBy: Principal | null; successor: number | null }
  | { type: 'deferred' | 'cached' | 'spawned'; createdBy: Principal | null; execution: RedirectRef | null; result: Result | null }

/**
 * The execution a deferred, cached or spawned result resolved to: `module` and `target` are null
 * (or the whole reference is) only when that execution can no longer be found.
 */
export type RedirectRef = ExecutionRef | { executionId: string; module: null; target: null }

export type ResultType = Result['type']

export type Dependency =
  | { type: 'result'; execution: ExecutionRef }
  | { type: 'input'; inputId: string; title: string | null; status: InputStatus }
  | { type: 'asset'; assetId: string; asset: AssetSummary }

export type InputStatus = null | 'value' | 'dismissed' | 'cancelled'

export interface Execution {
  executionId: string
  /** null only when the execution's workspace is unknown to the epoch it is read from */
  workspaceId: string | null
  createdAt: number
  createdBy: Principal | null
  executeAfter: number | null
  assignedAt: number | null
  completedAt: number | null
  groups: Record<string, string | null>
  assets: Record<string, AssetSummary>
  dependencies: Record<string, Dependency>
  children: { stepId: string; attempt: number; groupId: number | null }[]
  inputs: Record<string, { title: string | null; status: InputStatus }>
  result: Result | null
  metrics: Record<string, unknown>
}

export interface CacheConfig {
  params: boolean | number[]
  maxAge: number | null
  namespace: string | null
  version: string | null
}

export interface RetriesConfig {
  limit: number | null
  backoffMin: number
  backoffMax: number
}

/**
 * A concurrency limit as declared (ours, issue 11): at most `limit` (≥ 1) running executions
 * with the same key in the workspace. `key` is the template (`"{customer_id}"`), resolved with
 * each call's arguments; null: one key for the target, `"<module>/<target>"`.
 */
export interface ConcurrencyConfig {
  limit: number
  key: string | null
}

export interface Step {
  stepNumber: number
  module: string
  target: string
  parentId: string | null
  cacheConfig: CacheConfig | null
  cacheKey: string | null
  memoKey: string | null
  retries: RetriesConfig | null
  recurrent: boolean
  timeout: number
  createdAt: number
  arguments: Value[]
  requires: TagSet
  /** keyed by attempt number as a decimal string; sort numerically */
  executions: Record<string, Execution>
}

/** cli.md §7.4 */
export interface RunSnapshot {
  createdAt: number
  createdBy: Principal | null
  requires: TagSet
  parent: ExecutionRef | null
  steps: Record<string, Step>
}

export interface WorkspaceSummary {
  name: string
  baseId: string | null
  state: 'active' | 'paused' | 'archived'
}

export interface ParameterManifest {
  name: string
  default?: string | null
  annotation?: string | null
}

/** `configuration` of the workflow topic (http-api.md §11.3) */
export interface WorkflowConfiguration {
  waitFor: number[]
  cache: CacheConfig | null
  defer: { params: boolean | number[] } | null
  delay: number
  retries: RetriesConfig | null
  recurrent: boolean
  timeout: number
  requires: TagSet | null
  memo: boolean
  /** how often an abandoned execution is resumed; null = the server's default (3), 0 = never */
  resumes: number | null
  /** higher runs first; null: not set (a run submitted without one gets 0) */
  priority: number | null
  concurrency: ConcurrencyConfig | null
}

export interface WorkflowTopic {
  parameters: ParameterManifest[] | null
  instruction: string | null
  configuration: WorkflowConfiguration | null
  runs: Record<string, { id: string; createdAt: number; createdBy: Principal | null }>
}

/** `workspaces/<ws>/manifests`: module → workflow → manifest */
export type ManifestsTopic = Record<
  string,
  Record<
    string,
    {
      parameters: ParameterManifest[]
      waitFor: number[]
      cache: CacheConfig | null
      defer: { params: boolean | number[] } | null
      delay: number
      retries: RetriesConfig | null
      requires: TagSet | null
    }
  >
>

/** `workspaces/<ws>/modules`: module → workflow → its runs in progress, sorted */
export type ModulesTopic = Record<string, { workflows: Record<string, { activeRuns: string[] }> }>

export interface SubmitWorkflowRequest {
  workspaceId: string
  module: string
  target: string
  /** each `["json", "<JSON text>"]` */
  arguments: ['json', string][]
  waitFor?: number[]
  cache?: CacheConfig | null
  defer?: { params: boolean | number[] } | null
  delay?: number
  retries?: RetriesConfig | null
  recurrent?: boolean
  timeout?: number
  requires?: TagSet | null
  memo?: boolean
  /** how often the run's workflow execution is resumed when abandoned (integer ≥ 0); null or absent = the server's default (3) */
  resumes?: number | null
  /** an integer, higher runs first; null or absent = 0 */
  priority?: number | null
  /** caps the workflow's running executions by key; the template is resolved by the server */
  concurrency?: ConcurrencyConfig | null
  idempotencyKey?: string
}

export interface SubmitWorkflowResponse {
  runId: string
  stepId: string
  executionId: string
}

export interface QueueEntry {
  module: string
  target: string
  runId: string
  stepId: string
  stepNumber: number
  attempt: number
  executeAfter: number | null
  createdAt: number
  assignedAt: number | null
  dependencies: string[]
  requires: TagSet
  /** higher runs first; each level is a minute of waiting (no starvation) */
  priority: number
  status: string
  reason: string
}

export interface SessionEntry {
  connected: boolean
  /** executions starting or running (a waiting one holds no slot) */
  executing: number
  /** the worker's bound on `executing` */
  concurrency: number
  /** executions blocked in a wait (`result()`, `select`, an input) */
  waiting: number
  /** the worker's bound on `waiting` (declared, else the server's default) */
  maxWaiting: number
  poolName: string | null
  targets: Record<string, string[]>
  provides: TagSet
  accepts: TagSet
  workerState: 'active' | 'paused' | 'draining' | null
  executions: number
}

export interface TokenEntry {
  id: number
  externalId: string
  name: string | null
  workspaces: string[] | null
  /** seconds */
  createdAt: number
  /** seconds */
  expiresAt: number | null
  createdBy: Principal | null
}

export interface CreateTokenResponse {
  token: string
  tokenId: number
  externalId: string
}

/** An entry of `workspaces/<ws>/inputs`; `runId` is null only if the input's run is gone */
export interface InputSummary {
  runId: string | null
  /** the first execution waiting on the input */
  executionId?: string | null
  key?: string | null
  createdAt: number
  title: string | null
  requires: TagSet
}

export interface InputDetail {
  key: string | null
  template: string | null
  placeholders: Record<string, Value>
  schema: string | null
  initial: Json
  title: string | null
  actions: string[] | null
  requires: TagSet
  createdAt: number
  response: {
    type: 'value' | 'dismissed' | 'cancelled'
    createdAt: number
    value?: Json
    createdBy?: Principal | null
  } | null
}

/** `inputs/<id>` (http-api.md §11.3): the `get_input` object and whether an execution waits on it */
export interface InputTopic extends InputDetail {
  active: boolean
}

export interface AssetTopic {
  name: string | null
  entries: Record<string, { blobKey: string; size: number; metadata: Record<string, Json> }>
}

/** The launcher types a pool can name (http-api.md §9.3). */
export const LAUNCHER_TYPES = ['docker', 'process', 'kubernetes'] as const
export type LauncherType = (typeof LAUNCHER_TYPES)[number]

/**
 * A pool's launcher configuration (http-api.md §9.3): `type` plus the fields of that type. As
 * stored, secret fields (kubernetes `token`, `secretEnv` values) hold ciphertext that only the
 * server can read; responses show `"<redacted>"` in their place (§16.6).
 */
export type LauncherConfig = { type: LauncherType } & Record<string, Json>

export interface Pool {
  modules: string[]
  provides: TagSet
  accepts: TagSet
  launcher: LauncherConfig | null
  state?: 'active' | 'disabled'
}

export interface PoolWorker {
  startingAt: number | null
  startedAt: number | null
  startError: string | null
  stoppingAt: number | null
  stoppedAt: number | null
  stopError: string | null
  deactivatedAt: number | null
  error: string | null
  logs: string | null
  state: 'active' | 'paused' | 'draining'
  sessionId: string | null
  executions: number
  connected?: boolean
}

export interface PoolTopic {
  pool: Pool
  workers: Record<string, PoolWorker>
}

/**
 * A value of a log entry as the client reads it (data parsed losslessly); the server holds the
 * same value with its data as stored JSON text (`LogValue` in values.ts).
 */
export type LogEntryValue = ObjectValue<LogReference, Json>

/** http-api.md §12, as the client reads it */
export type LogEntry = LogMessage<Record<string, LogEntryValue>>
export type LogPage = WireLogPage<Record<string, LogEntryValue>>

export interface DiscoverResponse {
  version: string
  api_version: string
  access: { workspaces: string[] }
  project?: string | null
}

export interface DeviceLoginStart {
  device_code: string
  user_code?: string
  verification_uri: string
  expires_in: number
  interval: number
}
