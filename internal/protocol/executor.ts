/**
 * The worker ⇄ executor channel (executor-protocol.md): discovery output and the shapes both
 * the worker and the manifest builder share, and how a line is recognised as protocol (§3).
 * The messages themselves, typed and checked, are in executor-messages.ts. Executor lines are
 * JSON objects; their value payloads are parsed with the lossless reader (json.ts) so numbers
 * survive verbatim.
 */
import type { ConcurrencyConfig } from './api.ts'
import { ProtocolError } from './errors.ts'
import type { ScheduleCatchUp, ScheduleOverlap, ScheduleSpec } from './schedules.ts'
import type { Json } from './json.ts'

export const TARGET_TYPES = ['task', 'workflow'] as const
export type TargetType = (typeof TARGET_TYPES)[number]

export interface ParameterDefinition {
  name: string
  annotation?: string | null
  /** JSON text of the default, null when none */
  default?: string | null
}

export interface CacheDefinition {
  params: true | number[]
  max_age_ms?: number
  namespace?: string
  version?: string
}

export interface RetriesDefinition {
  /** absent = unlimited */
  limit?: number
  backoff_min_ms?: number
  backoff_max_ms?: number
}

/** One entry of `discover`'s `{"targets": [...]}` (executor-protocol.md §2.2). */
export interface TargetDefinition {
  module: string
  name: string
  type: TargetType
  parameters: ParameterDefinition[]
  wait_for?: number[]
  cache?: CacheDefinition
  defer?: { params: true | number[] }
  delay?: number
  retries?: RetriesDefinition
  recurrent?: boolean
  timeout?: number
  requires?: Record<string, string[]>
  memo?: true | number[]
  /** workflows only (ours): resumptions after the worker died; absent = the server's default */
  resumes?: number
  /** ours: higher runs first; absent = the caller's (0 at the top of a run) */
  priority?: number
  /** ours: the limit and its key *template* (null: `module/target`) */
  concurrency?: ConcurrencyConfig
  /** workflows only (ours): started on this schedule once registered */
  schedule?: DiscoveredSchedule
  instruction?: string
  is_stub?: boolean
}

/** `schedule` of a discovered workflow (ours, issue 11); absent fields take the server's defaults. */
export interface DiscoveredSchedule {
  cron: string
  /** IANA name; absent: UTC */
  timezone?: string
  /** JSON texts, one per positional argument */
  arguments?: string[]
  catch_up?: ScheduleCatchUp
  overlap?: ScheduleOverlap
}

/** The camelCase manifest of one workflow, as `register_manifests` parses it (http-api.md §9.4). */
export interface WorkflowManifest {
  parameters: { name: string; default?: string; annotation?: string }[]
  waitFor: number[]
  cache: { params: boolean | number[]; maxAge: number | null; namespace: string | null; version: string | null } | null
  defer: { params: true | number[] } | null
  delay: number
  retries: { limit: number | null; backoffMin: number; backoffMax: number } | null
  recurrent: boolean
  timeout: number
  requires: Record<string, string[]> | null
  memo: boolean
  /**
   * How often an abandoned execution is resumed; null = the server's default. Manifests
   * registered before this field existed are stored without it: read it as `?? null`.
   */
  resumes: number | null
  /** null: not set (0 for a run). Absent from manifests stored before it existed: `?? null`. */
  priority: number | null
  /** the key is the template; absent from manifests stored before it existed: `?? null` */
  concurrency: ConcurrencyConfig | null
  /** ours (issue 11): the workflow is started on this schedule; absent when it has none */
  schedule?: ScheduleSpec
  instruction: string | null
}

/** Targets a worker declares to the server: `{module: {workflow: [..], task: [..]}}`. */
export type DeclaredTargets = Record<string, Partial<Record<TargetType, string[]>>>

/**
 * Heartbeat state of an execution held by a worker (executor-protocol.md §14), as the wire
 * numbers it; not the status users see (`ExecutionStatus` in client/run-status.ts).
 */
export const HEARTBEAT_STATE = { starting: 0, executing: 1, aborting: 2, stopping: 3 } as const
export type HeartbeatState = (typeof HEARTBEAT_STATE)[keyof typeof HEARTBEAT_STATE]

/** Log levels (semantics.md §24). */
export const LOG_LEVEL = { debug: 0, stdout: 1, info: 2, stderr: 3, warning: 4, error: 5 } as const

/**
 * A line read from an executor, by envelope: notification, request, or a line we don't
 * understand. Its params are checked by `parseExecutorMessage` (executor-messages.ts).
 */
export type ExecutorLine =
  | { kind: 'notification'; method: string; params: Record<string, Json> }
  | { kind: 'request'; id: number; method: string; params: Record<string, Json> }
  | { kind: 'other'; text: string }

/**
 * Classifies one parsed executor line (executor-protocol.md §3): a JSON object with a string
 * `method` (and optional integer `id`) is protocol; anything else is a non-protocol line.
 */
export function classifyExecutorLine(parsed: Json, text: string): ExecutorLine {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { kind: 'other', text }
  const obj = parsed as Record<string, Json>
  const method = obj.method
  if (typeof method !== 'string') return { kind: 'other', text }
  const rawParams = obj.params
  if (rawParams !== undefined && rawParams !== null && (typeof rawParams !== 'object' || Array.isArray(rawParams))) {
    throw new ProtocolError(`params of ${method} must be an object`)
  }
  const params = (rawParams ?? {}) as Record<string, Json>
  if (obj.id !== undefined) {
    if (typeof obj.id !== 'number' || !Number.isInteger(obj.id) || obj.id <= 0) {
      throw new ProtocolError('request id must be a positive integer')
    }
    return { kind: 'request', id: obj.id, method, params }
  }
  return { kind: 'notification', method, params }
}
